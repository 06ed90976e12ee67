"""The exception tree and its mapping to OpenAI-shaped error bodies.

Every error a client can see is a :class:`BedsideError`. One handler in ``proxy.api.errors`` turns
it into ``{"error": {"message", "type", "param", "code"}}`` with the error's HTTP status. Messages
are written for a person: plain, kind, and saying what to do next. They never contain message
content or personal data (the canary test in ``tests/test_privacy_logs.py`` checks).

::

    BedsideError (500 server_error)
    ├── InvalidRequest (400 invalid_request_error)
    │   ├── PayloadTooLarge (413)
    │   ├── UnsupportedMediaType (415: not JSON, or a compressed body)
    │   └── PolicyRefusal (400, code from the policy: e.g. "tool_not_allowed")
    ├── AuthenticationFailed (401 authentication_error)
    ├── NotFound (404 invalid_request_error)
    │   └── ModelNotFound (404, code "model_not_found")
    ├── ServiceUnavailable (503 service_unavailable: a fail-closed stage could not run)
    │   └── AuditUnavailable (503, code "audit_unavailable": the audit log cannot record, fail_closed)
    └── UpstreamError (502 upstream_error)
        ├── UpstreamUnavailable (502: connection refused / reset before a reply)
        ├── UpstreamTimeout (504)
        ├── UpstreamProtocolError (502: the upstream sent something that is not OpenAI-shaped)
        └── UpstreamStatusError (the upstream's own 4xx/5xx: status, code and type passed on; its
                                 message only with ``server.upstream_error_detail``)
"""

from __future__ import annotations

import re
from typing import Any, ClassVar


class BedsideError(Exception):
    """Base of every error a client can see."""

    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.param = param
        self.http_status = status if status is not None else self.status
        #: a short machine name for logs, metrics and audit (never content)
        self.kind = kind or type(self).__name__

    def to_body(self) -> dict[str, Any]:
        """The OpenAI error body."""
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(BedsideError):
    status = 400
    error_type = "invalid_request_error"


class PayloadTooLarge(InvalidRequest):
    status = 413
    default_code = "request_too_large"


class UnsupportedMediaType(InvalidRequest):
    """The body is not JSON (``Content-Type``) or is compressed (``Content-Encoding``)."""

    status = 415
    default_code = "unsupported_media_type"


class PolicyRefusal(InvalidRequest):
    """A policy refuses the request before anything reaches the model."""

    default_code = "policy_refusal"


class AuthenticationFailed(BedsideError):
    status = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class NotFound(BedsideError):
    status = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class ModelNotFound(NotFound):
    default_code = "model_not_found"


class ServiceUnavailable(BedsideError):
    """A stage that fails closed (PII, consent, rails) could not do its work."""

    status = 503
    error_type = "service_unavailable"
    default_code = "service_unavailable"


class AuditUnavailable(ServiceUnavailable):
    """The audit log cannot record an entry, and the action fails closed (``audit.on_failure``)."""

    default_code = "audit_unavailable"


class UpstreamError(BedsideError):
    status = 502
    error_type = "upstream_error"
    default_code = "upstream_error"


class UpstreamUnavailable(UpstreamError):
    default_code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    status = 504
    default_code = "upstream_timeout"


class UpstreamProtocolError(UpstreamError):
    default_code = "upstream_bad_response"


#: upstream codes, params and types are passed on only in this shape (machine names, not text)
_MACHINE_VALUE = re.compile(r"^[A-Za-z0-9_.\[\]-]{1,64}$")


def _machine_value(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and _MACHINE_VALUE.match(value) else None


class UpstreamStatusError(UpstreamError):
    """The upstream answered with an HTTP error; its status, code, param and type are passed on.

    Its message is not: a model server's message can quote the request, including the persona
    prompt Bedside added, which the client must not see. ``to_body(detail=True)`` (setting
    ``server.upstream_error_detail``) appends it for deployments that want it.
    """

    def __init__(self, message: str, *, status: int, upstream_body: dict[str, Any] | None = None) -> None:
        err = (upstream_body or {}).get("error") if isinstance(upstream_body, dict) else None
        err = err if isinstance(err, dict) else None
        code = _machine_value(err.get("code")) if err is not None else None
        param = _machine_value(err.get("param")) if err is not None else None
        super().__init__(message, code=code or "upstream_error", param=param, status=status)
        self.upstream_error = err

    def to_body(self, *, detail: bool = False) -> dict[str, Any]:
        body = super().to_body()
        if self.upstream_error is not None:
            # The upstream's own error type survives (e.g. "invalid_request_error" for a 400)
            up_type = _machine_value(self.upstream_error.get("type"))
            if up_type:
                body["error"]["type"] = up_type
            up_msg = self.upstream_error.get("message")
            if detail and isinstance(up_msg, str) and up_msg:
                body["error"]["message"] = f"{self.message} The model server said: {up_msg}"
        return body
