"""The one start-up step of a Bedside process: :func:`prepare_process`.

Importing a Bedside module changes nothing outside it (no environment variables, no patched
libraries, no thread limits). Whatever the process needs before the first request is done here,
once, by the code that starts the process: :func:`proxy.app.create_app` calls it first, and so
does the ``bedside`` command before it serves or builds the app or the detectors.

What it does today:

* guardrails-ai offline (telemetry, metrics and remote inference off; ``GUARDRAILS_RUN_SYNC`` and
  the OTEL / litellm / Hugging Face offline variables set): :func:`proxy.rails.guardrails_setup.prepare_rails`;
* the detectors' process-wide settings: the ``tldextract`` extractor that Presidio's e-mail
  recognizer uses switched to the bundled suffix list (the first e-mail never fetches it) and
  numpy's BLAS limited to one thread: :func:`proxy.detectors.setup.prepare_detectors`.

Both are idempotent themselves, and the builders that need them call them too, so a library user
who builds a detector or a rails stage without this step still gets an offline process.

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
        from proxy.detectors.setup import prepare_detectors
        from proxy.rails.guardrails_setup import prepare_rails

        prepare_rails()
        prepare_detectors()
        _prepared = True


def prepared() -> bool:
    """Whether :func:`prepare_process` has run in this process."""
    return _prepared
