"""The one start-up step the detectors need: process-wide settings no module changes at import.

:func:`prepare_detectors` (idempotent, thread-safe) is called by ``proxy.runtime.prepare_process``
(the app factory and the CLI) and, so that behaviour never depends on that call, by
:func:`proxy.detectors.pii_engine.build_analyzer`. It

* switches ``tldextract``'s module-level extractor (Presidio's e-mail recognizer calls
  ``tldextract.extract``) to the bundled public-suffix snapshot: the default one fetches the list
  over the network on first use;
* limits numpy's BLAS (OpenBLAS) to one thread: Bedside runs requests side by side, and OpenBLAS's
  own threads would spin on the other core for the small products of spaCy's NER (the same request
  cost twice the CPU time for a few hundred microseconds less wall time).

Importing any ``proxy.detectors`` module changes neither.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["offline_tldextract", "prepare_detectors"]

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
