"""Switch off everything in guardrails-ai that could reach the network: :func:`prepare_rails`.

:func:`prepare_rails` is the one start-up step of the rails: it sets the environment defaults below
and pins guardrails' settings. It must run before the first ``Guard`` or validator exists and
before anything may import litellm; it is idempotent, thread-safe and cheap after the first call.
The process start-up (``proxy.runtime.prepare_process()``) sets only the environment
(:func:`prepare_rails_environment`: a process whose policies use no rail never imports
guardrails-ai); what builds a validator calls :func:`prepare_rails` first (compiling a check,
every Bedside validator's constructor, :class:`proxy.rails.run.GuardRunner`), so nothing is built
unprepared.

Importing this module, or any module of :mod:`proxy.rails` and :mod:`proxy.checks`, changes
nothing: no environment variable, no guardrails setting. guardrails-ai itself is imported only by
the validator modules (:mod:`proxy.rails.validators`, :mod:`proxy.rails.output_validators`),
which the checks import when they are compiled, after :func:`prepare_rails`. (Importing
guardrails sets ``COLOREDLOGS_LEVEL_STYLES`` in ``os.environ`` from ``guardrails.cli.logger``;
it does not import litellm, read the network or build its telemetry.)

What guardrails-ai 0.11 would otherwise do, found by reading its installed source:

* ``guardrails.classes.rc.RC.load`` reads ``~/.guardrailsrc``; with no file ``enable_metrics``
  defaults to **True**, and every ``Guard()`` re-reads it (``Guard._load_rc``). We replace
  ``RC.load`` with a function returning ``RC(enable_metrics=False, use_remote_inferencing=False)``
  and overwrite the already-loaded ``guardrails.settings.settings.rc``.
* ``guardrails.utils.hub_telemetry_utils.HubTelemetry`` is a singleton whose first construction
  builds an OTLP/HTTP ``BatchSpanProcessor`` (a background thread) aimed at a remote endpoint,
  even when it is then disabled. We install an inert singleton (no tracer, no processor) first.
* Validators with ``use_local=False`` post to the hub inference endpoint: we force
  ``use_remote_inferencing=False`` (Bedside's validators never call out anyway).
* OpenTelemetry tracing of guard/validator runs: ``settings.disable_tracing = True`` and
  ``OTEL_SDK_DISABLED=true`` (no exporter is configured, but this also skips span work).
* litellm (imported lazily by guardrails' LLM paths) fetches a cost map unless
  ``LITELLM_LOCAL_MODEL_COST_MAP=True``.
* ``GUARDRAILS_RUN_SYNC=true`` makes ``Guard.validate`` run validators sequentially in the calling
  thread: faster (no event loop) and safe to call from a worker thread while the proxy's own event
  loop runs (the async path raises "An event loop is already running" and installs uvloop's policy
  globally).
* ``guardrails.hub`` only resolves validators from a local registry file; ``guardrails.hub.install``
  and the CLI (``guardrails configure``, version checks) reach the network only when invoked;
  Bedside never calls them. ``guardrails.api_client`` is used only with ``settings.use_server``,
  which we pin to ``False``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["offline_rc", "prepare_rails", "prepare_rails_environment"]

_lock = threading.Lock()
_done = False

_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "GUARDRAILS_RUN_SYNC": "true",
    "OTEL_SDK_DISABLED": "true",
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


def offline_rc(*_args: Any, **_kwargs: Any) -> Any:
    """Return the only guardrails ``RC`` Bedside accepts: metrics and remote inference off."""
    from guardrails.classes.rc import RC

    return RC(enable_metrics=False, use_remote_inferencing=False)


def _inert_hub_telemetry() -> None:
    from guardrails.utils.hub_telemetry_utils import HubTelemetry

    inst = HubTelemetry._instance
    if inst is None:
        inst = object.__new__(HubTelemetry)
        HubTelemetry._instance = inst
    inst._enabled = False
    inst._tracer = None
    inst._prop = None
    inst._carrier = {}
    processor = getattr(inst, "_processor", None)
    if processor is not None:  # someone built the real one before us: stop its export thread
        processor.shutdown()
        inst._processor = None


def prepare_rails_environment() -> None:
    """The environment defaults alone (no import of guardrails-ai): what the process start-up
    does, so a process whose policies use no rail never imports guardrails-ai (and litellm,
    langchain, OpenTelemetry behind it: ~60 MB resident). Idempotent; explicit operator choices
    for the OTEL, Hugging Face and litellm variables are kept; ``GUARDRAILS_RUN_SYNC`` is forced to
    ``true``, which Bedside needs."""
    for key, value in _ENV.items():
        os.environ.setdefault(key, value)
    os.environ["GUARDRAILS_RUN_SYNC"] = "true"


def prepare_rails() -> None:
    """Make guardrails-ai fully offline: no telemetry, no metrics, no remote inference.

    Idempotent and thread-safe. Sets the environment defaults (:func:`prepare_rails_environment`),
    then imports guardrails-ai and pins its settings. Called where guardrails-ai is needed: when a
    check is compiled, by every validator and by the guard runner.
    """
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        prepare_rails_environment()
        from guardrails.classes.rc import RC
        from guardrails.settings import settings

        RC.load = staticmethod(offline_rc)
        settings.rc = offline_rc()
        settings.disable_tracing = True
        settings.use_server = False
        _inert_hub_telemetry()
        _done = True
