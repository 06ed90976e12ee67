"""The output rails engine on its own: compiled rules applied to replies by the hold-back processors,
without a pipeline (the stage's tests in tests/stages/test_output_rails.py cover the wiring)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from proxy.checks.output_rails import compile_output_rails
from proxy.checks.output_scan import DECISION, OutputScan, ReaskNeeded
from proxy.metrics import Metrics
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta
from proxy.rails.metrics import RailsMetrics

Make = Callable[[str], Any]
REFUSAL = "[refused]"


def _scan(policy: Any, *, enforce: bool = True, allow_reask: bool = False, messages: list[dict[str, Any]] | None = None) -> OutputScan:
    ctx = RequestContext(request_id="r", endpoint="chat", body={"messages": messages or []}, headers={})
    ctx.policy = policy
    return OutputScan(compile_output_rails(policy), ctx, RailsMetrics(Metrics()), enforce=enforce, allow_reask=allow_reask, refusal=REFUSAL, handoff_text="[person]")


async def _run(scan: OutputScan, pieces: list[str]) -> str:
    async def source() -> AsyncIterator[Delta]:
        for piece in pieces:
            yield TextDelta(piece)
        yield FinishDelta("stop")

    return "".join([d.text async for d in scan.run(source(), 1) if isinstance(d, TextDelta)])


async def test_the_personas_phrases_are_blocked_without_a_rail(make_policy: Make) -> None:
    policy = make_policy("persona: {forbidden_phrases: [calm down]}")
    scan = _scan(policy)
    assert await _run(scan, ["Please ca", "lm down, we will fix it."]) == f"Please {REFUSAL}"
    assert scan.ctx.decisions[DECISION]["failures"] == [{"check": "forbidden_phrases", "action": "block", "reasons": ["forbidden_phrase"]}]


async def test_a_declared_rail_takes_the_personas_phrases_with_its_action(make_policy: Make) -> None:
    policy = make_policy("persona: {forbidden_phrases: [calm down]}\nrails: {output: [{check: forbidden_phrases, action: fix}]}")
    assert [r.check for r in compile_output_rails(policy).rules] == ["forbidden_phrases"]  # once, not twice
    assert await _run(_scan(policy), ["Please calm down. ", "It is on its way."]) == "Please. It is on its way."


async def test_shadow_records_and_changes_nothing(make_policy: Make) -> None:
    policy = make_policy("persona: {forbidden_phrases: [calm down]}")
    scan = _scan(policy, enforce=False)
    assert await _run(scan, ["Please calm down."]) == "Please calm down."
    assert scan.ctx.decisions[DECISION]["failures"][0]["action"] == "would_block"


@pytest.mark.parametrize(
    ("rails", "reply", "want"),
    [
        ("[{check: over_empathy, action: fix, max_apologies: 1}]", ["I'm sorry. ", "I apologize for the delay. It ships today."], "I'm sorry. It ships today."),
        ("[{check: pii_leak, action: fix}]", ["Write to bob@example.com today."], "Write to <EMAIL_ADDRESS> today."),
        ("[{check: persona_drift, action: block}]", ["Sure. As an AI language model I can't."], f"Sure. {REFUSAL}"),
        ("[{check: required_disclosure, action: fix}]", ["Hello there."], "I'm Ava.\n\nHello there."),
    ],
)
async def test_fix_and_block(make_policy: Make, rails: str, reply: list[str], want: str) -> None:
    policy = make_policy(f"persona: {{disclosure: {{text: \"I'm Ava.\", when: first_turn}}}}\nrails: {{output: {rails}}}")
    assert await _run(_scan(policy), reply) == want


async def test_the_disclosure_is_due_on_the_first_turn_only(make_policy: Make) -> None:
    policy = make_policy("persona: {disclosure: {text: \"I'm Ava.\", when: first_turn}}\nrails: {output: [{check: required_disclosure, action: fix}]}")
    later = _scan(policy, messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
    assert await _run(later, ["Hello there."]) == "Hello there."


async def test_reask_raises_when_allowed_and_blocks_otherwise(make_policy: Make) -> None:
    policy = make_policy("rails: {output: [{check: forbidden_phrases, action: reask, phrases: [guaranteed refund]}]}")
    assert compile_output_rails(policy).reask
    with pytest.raises(ReaskNeeded) as raised:
        await _run(_scan(policy, allow_reask=True), ["A guaranteed refund."])
    assert raised.value.check == "forbidden_phrases" and "guaranteed refund" in raised.value.correction
    assert await _run(_scan(policy), ["A guaranteed refund."]) == f"A {REFUSAL}"


async def test_nothing_to_do(make_policy: Make) -> None:
    rules = compile_output_rails(make_policy("rails: {output: [{check: forbidden_phrases}, {check: required_disclosure}]}"))
    assert rules.empty and not rules.reask
