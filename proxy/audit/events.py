"""What the audit log records: typed events with a schema version, never content or personal data.

Every event has ``v`` (the schema version, :data:`SCHEMA_VERSION`), ``kind``, a random ``id`` and
the time ``at`` (UTC). People appear only as ``subject``: the keyed HMAC of tenant and user id
(:class:`~proxy.crypto.subjects.SubjectKey`, the same subjects as the consent ledger), conversations
only as their keyed HMAC. Free-form values from a request are kept only when they are machine
values (:func:`machine_values`): names, counts, verdicts, booleans.

Kinds: ``request`` (every proxied request and each stage's decisions), ``consent`` (a grant or
withdrawal), ``user_data`` (memories or transcripts deleted), ``policy_reload``, ``api_key``
(created or revoked), ``kek_rotation``, ``admin`` (an operator action and its stated reason).
A later kind is one more model here and one more member of :data:`AnyEvent`.

An event is stored as its JSON (:meth:`AuditEvent.to_json`); the sequencer adds the entry's index
in front (``{"index": 7, "v": 1, "kind": ...}``): those bytes are the Merkle leaf.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from proxy.ids import random_uuid_hex

SCHEMA_VERSION = 1

#: a subject or conversation: a keyed HMAC, 64 hex digits
Hmac = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
#: a machine token: a name, code, version or id, never a sentence (no spaces)
Token = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/+@\-]{1,128}$")]
#: a stated reason for an operator action: short, one line
Reason = Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^\n\r]+$")]

_TOKEN = re.compile(r"^[A-Za-z0-9_.:/+\-]{1,64}$")
_MAX_ITEMS = 32
_MAX_DEPTH = 6
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_DIGITS = re.compile(r"\d(?:[\s.\-/()]?\d){6,}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id() -> str:
    return random_uuid_hex()  # uuid4's form, from a pooled os.urandom block (proxy.ids)


def _is_token(text: str) -> bool:
    """Whether ``text`` is a machine token; tokens already seen are remembered (only accepted ones,
    bounded), so the same few names and verdicts of every request are not matched again."""
    if text in _TOKENS_SEEN:
        return True
    if _TOKEN.match(text) is None:
        return False
    if len(_TOKENS_SEEN) >= _TOKENS_SEEN_MAX:
        _TOKENS_SEEN.clear()
    _TOKENS_SEEN.add(text)
    return True


#: machine tokens :func:`machine_values` accepted before (never a dropped string)
_TOKENS_SEEN: set[str] = set()
_TOKENS_SEEN_MAX = 4096


def machine_values(value: Any, depth: int = 0) -> Any:
    """``value`` with only machine values kept: numbers, booleans, None, and strings shaped like a
    name or code (1-64 of ``A-Za-z0-9_.:/+-``). Other strings become ``"<dropped>"``; containers are
    capped at 32 items and 6 levels. What a stage records should already be machine values: this is
    the guarantee that a mistake cannot put text into the log."""
    kind = type(value)  # the exact built-in types first: what decisions are made of
    if kind is str:
        return value if _is_token(value) else "<dropped>"
    if value is None or kind is bool or kind is int:
        return value
    if kind is dict and depth < _MAX_DEPTH:
        return _dict_values(value, depth)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, str):
        return value if _is_token(value) else "<dropped>"
    if depth >= _MAX_DEPTH:
        return "<dropped>"
    if isinstance(value, dict):
        return {k: machine_values(v, depth + 1) for k, v in list(value.items())[:_MAX_ITEMS] if isinstance(k, str) and _is_token(k)}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        return [machine_values(v, depth + 1) for v in items[:_MAX_ITEMS]]
    return "<dropped>"


def _dict_values(value: dict[Any, Any], depth: int) -> dict[str, Any]:
    """:func:`machine_values` of a plain ``dict`` above the depth limit: the leaves decisions are
    made of (token strings seen before, None, booleans, ints) are kept here without a call each,
    everything else goes through :func:`machine_values` (the same result, one call per value fewer)."""
    seen = _TOKENS_SEEN
    items = value.items() if len(value) <= _MAX_ITEMS else list(value.items())[:_MAX_ITEMS]
    out: dict[str, Any] = {}
    for k, v in items:
        if not (type(k) is str and k in seen) and not (isinstance(k, str) and _is_token(k)):
            continue
        kind = type(v)
        if kind is str:
            out[k] = v if v in seen or _is_token(v) else "<dropped>"
        elif v is None or kind is bool or kind is int:
            out[k] = v
        else:
            out[k] = machine_values(v, depth + 1)
    return out


def check_reason(reason: str) -> str:
    """An operator's stated reason, refused (ValueError) when it looks like it holds personal data."""
    reason = " ".join(reason.split())
    if not 3 <= len(reason) <= 200:
        raise ValueError("a reason is 3 to 200 characters")
    if _EMAIL.search(reason) or _DIGITS.search(reason):
        raise ValueError("a reason must not name people: it looks like it holds an e-mail address or a long number. State why, not who.")
    return reason


