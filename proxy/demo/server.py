"""``bedside demo-upstream``: the demo replies served as an OpenAI-compatible HTTP server.

Chat completions, embeddings, models, and (unless ``responses=False``) the Responses API with stored
responses (:mod:`proxy.demo.responses_server`, which takes the same fault models).

Also the fake upstream of the end-to-end tests and benchmarks. With ``faults=True`` it misbehaves on
request, chosen by the model name, so tests can drive every upstream failure through a real socket:

==========================  ==================================================================
model                       behaviour
==========================  ==================================================================
``fault-500``               HTTP 500 with an OpenAI error body
``fault-429``               HTTP 429 with an OpenAI error body
``fault-400``               HTTP 400 ``invalid_request_error`` naming ``param``
``fault-garbage``           HTTP 200 with a body that is not JSON
``fault-slow``              waits ``slow_seconds`` before answering
``fault-reset``             streams a few chunks, then drops the connection
``fault-garbage-stream``    streams a few chunks, then a line that is not JSON
``fault-stall``             streams a few chunks, then goes silent for ``slow_seconds``
``fault-error-event``       a stream whose first event is an error object (JSON: 200 + error)
==========================  ==================================================================

Every request body can be recorded (``recorder``) so tests see exactly what reached the model.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.client_exceptions import ClientConnectionResetError

from proxy.demo import replies
from proxy.demo.responses_server import DemoResponses

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def _error(status: int, message: str, etype: str, code: str | None = None, param: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": etype, "param": param, "code": code}}
    return web.Response(status=status, body=_encode(body), content_type="application/json")


def build_app(*, faults: bool = False, recorder: list[dict[str, Any]] | None = None, slow_seconds: float = 5.0, responses: bool = True) -> web.Application:
    """The aiohttp application of the demo upstream (``responses``: serve the Responses API too,
    :mod:`proxy.demo.responses_server`; without it the server is chat-only, like many local servers)."""

    async def chat(request: web.Request) -> web.StreamResponse:
        try:
            body = _decode(await request.read())
        except msgspec.DecodeError:
            return _error(400, "body is not JSON", "invalid_request_error")
        if not isinstance(body, dict):
            return _error(400, "body is not an object", "invalid_request_error")
        if recorder is not None:
            recorder.append({"path": request.path, "headers": dict(request.headers), "body": body})
        model = str(body.get("model") or "")
        if faults and model.startswith("fault-"):
            early = await _early_fault(model, slow_seconds)
            if early is not None:
                return early
        if not body.get("stream"):
            if faults and model == "fault-error-event":
                # some servers answer 200 with an error object instead of a completion
                return web.Response(body=_encode({"error": {"message": "the model is overloaded", "type": "server_error", "param": None, "code": None}}), content_type="application/json")
            return web.Response(body=_encode(replies.chat_body(body)), content_type="application/json")
        resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
        await resp.prepare(request)
        if faults and model == "fault-error-event":
            await resp.write(b'data: {"error": {"message": "the model is overloaded", "type": "server_error", "code": null, "param": null}}\n\n')
            return resp
        try:
            for i, chunk in enumerate(replies.chat_chunks(body)):
                if faults and i == 3 and model in ("fault-reset", "fault-garbage-stream", "fault-stall"):
                    if model == "fault-reset":
                        assert request.transport is not None
                        request.transport.abort()
                        return resp
                    if model == "fault-garbage-stream":
                        await resp.write(b"data: {this is not json\n\n")
                        return resp
                    await asyncio.sleep(slow_seconds)
                await resp.write(b"data: " + _encode(chunk) + b"\n\n")
            await resp.write(b"data: [DONE]\n\n")
        except (ConnectionError, ClientConnectionResetError):
            # the caller (Bedside) went away mid-stream: record it for the cancellation tests
            if recorder is not None:
                recorder.append({"path": request.path, "event": "caller_disconnected", "body": {}})
        return resp

    async def embeddings(request: web.Request) -> web.Response:
        try:
            body = _decode(await request.read())
        except msgspec.DecodeError:
            return _error(400, "body is not JSON", "invalid_request_error")
        if recorder is not None:
            recorder.append({"path": request.path, "headers": dict(request.headers), "body": body})
        return web.Response(body=_encode(replies.embeddings_body(body)), content_type="application/json")

    async def models(request: web.Request) -> web.Response:
        return web.Response(body=_encode(replies.models_body()), content_type="application/json")

    async def recorded(request: web.Request) -> web.Response:
        if request.method == "DELETE":
            assert recorder is not None
            recorder.clear()
        return web.Response(body=_encode(recorder or []), content_type="application/json")

    app = web.Application(client_max_size=64 * 1024 * 1024)
    if recorder is not None:
        app.router.add_route("GET", "/_recorded", recorded)
        app.router.add_route("DELETE", "/_recorded", recorded)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_get("/v1/models", models)
    if responses:
        DemoResponses(faults=faults, recorder=recorder, slow_seconds=slow_seconds, early_fault=_early_fault).add_routes(app)
    return app


async def _early_fault(model: str, slow_seconds: float) -> web.StreamResponse | None:
    if model == "fault-500":
        return _error(500, "The server had an error while processing your request.", "server_error")
    if model == "fault-429":
        return _error(429, "Rate limit reached for requests.", "requests", code="rate_limit_exceeded")
    if model == "fault-400":
        return _error(400, "Invalid value for 'temperature'.", "invalid_request_error", code="invalid_value", param="temperature")
    if model == "fault-garbage":
        return web.Response(body=b"<html>502 Bad Gateway</html>", content_type="application/json")
    if model == "fault-slow":
        await asyncio.sleep(slow_seconds)
    return None


def run(host: str, port: int, *, faults: bool = False, record: bool = False, slow_seconds: float = 5.0, responses: bool = True) -> None:
    """Serve the demo upstream until interrupted (``faults``/``record``: the test harness modes;
    ``responses`` false: chat completions only)."""
    modes = [m for m, on in (("faults", faults), ("recording at /_recorded", record), ("chat completions only", not responses)) if on]
    extra = f"; {', '.join(modes)}" if modes else ""
    print(f"Bedside demo upstream on http://{host}:{port}/v1 (offline, deterministic{extra}; Ctrl+C to stop)", flush=True)
    app = build_app(faults=faults, recorder=[] if record else None, slow_seconds=slow_seconds, responses=responses)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
