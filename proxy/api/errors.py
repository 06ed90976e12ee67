"""Every error leaves as an OpenAI-shaped JSON body, whatever raised it."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException

from proxy.errors import BedsideError, InvalidRequest, NotFound, ServiceUnavailable, UpstreamStatusError
from proxy.logs import get_logger
from proxy.storage.engine import database_unreachable

_encode = msgspec.json.Encoder().encode


def error_response(exc: BedsideError, headers: dict[str, str] | None = None, *, upstream_detail: bool = False) -> Response[bytes]:
    """The OpenAI error JSON; an upstream's own message only with ``upstream_detail``."""
    body = exc.to_body(detail=upstream_detail) if isinstance(exc, UpstreamStatusError) else exc.to_body()
    return Response(content=_encode(body), status_code=exc.http_status, media_type=MediaType.JSON, headers=headers)


def internal_error(exc: BaseException | None = None) -> BedsideError:
    """What a client sees when Bedside itself failed (an unexpected exception): 503
    ``database_unavailable`` when ``exc`` says the database cannot be reached (a restart: retry),
    else 500 ``internal_error``."""
    if exc is not None and database_unreachable(exc):
        return ServiceUnavailable(
            "Bedside cannot reach its database for a moment (it may be restarting), so nothing was done. Please try again shortly.",
            code="database_unavailable",
            kind="database_unavailable",
        )
    return BedsideError(
        "Something went wrong inside Bedside. Nothing was sent on your behalf; please try again, and tell your operator if it keeps happening.",
        code="internal_error",
        kind="internal_error",
    )


def _bedside_handler(request: Request[Any, Any, Any], exc: BedsideError) -> Response[bytes]:
    return error_response(exc)


def _http_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    if isinstance(exc, NotFoundException):
        err: BedsideError = NotFound(unsupported_message(request.url.path), code="unknown_endpoint")
    elif isinstance(exc, MethodNotAllowedException):
        err = InvalidRequest(f"{request.method} is not supported on {request.url.path}.", code="method_not_allowed", status=405)
    elif exc.status_code == 413:
        err = InvalidRequest("The request is larger than this Bedside accepts.", code="request_too_large", status=413)
    else:
        err = BedsideError("Something went wrong reading the request. Please try again.", status=exc.status_code, kind="http_error")
        if exc.status_code < 500:
            err = InvalidRequest("The request could not be read. Check that it is a well-formed HTTP request.", status=exc.status_code)
    return error_response(err)


def _unexpected_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    get_logger().error("unhandled_error", path=request.url.path, exc_info=exc)
    return error_response(internal_error(exc))


def unsupported_message(path: str) -> str:
    return (
        f"Bedside does not serve {path}. It proxies POST /v1/chat/completions, POST /v1/responses (and GET and DELETE "
        "/v1/responses/{id}), POST /v1/embeddings and GET /v1/models; other endpoints are not forwarded, so nothing leaves unchecked."
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    BedsideError: _bedside_handler,
    HTTPException: _http_handler,
    Exception: _unexpected_handler,
}
