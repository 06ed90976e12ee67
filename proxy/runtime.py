"""The one start-up step of a Bedside process: :func:`prepare_process`.

Importing a Bedside module changes nothing outside it (no environment variables, no patched
libraries, no thread limits). Whatever the process needs before the first request is done here,
once, by the code that starts the process: :func:`proxy.app.create_app` calls it first, and so
does the ``bedside`` command before it serves or builds the app or the detectors.

What it does today:

* guardrails-ai offline (telemetry, metrics and remote inference off; ``GUARDRAILS_RUN_SYNC`` and
  the OTEL / litellm / Hugging Face offline variables set): :func:`proxy.rails.guardrails_setup.disable_guardrails_network`;
* the module-level ``tldextract`` extractor that Presidio's e-mail recognizer uses switched to the
  bundled suffix list, so the first e-mail never fetches it: :func:`proxy.detectors.pii_engine.offline_tldextract`.

numpy's BLAS is limited to one thread by :func:`proxy.detectors.spacy_ops.use_numpy_blas` when the
PII analyzer is built (not at import), so it is not repeated here.

Idempotent and thread-safe: the second and later calls return at once.
"""

from __future__ import annotations

import threading

__all__ = ["prepare_process", "prepared"]

_lock = threading.Lock()
_prepared = False


def prepare_process() -> None:
    """Make the process ready for Bedside (see the module docstring). Safe to call many times."""
    global _prepared
    if _prepared:
        return
    with _lock:
        if _prepared:
            return
        # At the merge of the rails and detectors refactors switch these two calls to
        # ``proxy.rails.guardrails_setup.prepare_rails()`` and
        # ``proxy.detectors.setup.prepare_detectors()``, which take over what these do.
        from proxy.detectors.pii_engine import offline_tldextract
        from proxy.rails.guardrails_setup import disable_guardrails_network

        disable_guardrails_network()
        offline_tldextract()
        _prepared = True


def prepared() -> bool:
    """Whether :func:`prepare_process` has run in this process."""
    return _prepared
