"""The audit entry of one finished request, built from its context (no content, subjects hashed).

Called once per request from the place its log line is written (``proxy/api/requestlog.py``).
Every string field is a machine value: Bedside's own names and ids as they are, anything else
(a tenant or model name with spaces, say) as ``h:`` and its SHA-256 prefix, so a request can never
fail to be recorded because of what a client sent. The stages' decisions pass through
:func:`~proxy.audit.events.machine_values`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from proxy.audit.events import RequestEvent, machine_values
from proxy.crypto.subjects import conversation_subject
from proxy.pipeline.context import RequestContext

_TOKEN = re.compile(r"^[A-Za-z0-9_.:/+@\-]{1,128}$")


def token(value: object) -> str | None:
    """``value`` when it is token-shaped, else ``h:`` and the first 16 hex of its SHA-256; None stays None."""
    if value is None:
        return None
    text = str(value)
    if _TOKEN.match(text):
        return text
    return "h:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def request_event(ctx: RequestContext, status: int, *, error_code: str | None, model: str | None, subject: str | None, subject_key: Any, elapsed: float) -> RequestEvent:
    """The ``request`` entry of ``ctx``. ``subject``: the user's keyed HMAC (None without a user)."""
    policy = ctx.policy
    conversation = None
    if subject_key is not None and ctx.conversation_id:
        conversation = conversation_subject(subject_key, ctx.tenant, ctx.conversation_id)
    decisions = machine_values({k: v for k, v in ctx.decisions.items() if k != "audit"})
    gate = ctx.decisions.get("audit")
    if gate:
        decisions["audit"] = {"on_failure": gate.get("on_failure")}
    # every field is shaped above (tokens, HMACs, machine values): built without validating again,
    # which costs more than the rest of the entry on the request path
    return RequestEvent.trusted(
        request_id=token(ctx.request_id) or "unknown",
        endpoint=ctx.endpoint,
        status=status,
        stream=ctx.stream,
        error_code=token(error_code),
        tenant=token(ctx.tenant) or "unknown",
        subject=subject,
        conversation=conversation,
        model=token(model),
        policy=token(getattr(policy, "name", None)),
        policy_version=token(getattr(policy, "version_header", None)),
        upstream=token(ctx.upstream_name),
        upstream_status=ctx.upstream_status,
        latency_ms=round(elapsed * 1000, 3),
        decisions=decisions,
    )
