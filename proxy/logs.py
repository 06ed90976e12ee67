"""Structured logs that cannot carry message content or personal data.

``configure_logging`` sets up structlog to write one JSON object per line. The last processor
before rendering, :func:`allow_listed_fields`, is the guarantee: only fields whose names are in
:data:`SAFE_FIELDS` survive, string values are capped, and exceptions are reduced to their type
names (exception messages can quote the input, e.g. a JSON decoder's). A field that is not allowed
is dropped and counted in ``dropped_fields`` so the omission is visible.

``tests/test_logs.py`` proves it with canary strings pushed through every request path.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

#: field names that may appear in a log line; their values are machine values, never content
SAFE_FIELDS = frozenset(
    {
        "event", "level", "timestamp", "logger",
        "request_id", "client_request_id", "method", "path", "status", "duration_ms", "endpoint", "stream",
        "model", "requested_model", "policy", "policy_version", "tenant", "user", "conversation",
        "upstream", "upstream_status", "error_kind", "error_code", "error_type", "stage", "stages_ms",
        "host", "port", "demo", "auth", "detail", "version", "issues", "count", "reason", "kind",
        "result", "duration_s", "directory", "client", "database", "ok", "verdict", "action",
        "entities", "emotion", "intensity", "trend", "attempt", "webhook_status", "exc_types",
        "dropped_fields", "chunks", "bytes", "n", "keks",
        "phase", "extractor", "prompt_version", "added", "replaced", "updated", "forgotten", "rejected",
    }
)
_MAX_VALUE = 200


def allow_listed_fields(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop every field not in SAFE_FIELDS; reduce exceptions to type names; cap strings."""
    exc = event_dict.pop("exc_info", None)
    event_dict.pop("exception", None)
    if exc:
        if exc is True:
            exc = sys.exc_info()
        if isinstance(exc, BaseException):
            exc = (type(exc), exc, exc.__traceback__)
        if isinstance(exc, tuple) and exc[0] is not None:
            types: list[str] = []
            err: BaseException | None = exc[1]
            while err is not None and len(types) < 5:
                types.append(type(err).__name__)
                err = err.__cause__ or err.__context__
            event_dict["exc_types"] = types
    dropped = 0
    for key in list(event_dict):
        if key not in SAFE_FIELDS:
            del event_dict[key]
            dropped += 1
            continue
        value = event_dict[key]
        if isinstance(value, str) and len(value) > _MAX_VALUE:
            event_dict[key] = value[:_MAX_VALUE] + "..."
    if dropped:
        event_dict["dropped_fields"] = dropped
    return event_dict


#: whether request lines (info) are written; read on the hot path instead of asking structlog
INFO_ENABLED = True


def configure_logging(level: str = "info", fmt: str = "json", stream: Any = None) -> None:
    """Configure structlog (and route stdlib logging through the same guard)."""
    global INFO_ENABLED
    lvl = getattr(logging, level.upper(), logging.INFO)
    INFO_ENABLED = lvl <= logging.INFO
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            allow_listed_fields,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stdout),
        cache_logger_on_first_use=False,
    )
    # Third-party stdlib loggers (uvicorn, aiohttp, presidio, guardrails) go through the guard too:
    # their messages are replaced by the logger name; only WARNING and above are kept.
    root = logging.getLogger()
    root.handlers[:] = [_GuardedHandler()]
    root.setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class _GuardedHandler(logging.Handler):
    """Stdlib records become structlog events named by their logger, without their message text."""

    def emit(self, record: logging.LogRecord) -> None:
        log = structlog.get_logger()
        level = record.levelname.lower()
        fields: dict[str, Any] = {"kind": record.name}
        if record.exc_info:
            fields["exc_info"] = record.exc_info
        getattr(log, level if level in ("warning", "error", "critical") else "info")("library_log", **fields)


def get_logger() -> Any:
    return structlog.get_logger()
