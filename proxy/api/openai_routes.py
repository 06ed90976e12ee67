"""OpenAI routes: chat completions (JSON and SSE), embeddings, models; everything else under /v1 is 404.

Handlers only read the body, build the ``RequestContext``, run the pipeline and encode the
``Completion``. Errors before the reply starts leave as OpenAI JSON errors with their status; after
a stream started, as an SSE error frame followed by ``[DONE]``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get, post, route
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Stream

from proxy.api.body import check_chat, check_embeddings, check_media_type, decode_object, read_body
from proxy.api.errors import error_response, internal_error, unsupported_message
from proxy.api.requestlog import finish_request
from proxy.auth import check_single_credential
from proxy.errors import BedsideError, ModelNotFound, NotFound, UpstreamError, UpstreamStatusError
from proxy.ids import random_hex
from proxy.logs import get_logger
from proxy.pipeline.collect import collect
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import Endpoint, RequestContext
from proxy.pipeline.sse import DONE, ChunkEncoder, error_frame
from proxy.services import Services

_encode = msgspec.json.Encoder().encode
_MODELS_TTL = 60.0


#: a client's X-Request-ID is echoed back only in this shape
_ECHO_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
#: runs that look like words or names (letters) or phone numbers and dates (digits)
_WORDLIKE = re.compile(r"[A-Za-z]{7,}|[0-9]{8,}")


def _random_looking(value: str) -> bool:
    """Whether a client's request id looks like a random token (a UUID, or 16+ mixed letters and
    digits without word- or phone-like runs) rather than something that could be personal data."""
    if _UUID.match(value):
        return True
    return (
        16 <= len(value) <= 64
        and _ECHO_ID.match(value) is not None
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and _WORDLIKE.search(value) is None
    )


def _request_ids(headers: dict[str, str]) -> tuple[str, str]:
    """(the id Bedside uses in logs, audit and upstream calls, the id echoed to the client).

    A client's ``X-Request-ID`` is echoed when it has a safe shape, and used as the request's own id
    only when it looks random: a phone number or a name sent as an id never reaches the logs (the
    request line carries it hashed, as ``client_request_id``)."""
    ours = random_hex(16)  # from a pooled os.urandom block (proxy.ids: no GIL hand-over per request)
    given = headers.get("x-request-id")
    if not given or _ECHO_ID.match(given) is None:
        return ours, ours
    return (given if _random_looking(given) else ours), given


def _new_context(request: Request[Any, Any, Any], endpoint: Endpoint) -> tuple[RequestContext, dict[str, str]]:
    """The request's context and the headers every reply to it carries (``x-request-id``)."""
    # ASGI header names are lower-case bytes already: one dict comprehension, no Headers object
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
    request_id, echoed = _request_ids(headers)
    ctx = RequestContext(request_id=request_id, endpoint=endpoint, body={}, headers=headers)
    return ctx, {"x-request-id": echoed}


def _authenticate(request: Request[Any, Any, Any], services: Services, headers: Mapping[str, str]) -> str:
    """One credential (400 when two differ), and a valid one (401): before anything else is read."""
    check_single_credential(request.scope["headers"])
    return services.keyring.authenticate_scoped(headers, "chat")


async def _read_request(request: Request[Any, Any, Any], services: Services, ctx: RequestContext) -> None:
    """Authenticate, then fill ``ctx.body`` from the request: media type, encoding, size, JSON and
    the fields Bedside relies on. The identity stage authenticates again (it owns ``ctx.tenant``)."""
    ctx.tenant = _authenticate(request, services, ctx.headers)
    check_media_type(ctx.headers)
    raw = await read_body(request, services.settings.server.max_body_bytes)
    ctx.body = decode_object(raw)
    if ctx.endpoint == "chat":
        check_chat(ctx.body)
    else:
        check_embeddings(ctx.body)
    ctx.requested_model = ctx.model


def _internal_error(services: Services, ctx: RequestContext, exc: BaseException, headers: dict[str, str]) -> Response[Any]:
    """An unexpected exception before the reply: logged by type only (its message may quote the
    input), counted and logged as a 500 request, answered with a kind OpenAI error."""
    get_logger().error("request_failed", request_id=ctx.request_id, endpoint=ctx.endpoint, error_type=type(exc).__name__)
    err = internal_error(exc)
    finish_request(services, ctx, err.http_status, err, exc_type=type(exc).__name__)
    return error_response(err, {**headers, **ctx.response_headers})


