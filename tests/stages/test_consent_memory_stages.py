"""The consent and memory stages on their own: fail closed for consent, fail open for memory, cache."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import ConsentFact, RequestContext
from proxy.policy import PolicyStore
from proxy.privacy.pseudonyms import PseudonymVault
from proxy.stages.consent import ConsentStage
from proxy.stages.memory import MemoryStage


def _policy(tmp_path: Path, extra: str = "memory: {enabled: true}") -> Any:
    pdir = tmp_path / "p"
    pdir.mkdir(exist_ok=True)
    (pdir / "default.yaml").write_text(f"description: d\nowner: t\n{extra}\n")
    policy = PolicyStore(pdir, default_policy="default", unknown_model="fallback").current.resolve("m")
    assert policy is not None
    return policy


def _ctx(policy: Any, user: str | None = "ann") -> RequestContext:
    ctx = RequestContext("r1", "chat", {"model": "m", "messages": [{"role": "user", "content": "I'm vegetarian."}]}, {})
    ctx.policy, ctx.user_id, ctx.tenant = policy, user, "acme"
    return ctx


async def _next(ctx: RequestContext) -> Completion:
    reply = Completion.from_text("ok", model="m")
    reply.short_circuit = None  # as if the upstream answered
    return reply


class Ledger:
    def __init__(self, granted: frozenset[str] = frozenset({"memory"}), fail: bool = False) -> None:
        self.granted, self.fail, self.calls = granted, fail, 0
        self.listeners: list[Any] = []

    def on_change(self, fn: Any) -> None:
        self.listeners.append(fn)

    async def granted_purposes(self, tenant: str, user: str) -> frozenset[str]:
        self.calls += 1
        if self.fail:
            raise ConnectionError("database down")
        return self.granted


async def test_consent_fails_closed_and_a_failure_is_not_cached(tmp_path: Path) -> None:
    metrics, ledger = Metrics(), Ledger(fail=True)
    stage = ConsentStage(ledger, metrics)  # type: ignore[arg-type]
    ctx = _ctx(_policy(tmp_path))
    await stage(ctx, _next)
    assert ctx.facts["consent"] == ConsentFact(granted=frozenset(), sensitivity="standard")
    assert metrics.stage_failures.labels("consent", "closed")._value.get() == 1
    ledger.fail = False
    ctx = _ctx(_policy(tmp_path))
    await stage(ctx, _next)
    assert ctx.facts["consent"]["granted"] == {"memory"}


async def test_no_user_means_nothing_granted_and_no_query(tmp_path: Path) -> None:
    ledger = Ledger()
    ctx = _ctx(_policy(tmp_path), user=None)
    await ConsentStage(ledger, Metrics())(ctx, _next)  # type: ignore[arg-type]
    assert ctx.facts["consent"]["granted"] == frozenset() and ledger.calls == 0


async def test_a_grant_is_never_cached_so_a_withdrawal_elsewhere_applies_to_the_next_request(tmp_path: Path) -> None:
    ledger = Ledger()
    stage = ConsentStage(ledger, Metrics(), ttl=60)  # type: ignore[arg-type]
    policy = _policy(tmp_path)
    for _ in range(3):
        await stage(_ctx(policy), _next)
    assert ledger.calls == 3  # a granted user is read every time
    ledger.granted = frozenset()  # withdrawn by another replica: this process was not told
    ctx = _ctx(policy)
    await stage(ctx, _next)
    assert ctx.facts["consent"]["granted"] == frozenset()


async def test_nothing_granted_is_cached_briefly_and_dropped_by_a_decision(tmp_path: Path) -> None:
    ledger = Ledger(granted=frozenset())
    stage = ConsentStage(ledger, Metrics(), ttl=0.2)  # type: ignore[arg-type]
    policy = _policy(tmp_path)
    for _ in range(5):
        await stage(_ctx(policy), _next)
    assert ledger.calls == 1
    ledger.granted = frozenset({"memory"})
    ledger.listeners[0]("acme", "ann")  # what the ledger does after recording a grant in this process
    ctx = _ctx(policy)
    await stage(ctx, _next)
    assert ctx.facts["consent"]["granted"] == {"memory"} and ledger.calls == 2
    ledger.granted = frozenset()
    await stage(_ctx(policy), _next)  # granted: not cached, read again
    assert ledger.calls == 3
    await stage(_ctx(policy), _next)
    assert ledger.calls == 3  # nothing granted: cached
    time.sleep(0.25)
    await stage(_ctx(policy), _next)
    assert ledger.calls == 4


class BrokenStore:
    def scope(self, tenant: str, user: str) -> Any:
        from proxy.crypto.subjects import SubjectKey

        return SubjectKey(b"k" * 32).scope(tenant, user)

    async def ranked(self, scope: Any, turn: str, since: float = 0) -> Any:
        raise RuntimeError("secret detail 4417")

    async def remember(self, *a: Any, **kw: Any) -> Any:
        raise RuntimeError("secret detail 4417")


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **kw: Any) -> None:
        self.events.append((event, kw))


async def test_memory_fails_open_counting_and_logging_the_type_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = Log()
    monkeypatch.setattr("proxy.stages.memory.get_logger", lambda: log)
    metrics = Metrics()
    stage = MemoryStage(BrokenStore(), metrics)  # type: ignore[arg-type]
    ctx = _ctx(_policy(tmp_path))
    ctx.facts["consent"] = ConsentFact(granted=frozenset({"memory"}), sensitivity="standard")
    ctx.facts["pii_vault"] = PseudonymVault()
    completion = await stage(ctx, _next)
    async for _ in completion.deltas:
        pass
    assert metrics.stage_failures.labels("memory", "open")._value.get() == 2  # the read and the write
    assert ctx.decisions["memory"]["failed"] == "write"
    assert [e for e, _ in log.events] == ["memory_failed", "memory_failed"]
    assert all(kw["error_type"] == "RuntimeError" for _, kw in log.events) and "4417" not in repr(log.events)


@pytest.mark.parametrize(
    ("consent", "vault", "extra"),
    [
        (None, True, "memory: {enabled: true}"),
        (ConsentFact(granted=frozenset({"transcripts"}), sensitivity="standard"), True, "memory: {enabled: true}"),
        (ConsentFact(granted=frozenset({"memory"}), sensitivity="sensitive"), True, "memory: {enabled: true}"),
        (ConsentFact(granted=frozenset({"memory"}), sensitivity="standard"), False, "memory: {enabled: true}"),
        (ConsentFact(granted=frozenset({"memory"}), sensitivity="standard"), True, "memory: {enabled: false}"),
        (ConsentFact(granted=frozenset({"memory"}), sensitivity="standard"), True, "mode: shadow\nmemory: {enabled: true}"),
    ],
)
async def test_memory_is_inactive_unless_everything_allows_it(tmp_path: Path, consent: ConsentFact | None, vault: bool, extra: str) -> None:
    metrics = Metrics()
    stage = MemoryStage(BrokenStore(), metrics)  # type: ignore[arg-type]
    ctx = _ctx(_policy(tmp_path, extra))
    if consent is not None:
        ctx.facts["consent"] = consent
    if vault:
        ctx.facts["pii_vault"] = PseudonymVault()
    completion = await stage(ctx, _next)
    async for _ in completion.deltas:
        pass
    assert metrics.stage_failures.labels("memory", "open")._value.get() == 0  # the store was never touched
