"""Output rails through the real pipeline: every chunk split, stream and JSON giving the same verdict,
fixes, tool-call arguments, reask bounded to one extra call, handoff and shadow mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta
from proxy.testing import splits
from tests.stages.rails_harness import Harness, write_policy

PROMPT = "You are Ava, Acme's customer-service assistant. You help customers with orders, deliveries and refunds for Acme products only."
REFUSAL = "Sorry, I can't say that here."
HANDOFF = "A person will take it from here."


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("rails-output")
    microcopy = f"""
    microcopy:
      texts:
        en: {{refusal: "{REFUSAL}", handoff: "{HANDOFF}"}}
    """
    write_policy(
        d,
        "default",
        f"""
    persona:
      system_prompt: "{PROMPT}"
    rails:
      output:
        - {{check: forbidden_phrases, action: block, phrases: ["guaranteed refund"]}}
        - {{check: persona_drift, action: block}}
        - {{check: system_prompt_leak, action: block}}
    {microcopy}
    """,
    )
    write_policy(
        d,
        "fixer",
        f"""
    routing: {{aliases: [fixer]}}
    persona:
      disclosure: {{text: "I'm Ava, an AI assistant.", when: first_turn}}
    rails:
      output:
        - {{check: forbidden_phrases, action: fix, phrases: ["calm down"]}}
        - {{check: pii_leak, action: fix}}
        - {{check: over_empathy, action: fix, max_apologies: 1}}
        - {{check: required_disclosure, action: fix}}
    {microcopy}
    """,
    )
    write_policy(
        d,
        "reasker",
        f"""
    routing: {{aliases: [reasker]}}
    rails:
      output:
        - {{check: forbidden_phrases, action: reask, phrases: ["guaranteed refund"]}}
    {microcopy}
    """,
    )
    write_policy(
        d,
        "handoffer",
        f"""
    routing: {{aliases: [handoffer]}}
    rails:
      output:
        - {{check: forbidden_phrases, action: handoff, phrases: ["guaranteed refund"]}}
    {microcopy}
    """,
    )
    write_policy(
        d,
        "shadowed",
        f"""
    routing: {{aliases: [shadowed]}}
    mode: shadow
    rails:
      output:
        - {{check: forbidden_phrases, action: block, phrases: ["guaranteed refund"]}}
        - {{check: pii_leak, action: fix}}
    {microcopy}
    """,
    )
    return d


@pytest.fixture
def harness(policy_dir: Path) -> Harness:
    return Harness(policy_dir, input_rails=False)


BANNED = [
    ("forbidden_phrases", "guaranteed refund"),
    ("persona_drift", "as an AI language model"),
    ("system_prompt_leak", "my instructions are"),
]


@pytest.mark.parametrize(("check", "phrase"), BANNED)
async def test_every_split_of_a_banned_phrase_is_stopped_the_same_way(harness: Harness, check: str, phrase: str) -> None:
    reply = f"Sure. {phrase.capitalize()}: no. Bye."
    whole = await harness.ask("hi", reply=[reply])
    assert whole.finish == "content_filter"
    assert whole.text == f"Sure. {REFUSAL}"
    assert whole.ctx.decisions["output_rails"]["failures"] == [{"check": check, "action": "block", "reasons": ["leak_phrase" if check == "system_prompt_leak" else "forbidden_phrase"]}]
    start = reply.index(phrase.capitalize())
    for cut in range(start, start + len(phrase) + 1):  # every position inside the phrase, and its edges
        streamed = await harness.ask("hi", stream=True, reply=[reply[:cut], reply[cut:]])
        assert (streamed.text, streamed.finish) == (whole.text, whole.finish), f"split at {cut}"
        assert phrase.lower() not in streamed.text.lower()


async def test_three_way_splits_of_a_phrase(harness: Harness) -> None:
    phrase = "guaranteed refund"
    reply = f"It is a {phrase}."
    whole = await harness.ask("hi", reply=[reply])
    start = reply.index(phrase)
    seen = 0
    for parts in splits(reply, three=True):
        if len(parts) == 3 and start <= len(parts[0]) <= start + len(phrase) and len(parts[0]) + len(parts[1]) <= start + len(phrase) + 1:
            streamed = await harness.ask("hi", stream=True, reply=parts)
            assert (streamed.text, streamed.finish) == (whole.text, "content_filter")
            seen += 1
    assert seen > 100


async def test_prompt_overlap_is_a_leak_at_every_split(harness: Harness) -> None:
    reply = "Of course. " + PROMPT[:90] + " and more."
    whole = await harness.ask("hi", reply=[reply])
    assert whole.finish == "content_filter" and whole.text == f"Of course. {REFUSAL}"
    for parts in splits(reply):
        streamed = await harness.ask("hi", stream=True, reply=parts)
        assert (streamed.text, streamed.finish) == (whole.text, whole.finish), parts


async def test_harmless_near_misses_pass(harness: Harness) -> None:
    for reply in ["A refund is guaranteed for damaged items.", "As an AI assistant from Acme, I can help.", "I can't share my instructions, but I can help with your order."]:
        for stream in (False, True):
            got = await harness.ask("hi", stream=stream, reply=reply.split(" ") and [reply[:9], reply[9:]])
            assert (got.text, got.finish) == (reply, "stop")


FIX_REPLY = "I'm Ava, an AI assistant. I'm so sorry for the delay. Please calm down. I apologize for the inconvenience. Write to bob.canary@example.com today."
FIXED = "I'm Ava, an AI assistant. I'm so sorry for the delay. Please. Write to <EMAIL_ADDRESS> today."


async def test_fixes_rewrite_spans_identically_at_every_split(harness: Harness) -> None:
    whole = await harness.ask("hi", model="fixer", reply=[FIX_REPLY])
    assert (whole.text, whole.finish) == (FIXED, "stop")
    checks = [f["check"] for f in whole.ctx.decisions["output_rails"]["failures"]]
    assert checks == ["forbidden_phrases", "over_empathy", "pii_leak"]
    for parts in splits(FIX_REPLY):
        streamed = await harness.ask("hi", model="fixer", stream=True, reply=parts)
        assert (streamed.text, streamed.finish) == (FIXED, "stop"), parts


async def test_required_disclosure_is_prepended_on_the_first_turn_only(harness: Harness) -> None:
    for stream in (False, True):
        got = await harness.ask("hi", model="fixer", stream=stream, reply=["Hello, ", "how can I help?"])
        assert got.text == "I'm Ava, an AI assistant.\n\nHello, how can I help?"
        later = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "and?"}]
        got = await harness.ask(later, model="fixer", stream=stream, reply=["Sure."])
        assert got.text == "Sure."


async def test_over_empathy_capitalises_what_follows_a_removed_apology(harness: Harness) -> None:
    reply = "I'm Ava, an AI assistant. I'm sorry. I'm sorry, your parcel left today."
    for stream in (False, True):
        got = await harness.ask("hi", model="fixer", stream=stream, reply=[reply])
        assert got.text == "I'm Ava, an AI assistant. I'm sorry. Your parcel left today."


async def test_tool_call_arguments_are_checked_like_text(harness: Harness) -> None:
    args = '{"note": "guaranteed refund approved"}'
    whole = await harness.ask("hi", reply=["Let me check."], tool_args=[args])
    assert whole.finish == "content_filter"
    assert "guaranteed refund" not in whole.tool_args
    for parts in splits(args):
        streamed = await harness.ask("hi", stream=True, reply=["Let me check."], tool_args=parts)
        assert streamed.finish == "content_filter"
        assert "guaranteed refund" not in streamed.tool_args + streamed.text
    pii = '{"email": "bob.canary@example.com"}'
    for stream in (False, True):
        fixed = await harness.ask("hi", model="fixer", stream=stream, reply=["I'm Ava, an AI assistant. Checking."], tool_args=[pii[:15], pii[15:]])
        assert fixed.tool_args == '{"email": "<EMAIL_ADDRESS>"}'


async def test_reask_calls_the_upstream_once_more_with_the_problem_named(harness: Harness) -> None:
    harness.upstream.bodies.clear()
    got = await harness.ask("hi", model="reasker", replies=[["You get a guaranteed refund."], ["Refunds take 5 days."]])
    assert (got.text, got.finish) == ("Refunds take 5 days.", "stop")
    assert len(harness.upstream.bodies) == 2
    correction = harness.upstream.bodies[1]["messages"][-1]
    assert correction["role"] == "system" and correction["content"].startswith("[bedside:rails]")
    assert '"guaranteed refund"' in correction["content"]
    assert got.ctx.decisions["output_rails"]["reask"] == "forbidden_phrases"


async def test_reask_is_bounded_to_one_extra_call_then_blocks(harness: Harness) -> None:
    harness.upstream.bodies.clear()
    got = await harness.ask("hi", model="reasker", replies=[["A guaranteed refund."], ["Still a guaranteed refund."]])
    assert (got.text, got.finish) == (f"Still a {REFUSAL}", "content_filter")
    assert len(harness.upstream.bodies) == 2


async def test_reask_on_a_stream_acts_as_block(harness: Harness) -> None:
    harness.upstream.bodies.clear()
    got = await harness.ask("hi", model="reasker", stream=True, replies=[["A guaranteed ", "refund."]])
    assert (got.text, got.finish) == (f"A {REFUSAL}", "content_filter")
    assert len(harness.upstream.bodies) == 1


async def test_handoff_on_output_ends_with_the_handoff_text(harness: Harness) -> None:
    for stream in (False, True):
        got = await harness.ask("hi", model="handoffer", stream=stream, reply=["Yes, a guaranteed refund."])
        assert (got.text, got.finish) == (f"Yes, a {HANDOFF}", "content_filter")
        assert got.ctx.response_headers["x-bedside-rails"] == "handoff"
    assert harness.counter("bedside_handoffs_total", policy="handoffer", reason="forbidden_phrases") == 2


async def test_shadow_mode_records_and_changes_nothing(harness: Harness) -> None:
    reply = "A guaranteed refund to bob.canary@example.com."
    for stream in (False, True):
        got = await harness.ask("hi", model="shadowed", stream=stream, reply=[reply[:10], reply[10:]])
        assert (got.text, got.finish) == (reply, "stop")
        actions = [f["action"] for f in got.ctx.decisions["output_rails"]["failures"]]
        assert actions == ["would_block", "would_fix"]


async def test_verdict_metrics_and_no_text_in_decisions(harness: Harness) -> None:
    await harness.ask("hi", reply=["All good here."])
    await harness.ask("hi", reply=["A guaranteed refund."])
    assert harness.counter("bedside_rails_verdicts_total", policy="default", direction="output", check="forbidden_phrases", verdict="pass") == 1
    assert harness.counter("bedside_rails_verdicts_total", policy="default", direction="output", check="forbidden_phrases", verdict="fail") == 1
    got = await harness.ask("hi", reply=["A guaranteed refund to bob.canary@example.com."])
    assert "refund" not in str(got.ctx.decisions) and "canary" not in str(got.ctx.decisions)


async def test_the_window_holds_only_what_may_still_become_a_match(policy_dir: Path) -> None:
    """Time to first token grows by the window: plain words are released as soon as they end."""
    from proxy.checks.output_scan import OutputScan

    harness = Harness(policy_dir, input_rails=False)
    ctx_policy = harness.store.current.resolve("m")
    stage_rules = harness.pipeline.stages[-1].rules_for(ctx_policy)  # type: ignore[attr-defined]
    from proxy.pipeline.context import RequestContext

    ctx = RequestContext(request_id="r", endpoint="chat", body={"messages": [], "stream": True}, headers={})
    ctx.policy = ctx_policy
    scan = OutputScan(stage_rules, ctx, harness.rails_metrics, enforce=True, allow_reask=False, refusal="no", handoff_text="h")
    released: list[str] = []

    async def source() -> AsyncIterator[Delta]:
        for piece in ["Your parcel ", "left the depot ", "this morning, a guaran", "teed refund"]:
            yield TextDelta(piece)
            released.append("|")
        yield FinishDelta("stop")

    out: list[str] = []
    async for d in scan.run(source(), 1):
        if isinstance(d, TextDelta):
            out.append(d.text)
            released.append(d.text)
    assert released[:4] == ["Your parcel ", "|", "left the depot ", "|"]
    assert "".join(out) == "Your parcel left the depot this morning, a no"
