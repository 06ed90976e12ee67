"""The demo model's Responses API: ``POST /v1/responses`` (JSON and typed SSE events) with stored
responses, ``previous_response_id``, ``conversation``, and ``GET`` / ``DELETE /v1/responses/{id}``.

It answers like the chat demo (``proxy.demo.replies``: names itself, counts the messages and
system guidance it received, echoes the last user message, calls a function when ``tool_choice``
forces one) and, like OpenAI, keeps what it was sent and what it answered when ``store`` is not
false, so a later request can continue with ``previous_response_id`` (instructions are not carried
over). Conversations are created on first use (a demo leniency). It reads requests with the same
mapping Bedside uses (:mod:`proxy.responses.request`) and writes replies with the same encoder.

Fault models (with ``faults``) as for chat: ``fault-500``, ``fault-429``, ``fault-400``,
``fault-garbage``, ``fault-slow``; streams ``fault-reset``, ``fault-garbage-stream``,
``fault-stall`` break after three events; ``fault-error-event`` answers with an ``error`` event
first (JSON: a ``failed`` response).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.client_exceptions import ClientConnectionResetError

from proxy.demo import replies
from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta
from proxy.responses.encode import events_from_deltas, response_from_deltas, response_object, sse_frame
from proxy.responses.request import from_responses

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_STREAM_FAULTS = ("fault-reset", "fault-garbage-stream", "fault-stall")

EarlyFault = Callable[[str, float], Awaitable[web.StreamResponse | None]]


def _error(status: int, message: str, etype: str, code: str | None = None, param: str | None = None) -> web.Response:
    return web.Response(status=status, body=_encode({"error": {"message": message, "type": etype, "param": param, "code": code}}), content_type="application/json")


class DemoResponses:
    """The routes and the in-memory store of the demo's Responses API."""

    def __init__(self, *, faults: bool, recorder: list[dict[str, Any]] | None, slow_seconds: float, early_fault: EarlyFault) -> None:
        self.faults = faults
        self.recorder = recorder
        self.slow_seconds = slow_seconds
        self.early_fault = early_fault
        #: response id -> (the conversation's messages up to and including it, the Response object)
        self.stored: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
        self.conversations: dict[str, list[dict[str, Any]]] = {}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/responses", self.create)
        app.router.add_get("/v1/responses/{response_id}", self.retrieve)
        app.router.add_delete("/v1/responses/{response_id}", self.delete)

    # ---- create ---------------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.StreamResponse:
        try:
            body = _decode(await request.read())
        except msgspec.DecodeError:
            return _error(400, "body is not JSON", "invalid_request_error")
        if not isinstance(body, dict):
            return _error(400, "body is not an object", "invalid_request_error")
        if self.recorder is not None:
            self.recorder.append({"path": request.path, "headers": dict(request.headers), "body": body})
        model = str(body.get("model") or "")
        if self.faults and model.startswith("fault-"):
            early = await self.early_fault(model, self.slow_seconds)
            if early is not None:
                return early
        chat, wire, thread = from_responses(body)
        messages = [m for m in chat["messages"] if not wire.is_instruction(m)]
        history: list[dict[str, Any]] = []
        if thread.continues is not None and thread.kind == "response":
            found = self.stored.get(thread.continues)
            if found is None:
                return _error(404, f"Previous response with id '{thread.continues}' not found.", "invalid_request_error", "previous_response_not_found", "previous_response_id")
            history = found[0]
        elif thread.continues is not None:
            history = self.conversations.setdefault(thread.continues, [])
        seen = {**chat, "messages": [*wire.instructions, *history, *messages]}
        text, call = replies.reply_text(seen), replies.tool_call(seen)
        response_id = "resp_demo_" + os.urandom(12).hex()
        said = {"role": "assistant", "content": None, "tool_calls": [call]} if call else {"role": "assistant", "content": text}
        conversation = [*history, *messages, said]
        deltas = list(_deltas(text, call, replies.usage_for(seen, "" if call else text), logprobs="message.output_text.logprobs" in (body.get("include") or ())))
        meta = {"id": response_id, "created_at": replies.now(), "model": model or replies.DEMO_MODELS[0]}
        echo = dict(wire.echo)
        if body.get("stream"):
            return await self._stream(request, model, meta, echo, deltas, lambda final: self._keep(body, thread, response_id, conversation, final))
        if self.faults and model == "fault-error-event":
            failed = response_object(meta, echo, output=[], status="failed", error={"code": "server_error", "message": "the model is overloaded"})
            return web.Response(body=_encode(failed), content_type="application/json")
        final = response_from_deltas(meta, echo, deltas)
        self._keep(body, thread, response_id, conversation, final)
        return web.Response(body=_encode(final), content_type="application/json")

    def _keep(self, body: dict[str, Any], thread: Any, response_id: str, conversation: list[dict[str, Any]], final: dict[str, Any]) -> None:
        if thread.kind == "conversation" and thread.continues is not None:
            self.conversations[thread.continues] = conversation
        if body.get("store") is not False:
            self.stored[response_id] = (conversation, final)

    async def _stream(
        self, request: web.Request, model: str, meta: dict[str, Any], echo: dict[str, Any], deltas: list[Delta], keep: Callable[[dict[str, Any]], None]
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
        await resp.prepare(request)
        try:
            if self.faults and model == "fault-error-event":
                event = {"type": "error", "code": "server_error", "message": "the model is overloaded", "param": None, "sequence_number": 0}
                await resp.write(sse_frame(event))
                return resp
            events = events_from_deltas(meta, echo, deltas)
            for i, event in enumerate(events):
                if self.faults and i == 5 and model in _STREAM_FAULTS:
                    if model == "fault-reset":
                        assert request.transport is not None
                        request.transport.abort()
                        return resp
                    if model == "fault-garbage-stream":
                        await resp.write(b"data: {this is not json\n\n")
                        return resp
                    await asyncio.sleep(self.slow_seconds)
                final = event.get("response")
                if event["type"] in ("response.completed", "response.incomplete") and isinstance(final, dict):
                    keep(final)
                await resp.write(sse_frame(event))
        except (ConnectionError, ClientConnectionResetError):
            if self.recorder is not None:
                self.recorder.append({"path": request.path, "event": "caller_disconnected", "body": {}})
        return resp

    # ---- stored ---------------------------------------------------------------------------------

    async def retrieve(self, request: web.Request) -> web.Response:
        found = self.stored.get(request.match_info["response_id"])
        if found is None:
            return _error(404, "No response with this id.", "invalid_request_error", "response_not_found", "response_id")
        return web.Response(body=_encode(found[1]), content_type="application/json")

    async def delete(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        if self.stored.pop(response_id, None) is None:
            return _error(404, "No response with this id.", "invalid_request_error", "response_not_found", "response_id")
        return web.Response(body=_encode({"id": response_id, "object": "response", "deleted": True}), content_type="application/json")


def _deltas(text: str, call: dict[str, Any] | None, usage: dict[str, int], *, logprobs: bool) -> Iterator[Delta]:
    if call is not None:
        fn = call["function"]
        yield ToolCallDelta(0, 0, call["id"], fn["name"], "", "function")
        args = fn["arguments"]
        for start in range(0, len(args), 8):
            yield ToolCallDelta(0, 0, arguments=args[start : start + 8], type=None)
    else:
        for word in replies.words(text):
            yield TextDelta(word, 0, replies.logprobs_for(word) if logprobs else None)
    yield FinishDelta("tool_calls" if call else "stop")
    yield UsageDelta(usage)

