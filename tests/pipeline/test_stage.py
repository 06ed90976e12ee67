"""``Pipeline``: stages compose outermost first around the terminal, time themselves, may answer
without the upstream, and let errors travel outwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest

from proxy.errors import PolicyRefusal, UpstreamTimeout
from proxy.pipeline.collect import collect
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta
from proxy.pipeline.stage import Next, Pipeline, Readiness, Stage


def _ctx() -> RequestContext:
    return RequestContext(request_id="r1", endpoint="chat", body={"model": "m", "messages": []}, headers={})


class Recorder:
    """A stage that notes when it enters and leaves, and may edit the body on the way in."""

    def __init__(self, name: str, log: list[str], *, edit: dict[str, Any] | None = None) -> None:
        self.name = name
        self._log = log
        self._edit = edit or {}

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        self._log.append(f"> {self.name}")
        ctx.body.update(self._edit)
        try:
            return await call_next(ctx)
        finally:
            self._log.append(f"< {self.name}")


class Terminal:
    """The upstream stand-in: records the body it was given and answers ``text``."""

    def __init__(self, log: list[str], text: str = "from upstream", *, delay: float = 0.0, error: Exception | None = None) -> None:
        self.log = log
        self.text = text
        self.delay = delay
        self.error = error
        self.bodies: list[dict[str, Any]] = []

    async def __call__(self, ctx: RequestContext) -> Completion:
        self.log.append("terminal")
        self.bodies.append(dict(ctx.body))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return Completion.from_text(self.text, model=ctx.model, short_circuit="")


async def _text(completion: Completion) -> str:
    body = await collect(completion)
    return str(body["choices"][0]["message"]["content"])


async def test_stages_run_outermost_first_around_the_terminal() -> None:
    log: list[str] = []
    terminal = Terminal(log)
    pipeline = Pipeline([Recorder("a", log), Recorder("b", log), Recorder("c", log)], terminal)
    assert [s.name for s in pipeline.stages] == ["a", "b", "c"]
    reply = await pipeline(_ctx())
    assert log == ["> a", "> b", "> c", "terminal", "< c", "< b", "< a"]
    assert await _text(reply) == "from upstream"


async def test_an_empty_pipeline_is_the_terminal() -> None:
    log: list[str] = []
    reply = await Pipeline([], Terminal(log, "direct"))(_ctx())
    assert log == ["terminal"] and await _text(reply) == "direct"


async def test_body_edits_reach_the_stages_inside_and_the_terminal() -> None:
    log: list[str] = []
    terminal = Terminal(log)
    seen: list[Any] = []

    class Reader:
        name: ClassVar[str] = "reader"

        async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
            seen.append(ctx.body.get("model"))
            return await call_next(ctx)

    await Pipeline([Recorder("route", log, edit={"model": "upstream-model"}), Reader()], terminal)(_ctx())
    assert seen == ["upstream-model"]
    assert terminal.bodies[0]["model"] == "upstream-model"


async def test_a_stage_answers_without_the_upstream() -> None:
    log: list[str] = []
    terminal = Terminal(log)

    class Refuse:
        name: ClassVar[str] = "refuse"

        async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
            return Completion.from_text("I can't help with that here.", model=ctx.model, finish_reason="content_filter", short_circuit="refuse", n=2)

    ctx = _ctx()
    reply = await Pipeline([Recorder("outer", log), Refuse(), Recorder("inner", log)], terminal)(ctx)
    assert log == ["> outer", "< outer"]  # neither the stage inside nor the upstream ran
    assert terminal.bodies == []
    assert reply.short_circuit == "refuse"
    body = await collect(reply)
    assert [c["finish_reason"] for c in body["choices"]] == ["content_filter", "content_filter"]
    assert {c["message"]["content"] for c in body["choices"]} == {"I can't help with that here."}
    assert body["model"] == "m" and body["id"].startswith("chatcmpl-bedside-")
    assert set(ctx.timings) == {"outer", "refuse"}


async def test_an_error_before_the_reply_travels_outwards_through_every_stage() -> None:
    log: list[str] = []

    class Reject:
        name: ClassVar[str] = "reject"

        async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
            raise PolicyRefusal("not with this policy")

    ctx = _ctx()
    with pytest.raises(PolicyRefusal):
        await Pipeline([Recorder("outer", log), Reject(), Recorder("inner", log)], Terminal(log))(ctx)
    assert log == ["> outer", "< outer"]
    assert set(ctx.timings) == {"outer", "reject"}  # timed even when it raised


async def test_an_upstream_error_can_be_handled_by_an_outer_stage() -> None:
    log: list[str] = []

    class Fallback:
        name: ClassVar[str] = "fallback"

        async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
            try:
                return await call_next(ctx)
            except UpstreamTimeout:
                return Completion.from_text("The model is slow today.", model=ctx.model)

    reply = await Pipeline([Fallback(), Recorder("inner", log)], Terminal(log, error=UpstreamTimeout("slow")))(_ctx())
    assert await _text(reply) == "The model is slow today."
    assert log == ["> inner", "terminal", "< inner"]


async def test_each_stage_is_timed_without_the_stages_inside_it() -> None:
    class Slow:
        def __init__(self, name: str, seconds: float) -> None:
            self.name = name
            self.seconds = seconds

        async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
            await asyncio.sleep(self.seconds)
            return await call_next(ctx)

    ctx = _ctx()
    await Pipeline([Slow("outer", 0.02), Slow("inner", 0.06)], Terminal([], delay=0.1))(ctx)
    assert set(ctx.timings) == {"outer", "inner"}
    assert 0.015 <= ctx.timings["outer"] < 0.06  # not the 0.18 s the whole call took
    assert 0.05 <= ctx.timings["inner"] < 0.15


async def test_the_reply_is_wrapped_after_the_stages_returned() -> None:
    """Output work happens in delta wrappers, which run when the route reads the reply."""

    class Shout:
        name: ClassVar[str] = "shout"

        async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
            reply = await call_next(ctx)

            async def upper(deltas: AsyncIterator[Delta]) -> AsyncIterator[Delta]:
                async for d in deltas:
                    yield TextDelta(d.text.upper(), d.choice) if isinstance(d, TextDelta) else d

            return reply.map_deltas(upper)

    reply = await Pipeline([Shout()], Terminal([], "quiet please"))(_ctx())
    deltas = [d async for d in reply.deltas]
    assert deltas[0] == TextDelta("QUIET PLEASE", 0)
    assert FinishDelta("stop", 0) in deltas


def test_stage_and_readiness_are_structural() -> None:
    class Ready:
        name: ClassVar[str] = "ready"

        async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
            return await call_next(ctx)

        def readiness(self) -> dict[str, Any]:
            return {"ok": True, "degraded": False, "detail": "ok"}

    assert isinstance(Ready(), Stage) and isinstance(Ready(), Readiness)
    assert isinstance(Recorder("plain", []), Stage) and not isinstance(Recorder("plain", []), Readiness)
