"""OpenAI routes: chat completions (JSON and SSE), embeddings, models; everything else under /v1 is 404.

Handlers only read the body, build the ``RequestContext``, run the pipeline and encode the
``Completion``. Errors before the reply starts leave as OpenAI JSON errors with their status; after
a stream started, as an SSE error frame followed by ``[DONE]``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get, post, route
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Stream

from proxy.api.body import check_chat, check_embeddings, decode_object, read_body
from proxy.api.errors import error_response, unsupported_message
from proxy.api.requestlog import finish_request
from proxy.errors import BedsideError, ModelNotFound, NotFound, UpstreamError
from proxy.pipeline.collect import collect
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import Endpoint, RequestContext
from proxy.pipeline.sse import DONE, ChunkEncoder, error_frame
from proxy.services import Services

_encode = msgspec.json.Encoder().encode
_MODELS_TTL = 60.0


def _request_id(headers: dict[str, str]) -> str:
    given = headers.get("x-request-id")
    if given and len(given) <= 64 and given.replace("-", "").replace("_", "").isalnum():
        return given
    return os.urandom(16).hex()


def _new_context(request: Request[Any, Any, Any], endpoint: Endpoint) -> RequestContext:
    # ASGI header names are lower-case bytes already: one dict comprehension, no Headers object
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
    return RequestContext(request_id=_request_id(headers), endpoint=endpoint, body={}, headers=headers)


async def _read_request(request: Request[Any, Any, Any], services: Services, ctx: RequestContext) -> None:
    """Fill ``ctx.body`` from the request, checking size, JSON and the fields Bedside relies on."""
    endpoint = ctx.endpoint
    raw = await read_body(request, services.settings.server.max_body_bytes)
    ctx.body = decode_object(raw)
    if endpoint == "chat":
        check_chat(ctx.body)
    else:
        check_embeddings(ctx.body)
    ctx.requested_model = ctx.model


@post("/v1/chat/completions", status_code=200)
async def chat_completions(request: Request[Any, Any, Any]) -> Response[Any]:
    services: Services = request.app.state.services
    ctx = _new_context(request, "chat")
    try:
        await _read_request(request, services, ctx)
        completion = await services.pipeline(ctx)
    except BedsideError as exc:
        finish_request(services, ctx, exc.http_status, exc)
        return error_response(exc, {"x-request-id": ctx.request_id, **ctx.response_headers})
    headers = {"x-request-id": ctx.request_id, **ctx.response_headers}
    if ctx.stream:
        include_usage = bool((ctx.body.get("stream_options") or {}).get("include_usage"))
        return Stream(
            _sse(services, ctx, completion, include_usage),
            media_type="text/event-stream",
            headers={**headers, "cache-control": "no-cache", "x-accel-buffering": "no"},
        )
    try:
        body = await collect(completion)
    except BedsideError as exc:
        finish_request(services, ctx, exc.http_status, exc)
        return error_response(exc, headers)
    finish_request(services, ctx, 200)
    return Response(content=_encode(body), media_type=MediaType.JSON, headers=headers)


async def _sse(services: Services, ctx: RequestContext, completion: Completion, include_usage: bool) -> AsyncIterator[bytes]:
    encoder = ChunkEncoder(completion.meta, include_usage=include_usage)
    status = 200
    error: BedsideError | None = None
    first = True
    try:
        async for delta in completion.deltas:
            frame = encoder.encode(delta)
            if frame:
                if first:
                    first = False
                    services.metrics.ttft.observe(time.perf_counter() - ctx.started)
                yield frame
        yield DONE
    except BedsideError as exc:
        error = exc
        status = exc.http_status
        if isinstance(exc, UpstreamError):
            services.metrics.upstream_errors.labels(ctx.upstream_name or "unknown", exc.kind).inc()
        yield error_frame(exc.to_body())
        yield DONE
    except (asyncio.CancelledError, GeneratorExit):
        status = 499  # the client went away; closing the completion cancels the upstream request
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must still end the stream cleanly
        from proxy.logs import get_logger

        get_logger().error("stream_failed", request_id=ctx.request_id, exc_info=exc)
        error = BedsideError("Something went wrong inside Bedside while answering. Please try again.")
        status = 500
        yield error_frame(error.to_body())
        yield DONE
    finally:
        await completion.aclose()
        finish_request(services, ctx, status, error)


@post("/v1/embeddings", status_code=200)
async def embeddings(request: Request[Any, Any, Any]) -> Response[Any]:
    services: Services = request.app.state.services
    ctx = _new_context(request, "embeddings")
    try:
        await _read_request(request, services, ctx)
        completion = await services.pipeline(ctx)
    except BedsideError as exc:
        finish_request(services, ctx, exc.http_status, exc)
        return error_response(exc, {"x-request-id": ctx.request_id, **ctx.response_headers})
    finish_request(services, ctx, 200)
    headers = {"x-request-id": ctx.request_id, **ctx.response_headers}
    return Response(content=_encode(completion.json_body), media_type=MediaType.JSON, headers=headers)


class ModelCatalogue:
    """Model ids clients may ask for: policy aliases, then each upstream's models (cached)."""

    def __init__(self) -> None:
        self._cached: list[dict[str, Any]] = []
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def list(self, services: Services) -> list[dict[str, Any]]:
        async with self._lock:
            if time.monotonic() >= self._expires:
                found: list[dict[str, Any]] = []
                for upstream in services.router.upstreams:
                    try:
                        found.extend(await upstream.models())
                    except BedsideError:
                        continue  # readyz reports unreachable upstreams
                self._cached = found
                self._expires = time.monotonic() + _MODELS_TTL
            upstream_models = self._cached
        entries: dict[str, dict[str, Any]] = {}
        for alias in services.model_aliases():
            entries[alias] = {"id": alias, "object": "model", "created": 0, "owned_by": "bedside"}
        for m in upstream_models:
            entries.setdefault(m["id"], {"id": m["id"], "object": "model", "created": int(m.get("created") or 0), "owned_by": str(m.get("owned_by") or "upstream")})
        return list(entries.values())


@get("/v1/models")
async def list_models(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    services: Services = state.services
    services.keyring.authenticate(dict(request.headers))
    data = await state.catalogue.list(services)
    return Response(content=_encode({"object": "list", "data": data}), media_type=MediaType.JSON)


@get("/v1/models/{model_id:path}")
async def retrieve_model(request: Request[Any, Any, Any], state: State, model_id: FromPath[str]) -> Response[Any]:
    services: Services = state.services
    services.keyring.authenticate(dict(request.headers))
    model_id = model_id.lstrip("/")
    for entry in await state.catalogue.list(services):
        if entry["id"] == model_id:
            return Response(content=_encode(entry), media_type=MediaType.JSON)
    raise ModelNotFound(f"There is no model '{model_id}' here. GET /v1/models lists the models you can use.", param="model")


@route("/v1/{rest:path}", http_method=["GET", "POST", "PUT", "PATCH", "DELETE"], status_code=404)
async def unsupported(request: Request[Any, Any, Any], state: State, rest: FromPath[str]) -> Response[Any]:
    services: Services = state.services
    services.keyring.authenticate(dict(request.headers))
    raise NotFound(unsupported_message(request.url.path), code="unknown_endpoint")


ROUTES = [chat_completions, embeddings, list_models, retrieve_model, unsupported]
