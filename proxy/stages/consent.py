"""Consent stage: what this user allows now, and how sensitive this conversation is.

Reads: ``ctx.tenant`` and ``ctx.user_id`` (identity), the consent ledger (one indexed query; a
user with *nothing* granted is cached per (tenant, user) for at most ``ttl`` seconds, dropped at
once when this process records a decision; a user with a grant is read on every request), ``X-Bedside-Sensitivity`` or ``metadata.bedside_sensitivity`` (``standard``,
``sensitive``, ``no-store``; the stricter when both are sent; else the policy's
``memory.default_sensitivity``).
Writes: ``ctx.facts["consent"]`` (granted purposes, sensitivity); removes ``bedside_sensitivity``
from ``metadata`` (it is for Bedside, not the model); decision ``consent``.
Short-circuits: never. An unknown sensitivity is 400 ``invalid_sensitivity``.

Fails **closed for consent**: without a user id nothing is granted, and when the ledger cannot be
read nothing is granted either (the request goes on without memory; the failure is logged with the
exception type only and counted as ``bedside_stage_failures_total{stage="consent",mode="closed"}``).
A failure is never cached, so the next request asks again.

**Withdrawal applies to the next request on every replica**: a grant is never served from the cache,
so a withdrawal recorded by any process is read by the next request anywhere (bench/scale.py
measures it). Only the harmless direction waits: a new grant reaches another replica's requests
within ``ttl`` (1 s by default), during which it serves that user without memory, as before the
grant. Most requests come from users without a grant (or without a user id), and those stay cached.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, cast, get_args

from proxy.errors import InvalidRequest
from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import ConsentFact, RequestContext, Sensitivity
from proxy.pipeline.stage import Next
from proxy.privacy.consent import ConsentLedger

SENSITIVITIES: tuple[str, ...] = get_args(Sensitivity)
HEADER = "x-bedside-sensitivity"
METADATA_KEY = "bedside_sensitivity"
DEFAULT_TTL = 1.0
_MAX_CACHED = 10_000


class ConsentStage:
    name: ClassVar[str] = "consent"

    def __init__(self, ledger: ConsentLedger, metrics: Metrics, *, ttl: float = DEFAULT_TTL) -> None:
        self._ledger = ledger
        self._metrics = metrics
        self._ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        ledger.on_change(self.invalidate)

    def invalidate(self, tenant: str, user: str) -> None:
        """Forget the cached state of one user (called by the ledger after every decision)."""
        self._cache.pop((tenant, user.strip()), None)

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        policy = ctx.require_policy()
        sensitivity = _sensitivity(ctx, policy.memory.default_sensitivity)
        granted = await self._granted(ctx)
        ctx.facts["consent"] = ConsentFact(granted=granted, sensitivity=sensitivity)
        ctx.decide(self.name, granted=sorted(granted), sensitivity=sensitivity)
        return await call_next(ctx)

    async def _granted(self, ctx: RequestContext) -> frozenset[str]:
        user = (ctx.user_id or "").strip()
        if not user:
            return frozenset()
        key = (ctx.tenant, user)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            granted = await self._ledger.granted_purposes(ctx.tenant, user)
        except Exception as exc:  # noqa: BLE001 - fail closed: a consent we cannot read is not granted
            self._metrics.stage_failures.labels(self.name, "closed").inc()
            ctx.decide(self.name, failed=type(exc).__name__)
            get_logger().warning("consent_read_failed", stage=self.name, error_type=type(exc).__name__)
            return frozenset()
        if self._ttl > 0 and not granted:  # a cached grant would outlive a withdrawal made on another replica
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            self._cache[key] = (now + self._ttl, granted)
        return granted


def _sensitivity(ctx: RequestContext, default: str) -> Sensitivity:
    """The header and the metadata field; when both are given the stricter one wins."""
    given: list[tuple[str, Any]] = []
    if HEADER in ctx.headers:
        given.append(("X-Bedside-Sensitivity", ctx.headers[HEADER]))
    metadata = ctx.body.get("metadata")
    if isinstance(metadata, dict) and METADATA_KEY in metadata:
        given.append(("metadata.bedside_sensitivity", metadata.pop(METADATA_KEY)))
        if not metadata:
            ctx.body.pop("metadata", None)
    levels: list[str] = []
    for param, value in given:
        if not isinstance(value, str) or value.strip().lower() not in SENSITIVITIES:
            raise InvalidRequest(f"{param} must be one of {', '.join(SENSITIVITIES)}.", param=param, code="invalid_sensitivity")
        levels.append(value.strip().lower())
    return cast(Sensitivity, max(levels, key=SENSITIVITIES.index) if levels else default)
