"""How a Responses request reaches an upstream: as it is, or translated to chat completions.

:class:`ResponsesCall` is the request's :class:`~proxy.pipeline.context.UpstreamCall`: the forward
stage calls it (instead of ``upstream.chat``) with the upstream the model routes to. An upstream
whose ``responses_mode`` is ``passthrough`` or ``auto`` gets the Responses request rebuilt from
``ctx.body`` (:func:`~proxy.responses.request.to_responses`); one in ``translate`` mode, or one
that turned out to have no ``/responses``, gets a chat completions request
(:func:`~proxy.responses.translate.to_chat`) and its reply is given a response id.
"""

from __future__ import annotations

from typing import Any

from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.responses.request import ResponsesWire, to_responses
from proxy.responses.translate import responses_meta, to_chat
from proxy.upstream.openai import ResponsesNotServed

__all__ = ["ResponsesCall", "responses_mode"]


def responses_mode(upstream: Any) -> str:
    """``passthrough``, ``translate`` or ``auto`` (an upstream without the setting translates: the demo)."""
    mode = getattr(upstream, "responses_mode", "translate")
    return mode if mode in ("passthrough", "translate", "auto") else "translate"


class ResponsesCall:
    """The upstream call of one Responses request (it keeps the request's :class:`ResponsesWire`)."""

    __slots__ = ("wire",)

    def __init__(self, wire: ResponsesWire) -> None:
        self.wire = wire

    async def __call__(self, upstream: Any, ctx: RequestContext) -> Completion:
        if responses_mode(upstream) != "translate":
            try:
                completion: Completion = await upstream.responses(to_responses(ctx.body, self.wire, ctx.thread), request_id=ctx.request_id)
                return completion
            except ResponsesNotServed:
                pass  # the upstream switched itself to translate
        completion = await upstream.chat(to_chat(ctx.body, ctx.thread), request_id=ctx.request_id)
        completion.meta = responses_meta(completion.meta)
        completion.passthrough = None  # a chat body is never a Responses reply as it came
        return completion