class AuditEvent(BaseModel):
    """Fields every event has."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[str]

    v: int = SCHEMA_VERSION
    id: str = Field(default_factory=_new_id, pattern=r"^[0-9a-f]{32}$")
    at: str = Field(default_factory=_now, description="UTC time, ISO 8601 with milliseconds.")

    @classmethod
    def trusted(cls, **fields: Any) -> Self:
        """An event from values already shaped (tokens, HMACs, machine values), not validated again:
        what ``model_construct`` gives when every field is passed, without its per-field alias and
        default-factory lookups (most of an entry's cost on the request path). ``v``, ``id`` and
        ``at`` are filled here; every other field must be given (KeyError, TypeError otherwise)."""
        given = {"v": SCHEMA_VERSION, "id": _new_id(), "at": _now(), **fields}
        if len(given) != len(cls.__pydantic_fields__):
            raise TypeError(f"{cls.__name__}.trusted takes exactly its fields: {', '.join(sorted(set(given) - set(cls.__pydantic_fields__)))}")
        values = {name: given[name] for name in cls.__pydantic_fields__}  # the model's field order: to_json's
        event = cls.__new__(cls)
        _set = object.__setattr__
        _set(event, "__dict__", values)
        _set(event, "__pydantic_fields_set__", set(values))
        _set(event, "__pydantic_extra__", None)
        _set(event, "__pydantic_private__", None)
        return event

    def to_json(self) -> bytes:
        """The event's JSON, ``kind`` first after the version (the sequencer puts ``index`` in front)."""
        # every field is a JSON value already (no nested models): read them as they are, which is
        # several times cheaper than model_dump on the request path
        data = {k: v for k, v in self.__dict__.items() if v is not None}
        return _encode({"v": data.pop("v"), "kind": self.kind, **data})


#: compact UTF-8 JSON, as ``json.dumps(separators=(",", ":"), ensure_ascii=False)`` writes it for
#: every value an event holds (only a float of 1e16 or more, or a non-finite one, is written
#: differently: ``1e16`` rather than ``1e+16``, ``null`` rather than the invalid ``NaN``), at a
#: tenth of its cost on the request path
_encode = msgspec.json.Encoder().encode


class RequestEvent(AuditEvent):
    """One proxied request (chat or embeddings), however it ended."""

    kind: ClassVar[str] = "request"
    request_id: Token
    endpoint: Token
    status: int
    stream: bool = False
    error_code: Token | None = None
    tenant: Token
    subject: Hmac | None = None
    conversation: Hmac | None = None
    model: Token | None = None
    policy: Token | None = None
    policy_version: Token | None = None
    upstream: Token | None = None
    upstream_status: int | None = None
    latency_ms: float
    #: stage name -> that stage's decisions (machine values only; see ``machine_values``)
    decisions: dict[str, Any] = Field(default_factory=dict)


class ConsentChange(AuditEvent):
    """A user's consent decision was recorded."""

    kind: ClassVar[str] = "consent"
    tenant: Token
    subject: Hmac
    purpose: Token
    granted: bool
    receipt_id: Token
    method: Token
    notice_version: Token


class UserDataChange(AuditEvent):
    """A user's kept data was deleted (memories, one or all, or transcripts), or all of it was
    exported or erased on a rights request (``data: "all"``; an erasure also names its journal id
    and counts, which its deletion receipt repeats)."""

    kind: ClassVar[str] = "user_data"
    tenant: Token
    subject: Hmac
    data: Literal["memories", "transcripts", "all"]
    action: Literal["deleted", "erased", "exported"] = "deleted"
    count: int
    cause: Literal["user_request", "consent_withdrawn", "retention", "rights_request"]
    memory_id: Token | None = None
    erasure_id: Token | None = None
    #: table -> rows deleted (an erasure)
    erased: dict[str, int] | None = None
    consent_detached: int | None = None
    data_keys_destroyed: int | None = None
    attempts: int | None = None


class PolicyReload(AuditEvent):
    """The policy set was reloaded (or a reload was rejected and the last good set kept)."""

    kind: ClassVar[str] = "policy_reload"
    ok: bool
    version: Token | None = None
    changed: bool = False
    policies: int | None = None
    issues: int = 0


class ApiKeyChange(AuditEvent):
    """A client API key was created or revoked (the key itself and its hash are never logged)."""

    kind: ClassVar[str] = "api_key"
    action: Literal["create", "revoke"]
    key_id: int
    tenant: Token | None = None
    scopes: list[Token] = Field(default_factory=list)
    reason: Reason | None = None


class KekRotation(AuditEvent):
    """Data keys were re-wrapped under a new key-encryption key."""

    kind: ClassVar[str] = "kek_rotation"
    new_kek_id: Token
    rewrapped: int
    skipped: int
    complete: bool
    reason: Reason | None = None


class AdminAction(AuditEvent):
    """An operator action with the reason the operator stated."""

    kind: ClassVar[str] = "admin"
    action: Token
    reason: Reason
    tenant: Token | None = None
    details: dict[str, Any] = Field(default_factory=dict)


def retention_events(kind: str, counts: dict[str, int], days: int) -> list[AdminAction]:
    """One ``admin`` entry per tenant whose ``kind`` (``transcripts``, ``memories``) a retention purge deleted."""
    reason = f"{kind} retention ({'the policy' + chr(39) + 's, else ' if kind == 'transcripts' else ''}{days} days)"
    return [AdminAction(action="retention_purge", reason=reason, tenant=tenant, details={kind: n}) for tenant, n in sorted(counts.items()) if n]


AnyEvent = RequestEvent | ConsentChange | UserDataChange | PolicyReload | ApiKeyChange | KekRotation | AdminAction
EVENT_TYPES: dict[str, type[AuditEvent]] = {t.kind: t for t in (RequestEvent, ConsentChange, UserDataChange, PolicyReload, ApiKeyChange, KekRotation, AdminAction)}


def parse_event(data: dict[str, Any]) -> AuditEvent:
    """The typed event of a stored entry's JSON (without its ``index``); ValueError for an unknown kind."""
    data = dict(data)
    data.pop("index", None)
    kind = data.pop("kind", None)
    model = EVENT_TYPES.get(str(kind))
    if model is None:
        raise ValueError(f"unknown audit event kind {kind!r}")
    return model.model_validate(data)
