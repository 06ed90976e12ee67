"""Analyzers shared by the tests of one session: spaCy loads once however many modules need it.

Production code has no such cache (whoever builds a ``PiiEngine`` owns its analyzer); tests share
these through the session fixtures of ``tests/detectors/conftest.py`` or, from other directories,
by calling the functions (``PiiEngine.from_model(MODEL, analyzer=ner_analyzer)``).
"""

from __future__ import annotations

from functools import cache

from proxy.detectors.pii_engine import DEFAULT_MODEL, AnalyzerHandle, build_analyzer


@cache
def ner_analyzer() -> AnalyzerHandle:
    """Presidio with the default spaCy model."""
    return build_analyzer(DEFAULT_MODEL)


@cache
def patterns_analyzer() -> AnalyzerHandle:
    """Presidio with pattern recognizers only (no model)."""
    return build_analyzer(None)
