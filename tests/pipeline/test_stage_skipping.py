"""A stage with nothing to do under a policy is left out of that policy's chain, and sitting a
policy out changes nothing: every real stage the pipeline leaves out for an example policy, run
anyway under it, passes the request straight on without a decision, fact, header or body change."""

from __future__ import annotations

import asyncio
import copy
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Next, Pipeline, applies
from proxy.services import build_services
from proxy.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


class Named:
    """A stage that notes that it ran; ``sits_out``: what its own ``applies`` answers (None: it has none)."""

    def __init__(self, name: str, log: list[str], sits_out: bool | None = None) -> None:
        self.name = name
        self._log = log
        if sits_out is not None:
            self.applies = lambda policy: not sits_out

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        self._log.append(self.name)
        return await call_next(ctx)


class Selector:
    name: ClassVar[str] = "policy"
    selects_policy: ClassVar[bool] = True

    def __init__(self, policy: Any, log: list[str]) -> None:
        self.policy = policy
        self._log = log

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        self._log.append(self.name)
        ctx.policy = self.policy
        return await call_next(ctx)


async def _terminal(ctx: RequestContext) -> Completion:
    return Completion.from_text("ok", model="m")


def _ctx() -> RequestContext:
    return RequestContext(request_id="r1", endpoint="chat", body={"model": "m", "messages": []}, headers={})


def _policy(**sections: bool) -> Any:
    return SimpleNamespace(**{name: SimpleNamespace(enabled=on) for name, on in sections.items()})


def test_stages_that_sit_a_policy_out_are_neither_run_nor_timed() -> None:
    log: list[str] = []
    policy = _policy(emotion=False, pii=True)
    stages = [Named("identity", log), Selector(policy, log), Named("emotion", log), Named("pii", log), Named("rails", log, sits_out=True), Named("consent", log)]
    pipeline = Pipeline(stages, _terminal)
    ctx = _ctx()
    asyncio.run(pipeline(ctx))
    assert log == ["identity", "policy", "pii", "consent"]
    assert set(ctx.timings) == {"identity", "policy", "pii", "consent"}
    assert pipeline.chain(policy) == ("pii", "consent")


def test_each_policy_object_gets_its_own_chain_and_no_policy_runs_every_stage() -> None:
    log: list[str] = []
    selector = Selector(_policy(pii=False), log)
    pipeline = Pipeline([selector, Named("pii", log)], _terminal)
    asyncio.run(pipeline(_ctx()))
    assert log == ["policy"]
    selector.policy = _policy(pii=True)  # a reload: a new policy object, a new chain
    asyncio.run(pipeline(_ctx()))
    assert log == ["policy", "policy", "pii"]
    selector.policy = None  # policies off: nothing is left out
    asyncio.run(pipeline(_ctx()))
    assert log[-2:] == ["policy", "pii"]
    assert applies(Named("pii", log), None)


def test_stages_before_the_policy_is_known_always_run() -> None:
    log: list[str] = []
    pipeline = Pipeline([Named("pii", log), Selector(_policy(pii=False), log)], _terminal)
    asyncio.run(pipeline(_ctx()))
    assert log == ["pii", "policy"]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real stages, over the example policies plus the benchmark's pass-through and shadow variants."""
    tmp = tmp_path_factory.mktemp("skipping")
    policies = tmp / "policies"
    shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("tests"))
    (policies / "passthrough.yaml").write_text("description: every optional section off\nowner: tests\nrouting: {aliases: [passthrough]}\n")
    (policies / "shadowed.yaml").write_text("description: the default in shadow mode\nowner: tests\nextends: default\nmode: shadow\nrouting: {aliases: [shadowed]}\n")
    (policies / "closed.yaml").write_text("description: audit fail closed\nowner: tests\nrouting: {aliases: [closed]}\naudit: {on_failure: fail_closed}\n")
    settings = Settings(data_dir=tmp / "data", upstream_url="http://upstream.invalid/v1", policy={"directory": policies, "watch": False}, pii={"model": None})
    built = build_services(settings)
    yield built
    built.engine.dispose()


def _request(policy: Any) -> RequestContext:
    body = {"model": "m", "user": "u1", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "My name is Ann Smith, mail ann@example.com. I am furious!"}]}
    ctx = RequestContext(request_id="r1", endpoint="chat", body=body, headers={"x-bedside-sensitivity": "standard"})
    ctx.tenant, ctx.user_id, ctx.conversation_id, ctx.policy = "t1", "u1", "conv-1", policy
    return ctx


def test_every_stage_left_out_would_have_passed_the_request_straight_on(services: Any) -> None:
    current = services.policies.current
    assert set(current.policies) >= {"default", "passthrough", "shadowed", "closed"}
    left_out = 0
    for policy in current.policies.values():
        if policy.abstract:
            continue
        chain = services.pipeline.chain(policy)
        for stage in services.pipeline.stages:
            if stage.name not in {s.name for s in services.pipeline._per_policy} or stage.name in chain:
                continue
            left_out += 1
            ctx = _request(policy)
            before = copy.deepcopy((ctx.body, ctx.decisions, dict(ctx.facts), ctx.response_headers, ctx.conversation_id))
            sentinel = Completion.from_text("from inside", model="m")
            seen: list[RequestContext] = []

            async def inner(c: RequestContext, sentinel: Completion = sentinel, seen: list[RequestContext] = seen) -> Completion:
                seen.append(c)
                return sentinel

            got = asyncio.run(stage(ctx, inner))
            assert got is sentinel and seen == [ctx], (policy.name, stage.name)
            assert (ctx.body, ctx.decisions, dict(ctx.facts), ctx.response_headers, ctx.conversation_id) == before, (policy.name, stage.name)
    assert left_out >= 6


def test_the_pass_through_chain_and_the_default_one(services: Any) -> None:
    current = services.policies.current
    assert services.pipeline.chain(current.policies["passthrough"]) == ("consent", "transcripts")
    assert services.pipeline.chain(current.policies["closed"])[0] == "audit"
    default = services.pipeline.chain(current.policies["default"])
    assert {"consent", "pii", "transcripts", "input_rails", "output_rails"} <= set(default) and "audit" not in default
