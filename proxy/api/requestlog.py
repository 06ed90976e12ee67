"""The one log line, the metrics and the audit entry of each request (no content, subjects hashed).

Every request the chat and embeddings routes accept ends here exactly once, however it ends: a
reply, a ``BedsideError``, an unexpected exception (status 500, logged by exception type only), or
a client that went away (499). It is also where a request's decisions are final (a stream's output
rails have seen the whole reply), so the conversation's outcome facts are handed to the outcome
writer here (``services.outcomes.record``: no text, no database call on the event loop; see
docs/kpis.md).

The line also carries what the stages did, as the summary headers say it (``clamps``, ``pii``,
``tone``: counts and names the policy defines, see :mod:`proxy.pipeline.summary`).

Its audit entry is queued here too (``services.audit``; never waited for: the writer thread
writes it), with the stages' decisions.

Client-chosen strings are logged only when they cannot carry personal data: the requested
``model`` verbatim when it is a policy alias, a model an upstream is configured for, or has the
shape of a model name (see :func:`loggable_model`); otherwise ``"h:"`` and its keyed hash. The
request id is the client's ``X-Request-ID`` only when that looks random; otherwise Bedside's own,
with the client's hashed in ``client_request_id``.
"""

from __future__ import annotations

import re
import time

from proxy import logs
from proxy.audit.request_event import request_event
from proxy.errors import BedsideError
from proxy.logs import get_logger
from proxy.pipeline.context import RequestContext
from proxy.pipeline.summary import SUMMARY_HEADERS
from proxy.services import Services

_LOG = get_logger()

#: the shape of a model name: short, no spaces, no '@' (e-mail), no '+' (phone)
_MODEL_SHAPE = re.compile(r"^[A-Za-z0-9._:/-]{1,64}$")
#: release dates inside model names (gpt-4o-2024-08-06, claude-3-5-sonnet-20241022)
_DATE = re.compile(r"(?:19|20)\d\d[-._]?(?:0[1-9]|1[0-2])[-._]?(?:0[1-9]|[12]\d|3[01])")
#: six or more digits, single separators allowed between them (phone, account or card numbers)
_NUMBER = re.compile(r"\d(?:[-._:/]?\d){5,}")


def model_has_safe_shape(model: str) -> bool:
    """Whether a model name has a shape that cannot carry a phone number, e-mail or sentence."""
    return _MODEL_SHAPE.match(model) is not None and _NUMBER.search(_DATE.sub("D", model)) is None


def _configured_models(services: Services) -> set[str]:
    names = set(services.model_aliases())
    for upstream in services.settings.all_upstreams():
        names.update(m for m in upstream.models if "*" not in m)
    return names


def loggable_model(services: Services, model: str | None) -> str | None:
    """The model name as the log may carry it: verbatim when known or model-shaped, else hashed."""
    if not model:
        return None
    if model_has_safe_shape(model) or model in _configured_models(services):
        return model
    return f"h:{services.hasher(model)}"


def finish_request(
    services: Services, ctx: RequestContext, status: int, error: BedsideError | None = None, *, exc_type: str | None = None, endpoint: str | None = None
) -> None:
    """Count and log one finished request. ``exc_type``: the type name of an unexpected exception;
    ``endpoint``: the API the client spoke when it is not ``ctx.endpoint`` (``responses``)."""
    elapsed = time.perf_counter() - ctx.started
    m = services.metrics
    label = endpoint or ctx.endpoint
    m.child(m.requests, label, str(status)).inc()
    m.child(m.latency, label, "true" if ctx.stream else "false").observe(elapsed)
    for stage, seconds in ctx.timings.items():
        m.child(m.stage_seconds, stage).observe(seconds)
    if services.outcomes is not None:
        services.outcomes.record(ctx, status)  # every decision is final here; the write happens in the writer thread
    if services.audit is not None:
        _audit(services, ctx, status, error, elapsed)
    if not logs.INFO_ENABLED:
        return
    log = _LOG
    policy = getattr(ctx.policy, "name", None)
    fields = {
        "request_id": ctx.request_id,
        "endpoint": label,
        "status": status,
        "duration_ms": round(elapsed * 1000, 3),
        "stream": ctx.stream,
        "model": loggable_model(services, ctx.requested_model or ctx.model),
        "policy": policy,
        "tenant": ctx.tenant,
        "user": services.hasher(ctx.user_id),
        "conversation": services.hasher(ctx.conversation_id),
        "upstream": ctx.upstream_name,
        "stages_ms": {k: round(v * 1000, 3) for k, v in ctx.timings.items()},
    }
    for header, name in SUMMARY_HEADERS.items():  # what the stages did: counts and rule names only
        value = ctx.response_headers.get(header)
        if value is not None:
            fields[name] = value
    client_id = ctx.headers.get("x-request-id")
    if client_id and client_id != ctx.request_id:
        fields["client_request_id"] = f"h:{services.hasher(client_id)}"
    if exc_type is not None:
        fields["exc_types"] = [exc_type]
    if error is not None:
        log.info("request", error_kind=error.kind, error_code=error.code, **fields)
    else:
        log.info("request", **fields)


def _audit(services: Services, ctx: RequestContext, status: int, error: BedsideError | None, elapsed: float) -> None:
    """Queue the request's audit entry (a slot reserved by the audit stage is used, never dropped)."""
    audit = services.audit
    assert audit is not None
    reserved = bool(ctx.decisions.get("audit", {}).get("reserved"))
    try:
        event = request_event(
            ctx,
            status,
            error_code=error.code if error is not None else None,
            model=loggable_model(services, ctx.requested_model or ctx.model),
            subject=audit.subject(ctx.tenant, ctx.user_id),
            subject_key=audit.subjects,
            elapsed=elapsed,
        )
    except Exception as exc:  # noqa: BLE001 - a bug here must not fail the request; it is counted and logged
        if reserved:
            audit.release()
        services.metrics.audit_dropped.inc()
        _LOG.error("audit_event_failed", request_id=ctx.request_id, error_type=type(exc).__name__)
        return
    audit.submit(event, reserved=reserved)
