"""The Responses API: ``POST /v1/responses`` through the one pipeline, ``GET`` and ``DELETE`` of a stored response.

``POST`` reads and checks the body (:mod:`proxy.api.responses_checks`), maps it onto the pipeline's
request (:func:`proxy.responses.request.from_responses`: the stages see a chat-shaped body and do
not know which API it came in on), runs the same stages as chat completions, and encodes the
deltas as one Response object or as its typed SSE events (``response.created`` ...
``response.completed``). Errors before the reply are the usual OpenAI error JSON; a fault after
the stream began is an ``error`` event followed by ``response.failed``.

``GET`` and ``DELETE /v1/responses/{id}`` answer only for a response this user (``X-Bedside-User``,
else the API key) created through Bedside, and go to the upstream that stores it: ``GET`` gives the
stored reply with the user's own values put back in place of the placeholders the upstream holds
(and ``instructions`` left out: they carry the persona), or 409 when Bedside changed or stopped that
reply on its way to the client; ``DELETE`` deletes it there and Bedside's state for it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, delete, get, post
from litestar.params import FromPath
from litestar.response import Stream

from proxy.api.body import check_media_type, decode_object, read_body
from proxy.api.errors import error_response, internal_error
from proxy.api.openai_routes import _authenticate, _new_context
from proxy.api.requestlog import finish_request
from proxy.api.responses_checks import check_responses
from proxy.errors import BedsideError, InvalidRequest, NotFound, UpstreamError, UpstreamProtocolError, UpstreamStatusError
from proxy.logs import get_logger
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.privacy.pseudonyms import PseudonymVault, restore
from proxy.privacy.threads import ThreadState
from proxy.responses.call import ResponsesCall
from proxy.responses.encode import OutputAssembler, collect_response, error_event, response_object, sse_frame
from proxy.responses.ids import client_id, internal_id
from proxy.responses.request import from_responses
from proxy.services import Services
from proxy.stages.thread import thread_owner

__all__ = ["RESPONSES_ROUTES"]

_encode = msgspec.json.Encoder().encode
ENDPOINT = "responses"


def _finish(services: Services, ctx: RequestContext, status: int, error: BedsideError | None = None, *, exc_type: str | None = None) -> None:
    finish_request(services, ctx, status, error, exc_type=exc_type, endpoint=ENDPOINT)


def _internal_error(services: Services, ctx: RequestContext, exc: BaseException, headers: dict[str, str]) -> Response[Any]:
    """An unexpected exception before the reply: logged by type only, counted as a 500, answered kindly."""
    get_logger().error("request_failed", request_id=ctx.request_id, endpoint=ENDPOINT, error_type=type(exc).__name__)
    err = internal_error(exc)
    _finish(services, ctx, err.http_status, err, exc_type=type(exc).__name__)
    return error_response(err, {**headers, **ctx.response_headers})


def _error(services: Services, ctx: RequestContext, exc: BedsideError, headers: dict[str, str]) -> Response[Any]:
    _finish(services, ctx, exc.http_status, exc)
    return error_response(exc, {**headers, **ctx.response_headers}, upstream_detail=services.settings.server.upstream_error_detail)


@post("/v1/responses", status_code=200)
async def create_response(request: Request[Any, Any, Any]) -> Response[Any]:
    services: Services = request.app.state.services
    ctx, headers = _new_context(request, "chat")
    completion: Completion | None = None
    try:
        ctx.tenant = _authenticate(request, services, ctx.headers)
        check_media_type(ctx.headers)
        body = decode_object(await read_body(request, services.settings.server.max_body_bytes))
        check_responses(body)
        ctx.body, wire, ctx.thread = from_responses(body)
        ctx.upstream_call = ResponsesCall(wire)
        ctx.requested_model = ctx.model
        completion = await services.pipeline(ctx)
        headers = {**headers, **ctx.response_headers}
        if ctx.stream:
            stream = Stream(
                _events(services, ctx, completion, wire.echo),
                media_type="text/event-stream",
                headers={**headers, "cache-control": "no-cache", "x-accel-buffering": "no"},
            )
            completion = None  # the stream owns it now
            return stream
        reply = await collect_response(completion, wire.echo)  # closes the completion
        completion = None
    except BedsideError as exc:
        return _error(services, ctx, exc, headers)
    except asyncio.CancelledError:
        _finish(services, ctx, 499)
        raise
    except Exception as exc:  # noqa: BLE001 - a bug still ends as a logged, counted, kind 500
        return _internal_error(services, ctx, exc, headers)
    finally:
        if completion is not None:
            await completion.aclose()
    _finish(services, ctx, 200)
    return Response(content=_encode(reply), media_type=MediaType.JSON, headers=headers)


class _Frames:
    """SSE frames of Responses events, numbered in order."""

    def __init__(self) -> None:
        self.sequence = 0

    def __call__(self, event: dict[str, Any]) -> bytes:
        event["sequence_number"] = self.sequence
        self.sequence += 1
        return sse_frame(event)


async def _events(services: Services, ctx: RequestContext, completion: Completion, echo: dict[str, Any]) -> AsyncIterator[bytes]:
    frame = _Frames()
    assembler = OutputAssembler()
    status = 200
    error: BedsideError | None = None
    exc_type: str | None = None
    first = True
    try:
        started = response_object(completion.meta, echo, output=[], status="in_progress")
        yield frame({"type": "response.created", "response": started})
        yield frame({"type": "response.in_progress", "response": started})
        async for delta in completion.deltas:
            for event in assembler.feed(delta):
                if first and event["type"] in ("response.output_text.delta", "response.function_call_arguments.delta"):
                    first = False
                    services.metrics.ttft.observe(time.perf_counter() - ctx.started)
                yield frame(event)
        for event in assembler.close():
            yield frame(event)
        state, incomplete = assembler.status
        final = response_object(completion.meta, echo, output=assembler.output, status=state, incomplete=incomplete, usage=assembler.usage)
        yield frame({"type": "response.completed" if state == "completed" else "response.incomplete", "response": final})
    except BedsideError as exc:
        error, status = exc, exc.http_status
        if isinstance(exc, UpstreamError):
            services.metrics.upstream_errors.labels(ctx.upstream_name or "unknown", exc.kind).inc()
        body = exc.to_body(detail=services.settings.server.upstream_error_detail) if isinstance(exc, UpstreamStatusError) else exc.to_body()
        for out in _failed(completion, echo, assembler, error_event(exc, body), status):
            yield frame(out)
    except (asyncio.CancelledError, GeneratorExit):
        status = 499  # the client went away; closing the completion cancels the upstream request
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must still end the stream cleanly
        get_logger().error("stream_failed", request_id=ctx.request_id, endpoint=ENDPOINT, error_type=type(exc).__name__)
        error, exc_type = internal_error(exc), type(exc).__name__
        status = error.http_status
        for out in _failed(completion, echo, assembler, error_event(error, error.to_body()), status):
            yield frame(out)
    finally:
        await completion.aclose()
        _finish(services, ctx, status, error, exc_type=exc_type)


def _failed(completion: Completion, echo: dict[str, Any], assembler: OutputAssembler, event: dict[str, Any], status: int) -> list[dict[str, Any]]:
    """An ``error`` event and the ``response.failed`` that ends the stream."""
    reason = {"code": "rate_limit_exceeded" if status == 429 else "server_error", "message": str(event["message"])}
    failed = response_object(completion.meta, echo, output=assembler.output, status="failed", usage=assembler.usage, error=reason)
    return [event, {"type": "response.failed", "response": failed}]


# ---- stored responses ---------------------------------------------------------------------------


async def _owned(services: Services, ctx: RequestContext, response_id: str) -> tuple[Any, ThreadState]:
    """This user's state for a stored response, or 404 (someone else's reads as unknown)."""
    user = ctx.headers.get("x-bedside-user", "").strip() or None
    if user is not None and len(user) > 256:
        raise InvalidRequest("X-Bedside-User must be between 1 and 256 characters.", param="X-Bedside-User")
    ctx.user_id = user
    store = services.privacy.threads if services.privacy is not None else None
    if store is None:
        raise _unknown(response_id)
    scope = store.scope(ctx.tenant, thread_owner(user, ctx.headers))
    state = await store.load(scope, internal_id(response_id))
    if state is None:
        raise _unknown(response_id)
    return scope, state


def _unknown(response_id: str) -> NotFound:
    return NotFound(
        "There is no response with this id for you here. Responses are found only by the user who created them "
        "(send the same X-Bedside-User, or the same API key), and only until they are deleted or expire.",
        param="response_id",
        code="response_not_found",
    )


def _stored_upstream(services: Services, state: ThreadState, response_id: str) -> Any:
    if state.resume_from != internal_id(response_id):
        raise NotFound(
            "This response was written by Bedside itself (a refusal or a handoff), so no model server stores it. Its text was in the reply you received.",
            param="response_id",
            code="response_not_stored",
        )
    upstream = services.router.named(state.upstream) if state.upstream else None
    if upstream is None or not hasattr(upstream, "retrieve_response"):
        raise NotFound("The model server that stores this response is no longer configured here.", param="response_id", code="response_not_stored")
    return upstream


@get("/v1/responses/{response_id:str}")
async def retrieve_response(request: Request[Any, Any, Any], response_id: FromPath[str]) -> Response[Any]:
    services: Services = request.app.state.services
    ctx, headers = _new_context(request, "chat")
    try:
        ctx.tenant = _authenticate(request, services, ctx.headers)
        if request.query_params.get("stream") in ("true", "1"):
            raise InvalidRequest("Bedside does not replay a stored response as a stream. Leave 'stream' out to get it as one object.", param="stream", code="unsupported_parameter")
        _, state = await _owned(services, ctx, response_id)
        upstream = _stored_upstream(services, state, response_id)
        if state.altered:
            raise InvalidRequest(
                "Bedside changed or stopped this response on its way to you (a policy check), so the copy the model server stores is not what you received, "
                "and Bedside does not return it. The reply you received is the one to keep.",
                param="response_id",
                code="response_altered",
                status=409,
            )
        ctx.upstream_name = upstream.name
        data = await upstream.retrieve_response(internal_id(response_id), request_id=ctx.request_id)
        body = _restored(data, _vault(state), response_id)
    except BedsideError as exc:
        return _error(services, ctx, exc, headers)
    except Exception as exc:  # noqa: BLE001
        return _internal_error(services, ctx, exc, headers)
    _finish(services, ctx, 200)
    return Response(content=_encode(body), media_type=MediaType.JSON, headers=headers)


@delete("/v1/responses/{response_id:str}", status_code=200)
async def delete_response(request: Request[Any, Any, Any], response_id: FromPath[str]) -> Response[Any]:
    services: Services = request.app.state.services
    ctx, headers = _new_context(request, "chat")
    try:
        ctx.tenant = _authenticate(request, services, ctx.headers)
        scope, state = await _owned(services, ctx, response_id)
        upstream = services.router.named(state.upstream) if state.upstream and state.resume_from == internal_id(response_id) else None
        if upstream is not None and hasattr(upstream, "delete_response"):  # stored there (not a reply Bedside wrote)
            ctx.upstream_name = upstream.name
            try:
                await upstream.delete_response(internal_id(response_id), request_id=ctx.request_id)
            except UpstreamStatusError as exc:
                if exc.http_status != 404:  # gone there already: still forget it here
                    raise
        assert services.privacy is not None and services.privacy.threads is not None
        await services.privacy.threads.delete(scope, internal_id(response_id))
        body = {"id": client_id(internal_id(response_id)), "object": "response", "deleted": True}
    except BedsideError as exc:
        return _error(services, ctx, exc, headers)
    except Exception as exc:  # noqa: BLE001
        return _internal_error(services, ctx, exc, headers)
    _finish(services, ctx, 200)
    return Response(content=_encode(body), media_type=MediaType.JSON, headers=headers)


def _vault(state: ThreadState) -> PseudonymVault | None:
    return PseudonymVault.from_state(state.vault) if isinstance(state.vault, dict) else None


def _restored(data: dict[str, Any], vault: PseudonymVault | None, response_id: str) -> dict[str, Any]:
    """A stored Response with this user's values in place of the placeholders the upstream holds."""
    if not isinstance(data.get("output"), list):
        raise UpstreamProtocolError("The model server's stored response is not a Response object.", kind="upstream_garbage")
    body = dict(data)
    body["id"] = client_id(internal_id(response_id))
    body["instructions"] = None  # they carry the persona and Bedside's guidance, never shown to clients
    body.pop("input", None)
    if vault is not None and len(vault):
        body["output"] = [_restore_item(item, vault) for item in data["output"]]
        metadata = data.get("metadata")
        if isinstance(metadata, dict):
            body["metadata"] = {k: restore(v, vault) if isinstance(v, str) else v for k, v in metadata.items()}
    return body


def _restore_item(item: Any, vault: PseudonymVault) -> Any:
    if not isinstance(item, dict):
        return item
    if item.get("type") == "message" and isinstance(item.get("content"), list):
        parts = []
        for part in item["content"]:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                part = {**part, "text": restore(part["text"], vault)}
            elif isinstance(part, dict) and isinstance(part.get("refusal"), str):
                part = {**part, "refusal": restore(part["refusal"], vault)}
            parts.append(part)
        return {**item, "content": parts}
    if item.get("type") == "function_call" and isinstance(item.get("arguments"), str):
        return {**item, "arguments": _restore_json(item["arguments"], vault)}
    return item


def _restore_json(text: str, vault: PseudonymVault) -> str:
    """Restore inside a JSON document's strings (values stay properly escaped)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return restore(text, vault)

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return restore(node, vault)
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        return node

    return json.dumps(walk(doc), ensure_ascii=False)


RESPONSES_ROUTES = [create_response, retrieve_response, delete_response]
