"""The one start-up step the detectors need: process-wide settings no module changes at import.

:func:`prepare_detector_environment` is what ``proxy.runtime.prepare_process`` (the app factory
and the CLI) calls: the BLAS thread limit as an environment default, nothing imported.
:func:`prepare_detectors` (idempotent, thread-safe) is called by
:func:`proxy.detectors.pii_engine.build_analyzer` when Presidio is built. It

* switches ``tldextract``'s module-level extractor (Presidio's e-mail recognizer calls
  ``tldextract.extract``) to the bundled public-suffix snapshot: the default one fetches the list
  over the network on first use;
* limits numpy's BLAS (OpenBLAS) to one thread: Bedside runs requests side by side, and OpenBLAS's
  own threads would spin on the other core for the small products of spaCy's NER (the same request
  cost twice the CPU time for a few hundred microseconds less wall time).

Importing any ``proxy.detectors`` module changes neither.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["UNUSED_BY_NLP", "offline_tldextract", "prepare_detector_environment", "prepare_detectors", "without_unused_libraries"]

_LOCK = threading.Lock()
_state = {"prepared": False}


def offline_tldextract() -> Any:
    """Make the module-level ``tldextract.extract`` use the bundled suffix list (idempotent);
    returns the extractor in use."""
    import tldextract
    import tldextract.tldextract as tld_module

    with _LOCK:
        current = tld_module.TLD_EXTRACTOR
        if not current.suffix_list_urls and getattr(current, "_bedside_offline", False):
            return current
        offline = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)
        offline("example.com")  # load the snapshot now, not inside the first request
        offline._bedside_offline = True  # type: ignore[attr-defined]  # marker for idempotence
        tld_module.TLD_EXTRACTOR = offline
        return offline


def _limit_blas_threads() -> None:
    import numpy  # noqa: F401  # loads OpenBLAS, so that the limit applies to it
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def prepare_detector_environment() -> None:
    """What the process start-up does for the detectors without importing them: OpenBLAS limited
    to one thread through ``OPENBLAS_NUM_THREADS`` (read when numpy first loads; an operator's own
    value is kept), or with threadpoolctl when numpy is already loaded. A process whose policies
    use no model then never imports numpy or tldextract (~20 MB resident); the builders of the
    detectors call :func:`prepare_detectors` (the suffix list, and the limit again) themselves."""
    import os
    import sys

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if "numpy" in sys.modules and not _state["prepared"]:
        with _LOCK:
            if not _state["prepared"]:
                _limit_blas_threads()
                _state["prepared"] = True


def prepare_detectors() -> None:
    """Offline suffix list for tldextract and one BLAS thread; safe to call any number of times
    from any thread (the work is done once)."""
    offline_tldextract()  # cheap when done: checks the extractor in place
    if _state["prepared"]:
        return
    with _LOCK:
        if _state["prepared"]:
            return
        _limit_blas_threads()
        _state["prepared"] = True


#: Libraries that spaCy's thinc and Presidio import merely because they are installed (a
#: development environment has them for the evaluation tools; the runtime lock does not): Bedside's
#: NER runs on numpy (:mod:`proxy.detectors.spacy_ops`) and never calls them. Loaded, torch and
#: transformers keep ~500 MB resident for the life of the process.
UNUSED_BY_NLP = ("torch", "transformers")


@contextmanager
def without_unused_libraries(names: tuple[str, ...] = UNUSED_BY_NLP) -> Iterator[None]:
    """While building the PII analyzer, make ``import torch`` (and the other ``names``) fail as
    if they were not installed, so thinc and Presidio take their torch-less paths (thinc's
    ``has_torch`` is False; Presidio's device is ``cpu``). Names already imported are left alone,
    and afterwards the names are importable again (a plugged-in classifier may use torch)."""
    hidden = [n for n in names if n not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not importable" marker
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
