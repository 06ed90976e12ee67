"""The one start-up step of a Bedside process: :func:`prepare_process`.

Importing a Bedside module changes nothing outside it (no environment variables, no patched
libraries, no thread limits). Whatever the process needs before the first request is done here,
once, by the code that starts the process: :func:`proxy.app.create_app` calls it first, and so
does the ``bedside`` command before it serves or builds the app or the detectors.

What it does today:

* guardrails-ai's environment (``GUARDRAILS_RUN_SYNC`` and the OTEL / litellm / Hugging Face
  offline variables): :func:`proxy.rails.guardrails_setup.prepare_rails_environment`; guardrails-ai
  itself is imported and pinned offline (telemetry, metrics and remote inference off) by
  :func:`~proxy.rails.guardrails_setup.prepare_rails` when the first rail is compiled, so a process
  whose policies use no rail never loads it;
* the detectors' process-wide settings: numpy's BLAS limited to one thread
  (:func:`proxy.detectors.setup.prepare_detector_environment`, an environment default read when
  numpy loads). The ``tldextract`` extractor that Presidio's e-mail recognizer uses is switched to
  the bundled suffix list when Presidio is built (:func:`proxy.detectors.setup.prepare_detectors`,
  called by ``build_analyzer``), so the first e-mail never fetches it.

Nothing here imports a model library: a process whose policies use no model never loads one.

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
        from proxy.detectors.setup import prepare_detector_environment
        from proxy.rails.guardrails_setup import prepare_rails_environment

        prepare_rails_environment()  # guardrails-ai itself is imported and pinned when a rail is compiled
        prepare_detector_environment()  # tldextract is made offline when Presidio is built
        _prepared = True


def prepared() -> bool:
    """Whether :func:`prepare_process` has run in this process."""
    return _prepared
