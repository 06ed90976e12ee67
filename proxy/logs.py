"""Structured logs that cannot carry message content or personal data.

``configure_logging`` sets up structlog to write one JSON object per line, or (format ``console``,
and ``auto`` when the stream is a terminal) one readable line per event. The last processor
before rendering, :func:`allow_listed_fields`, is the guarantee: only fields whose names are in
:data:`SAFE_FIELDS` survive, string values are capped, and exceptions are reduced to their type
names (exception messages can quote the input, e.g. a JSON decoder's). A field that is not allowed
is dropped and counted in ``dropped_fields`` so the omission is visible.

Libraries' own log records (stdlib ``logging``, WARNING and above) become ``library_log`` events
named by their logger. Their text is dropped, unless the caller gives a ``library_scrub`` (the
command passes the structured-PII scrub): then it is kept as ``library_message``, with every quoted
value a library put in it replaced by ``'…'`` and the scrub applied, so an unexpected warning can
still be read. Warnings Bedside expects are silenced where they arise, not here.

``tests/test_logs.py`` proves it with canary strings pushed through every request path.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any


def _import_structlog_without_rich() -> Any:
    """structlog, imported without rich (and through it pygments: 3-5 MiB resident, with nothing
    of them used). ``structlog.dev`` and ``structlog.tracebacks`` import rich when it is installed,
    for pretty tracebacks and reprs; this module never renders a traceback (``allow_listed_fields``
    reduces exceptions to type names before any renderer runs), and the console renderer falls
    back to plain formatting. rich is hidden only while structlog loads: anything that imports it
    later (guardrails-ai, litestar's command line) gets it as usual."""
    if "structlog" in sys.modules or "rich" in sys.modules:
        import structlog as loaded

        return loaded
    sys.modules["rich"] = None  # type: ignore[assignment]  # ``import rich`` raises ImportError
    try:
        import structlog as loaded
    finally:
        del sys.modules["rich"]
    return loaded


if TYPE_CHECKING:
    import structlog
else:
    structlog = _import_structlog_without_rich()

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
        "dropped_fields", "chunks", "bytes", "n", "keks", "clamps", "pii", "tone", "library_message",
        "phase", "extractor", "prompt_version", "added", "replaced", "updated", "forgotten", "rejected",
        "in_flight", "refused", "grace_s",
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


def resolve_format(fmt: str, stream: Any) -> str:
    """``json`` or ``console``: ``auto`` is ``console`` when ``stream`` is a terminal, else ``json``."""
    if fmt != "auto":
        return fmt
    isatty = getattr(stream, "isatty", None)
    try:
        return "console" if callable(isatty) and isatty() else "json"
    except ValueError:  # a closed stream
        return "json"


def configure_logging(level: str = "info", fmt: str = "json", stream: Any = None, *, library_scrub: Callable[[str], str] | None = None) -> None:
    """Configure structlog (and route stdlib logging through the same guard).

    ``fmt``: ``json``, ``console`` or ``auto`` (see :func:`resolve_format`). ``library_scrub``: keep
    library records' text, scrubbed by it (see the module docstring); without it the text is dropped.
    """
    global INFO_ENABLED
    lvl = getattr(logging, level.upper(), logging.INFO)
    INFO_ENABLED = lvl <= logging.INFO
    out = stream or sys.stdout
    fmt = resolve_format(fmt, out)
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=resolve_format("auto", out) == "console")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            allow_listed_fields,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Third-party stdlib loggers (uvicorn, aiohttp, presidio, guardrails) go through the guard too:
    # their messages are replaced by the logger name; only WARNING and above are kept.
    root = logging.getLogger()
    root.handlers[:] = [_GuardedHandler(library_scrub)]
    root.setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


#: a value a library quoted in its message (``'...'`` or ``"..."``, as ``%r`` writes it)
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


def library_text(message: str, scrub: Callable[[str], str]) -> str:
    """A library's log message as the log may keep it: quoted values out, then ``scrub``."""
    return scrub(_QUOTED.sub("'…'", message))


class _GuardedHandler(logging.Handler):
    """Stdlib records become structlog events named by their logger; their text only scrubbed."""

    def __init__(self, scrub: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self._scrub = scrub

    def emit(self, record: logging.LogRecord) -> None:
        log = structlog.get_logger()
        level = record.levelname.lower()
        fields: dict[str, Any] = {"kind": record.name}
        if self._scrub is not None:
            try:
                fields["library_message"] = library_text(record.getMessage(), self._scrub)
            except Exception:  # noqa: BLE001 - a message that cannot be formatted is left out, never raised
                fields["library_message"] = "(unreadable)"
        if record.exc_info:
            fields["exc_info"] = record.exc_info
        getattr(log, level if level in ("warning", "error", "critical") else "info")("library_log", **fields)


def get_logger() -> Any:
    return structlog.get_logger()