@post("/v1/chat/completions", status_code=200)
async def chat_completions(request: Request[Any, Any, Any]) -> Response[Any]:
    services: Services = request.app.state.services
    ctx, headers = _new_context(request, "chat")
    completion: Completion | None = None
    try:
        await _read_request(request, services, ctx)
        completion = await services.pipeline(ctx)
        headers = {**headers, **ctx.response_headers}
        if ctx.stream:
            options = ctx.body.get("stream_options")
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            stream = Stream(
                _sse(services, ctx, completion, include_usage),
                media_type="text/event-stream",
                headers={**headers, "cache-control": "no-cache", "x-accel-buffering": "no"},
            )
            completion = None  # the stream owns it now: _sse closes it and logs the request
            return stream
        body = await collect(completion)  # closes the completion
        completion = None
    except BedsideError as exc:
        finish_request(services, ctx, exc.http_status, exc)
        return error_response(exc, {**headers, **ctx.response_headers}, upstream_detail=services.settings.server.upstream_error_detail)
    except asyncio.CancelledError:
        finish_request(services, ctx, 499)  # the client went away before the reply
        raise
    except Exception as exc:  # noqa: BLE001 - a bug still ends as a logged, counted, kind 500
        return _internal_error(services, ctx, exc, headers)
    finally:
        if completion is not None:
            await completion.aclose()
    finish_request(services, ctx, 200)
    return Response(content=_encode(body), media_type=MediaType.JSON, headers=headers)


async def _sse(services: Services, ctx: RequestContext, completion: Completion, include_usage: bool) -> AsyncIterator[bytes]:
    encoder = ChunkEncoder(completion.meta, include_usage=include_usage)
    status = 200
    error: BedsideError | None = None
    exc_type: str | None = None
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
        yield error_frame(exc.to_body() if not isinstance(exc, UpstreamStatusError) else exc.to_body(detail=services.settings.server.upstream_error_detail))
        yield DONE
    except (asyncio.CancelledError, GeneratorExit):
        status = 499  # the client went away; closing the completion cancels the upstream request
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must still end the stream cleanly
        get_logger().error("stream_failed", request_id=ctx.request_id, error_type=type(exc).__name__)
        error = internal_error(exc)
        exc_type = type(exc).__name__
        status = error.http_status
        yield error_frame(error.to_body())
        yield DONE
    finally:
        await completion.aclose()
        finish_request(services, ctx, status, error, exc_type=exc_type)


@post("/v1/embeddings", status_code=200)
async def embeddings(request: Request[Any, Any, Any]) -> Response[Any]:
    services: Services = request.app.state.services
    ctx, headers = _new_context(request, "embeddings")
    try:
        await _read_request(request, services, ctx)
        completion = await services.pipeline(ctx)
        content = _encode(completion.json_body)
    except BedsideError as exc:
        finish_request(services, ctx, exc.http_status, exc)
        return error_response(exc, {**headers, **ctx.response_headers}, upstream_detail=services.settings.server.upstream_error_detail)
    except asyncio.CancelledError:
        finish_request(services, ctx, 499)
        raise
    except Exception as exc:  # noqa: BLE001 - a bug still ends as a logged, counted, kind 500
        return _internal_error(services, ctx, exc, headers)
    finish_request(services, ctx, 200)
    return Response(content=content, media_type=MediaType.JSON, headers={**headers, **ctx.response_headers})


class ModelCatalogue:
    """Model ids clients may ask for: policy aliases, then each upstream's models that a policy
    serves (cached): without a default policy only the aliases are listed."""

    def __init__(self) -> None:
        self._cached: list[dict[str, Any]] = []
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def list(self, services: Services, tenant: str | None = None) -> list[dict[str, Any]]:
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
        for alias in services.model_aliases(tenant):
            entries[alias] = {"id": alias, "object": "model", "created": 0, "owned_by": "bedside"}
        policies = services.policies.current if services.policies is not None else None
        for m in upstream_models:
            if policies is not None and policies.resolve(m["id"], tenant) is None:
                continue  # no policy serves it (no default policy, or not in its allowed_models): asking for it is a 404
            entries.setdefault(m["id"], {"id": m["id"], "object": "model", "created": int(m.get("created") or 0), "owned_by": str(m.get("owned_by") or "upstream")})
        return list(entries.values())


@get("/v1/models")
async def list_models(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    services: Services = state.services
    tenant = _authenticate(request, services, request.headers)
    data = await state.catalogue.list(services, tenant)
    return Response(content=_encode({"object": "list", "data": data}), media_type=MediaType.JSON)


@get("/v1/models/{model_id:path}")
async def retrieve_model(request: Request[Any, Any, Any], state: State, model_id: FromPath[str]) -> Response[Any]:
    services: Services = state.services
    tenant = _authenticate(request, services, request.headers)
    model_id = model_id.lstrip("/")
    for entry in await state.catalogue.list(services, tenant):
        if entry["id"] == model_id:
            return Response(content=_encode(entry), media_type=MediaType.JSON)
    raise ModelNotFound(f"There is no model '{model_id}' here. GET /v1/models lists the models you can use.", param="model")


@route("/v1/{rest:path}", http_method=["GET", "POST", "PUT", "PATCH", "DELETE"], status_code=404)
async def unsupported(request: Request[Any, Any, Any], state: State, rest: FromPath[str]) -> Response[Any]:
    services: Services = state.services
    _authenticate(request, services, request.headers)
    raise NotFound(unsupported_message(request.url.path), code="unknown_endpoint")


ROUTES = [chat_completions, embeddings, list_models, retrieve_model, unsupported]
