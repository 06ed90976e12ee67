"""The hold-back window: nothing unchecked is released, at every chunk split, in both modes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest

from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta
from proxy.pipeline.holdback import WindowResult, windowed
from proxy.testing import splits

BANNED = "as an AI language model"
TEXT = f"Sure. {BANNED}, I cannot feel. Anyway here is help."


async def _gen(items: Sequence[Delta]) -> AsyncIterator[Delta]:
    for item in items:
        yield item


def _ban(pending: str, final: bool) -> WindowResult:
    pos = pending.lower().find(BANNED.lower())
    if pos >= 0:
        return WindowResult(pending[:pos], stop="I'm sorry, I can't continue with that.")
    return WindowResult(pending, hold=len(BANNED) - 1)


def _restore(pending: str, final: bool) -> WindowResult:
    text = pending.replace("<P_1>", "Ada")
    start = text.rfind("<")
    hold = len(text) - start if start >= 0 and ">" not in text[start:] and len(text) - start < 5 else 0
    return WindowResult(text, hold=hold)


async def _run(pieces: Sequence[str], proc, **kw) -> list[Delta]:
    deltas: list[Delta] = [TextDelta(p) for p in pieces] + [FinishDelta("stop"), UsageDelta({"total_tokens": 1})]
    return [d async for d in windowed(_gen(deltas), proc, **kw)]


def _text(out: Sequence[Delta]) -> str:
    return "".join(d.text for d in out if isinstance(d, TextDelta))


@pytest.mark.parametrize("pieces", list(splits(TEXT)))
async def test_banned_phrase_split_anywhere_never_reaches_the_client(pieces: list[str]) -> None:
    out = await _run(pieces, _ban)
    released = _text(out)
    assert BANNED.lower() not in released.lower()
    assert released == "Sure. I'm sorry, I can't continue with that."
    assert [d.reason for d in out if isinstance(d, FinishDelta)] == ["content_filter"]
    # every released text delta came before the stop: nothing after content_filter
    assert isinstance(out[-1], FinishDelta)


@pytest.mark.parametrize("pieces", list(splits("Hello <P_1>, bye <P_1>.", three=True)))
async def test_placeholder_split_anywhere_is_restored_whole(pieces: list[str]) -> None:
    out = await _run(pieces, _restore)
    assert _text(out) == "Hello Ada, bye Ada."
    assert all("<" not in d.text for d in out if isinstance(d, TextDelta))
    assert isinstance(out[-2], FinishDelta) and isinstance(out[-1], UsageDelta)


async def test_clean_text_passes_unchanged_and_releases_early() -> None:
    pieces = ["Hello there, ", "this is a perfectly ", "ordinary reply ", "with nothing to hide."]
    out = await _run(pieces, _ban)
    assert _text(out) == "".join(pieces)
    # the first release happens before the last piece arrived (time to first token stays small)
    first_text = next(i for i, d in enumerate(out) if isinstance(d, TextDelta))
    assert first_text < len(pieces)


async def test_tool_call_arguments_are_windowed_per_call() -> None:
    deltas: list[Delta] = [
        ToolCallDelta(0, 0, "c1", "lookup", '{"who": "<P'),
        ToolCallDelta(0, 0, None, None, '_1>"}', None),
        ToolCallDelta(1, 0, "c2", "other", '{"x": 1}'),
        FinishDelta("tool_calls"),
    ]
    out = [d async for d in windowed(_gen(deltas), None, _restore)]
    calls: dict[int, str] = {}
    for d in out:
        if isinstance(d, ToolCallDelta):
            calls[d.index] = calls.get(d.index, "") + d.arguments
    assert calls == {0: '{"who": "Ada"}', 1: '{"x": 1}'}
    assert [d.id for d in out if isinstance(d, ToolCallDelta) and d.id] == ["c1", "c2"]


async def test_stop_closes_the_upstream_iterator() -> None:
    closed = []

    async def upstream() -> AsyncIterator[Delta]:
        try:
            yield TextDelta(f"{BANNED} ")
            for _ in range(1000):
                yield TextDelta("more ")
        finally:
            closed.append(True)

    out = [d async for d in windowed(upstream(), _ban)]
    assert closed == [True]
    assert isinstance(out[-1], FinishDelta) and out[-1].reason == "content_filter"


async def test_a_reply_read_whole_goes_to_the_processor_once() -> None:
    calls: list[tuple[str, bool]] = []

    def proc(pending: str, final: bool) -> WindowResult:
        calls.append((pending, final))
        return _ban(pending, final)

    pieces = ["Sure. as an ", "AI language ", "model, I cannot feel."]
    whole = await _run(pieces, proc, whole=True)
    assert calls == [("".join(pieces), True)]  # once, whole, at the end: not once per delta
    assert _text(whole) == _text(await _run(pieces, _ban)) == "Sure. I'm sorry, I can't continue with that."
