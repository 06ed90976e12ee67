"""Session-wide analyzers for the detector tests (see ``tests/detectors/analyzers.py``)."""

from __future__ import annotations

import pytest

from proxy.detectors.pii_engine import AnalyzerHandle
from tests.detectors.analyzers import ner_analyzer, patterns_analyzer


@pytest.fixture(scope="session")
def ner_handle() -> AnalyzerHandle:
    return ner_analyzer()


@pytest.fixture(scope="session")
def patterns_handle() -> AnalyzerHandle:
    return patterns_analyzer()
