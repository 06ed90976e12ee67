"""Client authentication: virtual API keys mapped to tenants.

Keys are stored only as SHA-256 hashes (settings ``api_keys`` and the ``api_keys`` table). Keys are
random 256-bit tokens (``bsk-...``), so a fast hash is enough; a presented key is hashed and
compared with **every** stored hash using ``hmac.compare_digest``, so the time taken does not depend
on which key, or how much of one, matched.

With no key anywhere, Bedside serves one open tenant (``open``) and says so at start-up, in
``/readyz`` and in the ``bedside_open_tenant`` gauge. Configuring any key turns authentication on
for every endpoint except the probes (``/healthz``, ``/readyz``).

Keys carry **scopes**: ``chat`` (the OpenAI endpoints; every key made before scopes existed, and
every key in settings that names no scopes, has it), ``privacy`` (the ``/v1/users/{user}/...``
consent API), ``admin`` (the operator's views: ``GET /v1/kpis``, the ``/console`` and the
``/v1/audit/...`` checkpoint and proof routes) and ``metrics`` (``GET /metrics``: a Prometheus
scraper's key, which can do nothing else).
``KeyRing.authenticate_scoped`` refuses a valid key without the scope with 403
``insufficient_scope`` (the OpenAI endpoints ask for ``chat``, so a ``privacy``-only key cannot
chat); in open mode there is nothing to check and the open tenant is served.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from proxy.errors import AuthenticationFailed, BedsideError, InvalidRequest
from proxy.storage.tables import DEFAULT_SCOPES, ApiKey

OPEN_TENANT = "open"
KEY_PREFIX = "bsk-"
#: how often a running Bedside reads the keys table again (a new or revoked key counts within this)
KEY_REFRESH_SECONDS = 5.0
#: what a key may be allowed to do
SCOPES = frozenset({"chat", "privacy", "admin", "metrics"})


class PermissionDenied(BedsideError):
    """A valid key without the scope the endpoint needs."""

    status: ClassVar[int] = 403
    error_type: ClassVar[str] = "permission_error"
    default_code: ClassVar[str | None] = "insufficient_scope"


def parse_scopes(value: str | Iterable[str] | None) -> frozenset[str]:
    """Scopes from ``"chat privacy"`` (or commas, or a list); empty or None means the default, ``chat``."""
    if value is None:
        return frozenset({DEFAULT_SCOPES})
    parts = value.replace(",", " ").split() if isinstance(value, str) else [str(v).strip() for v in value]
    scopes = frozenset(p for p in parts if p)
    unknown = scopes - SCOPES
    if unknown:
        raise ValueError(f"unknown scope(s) {sorted(unknown)}: a key's scopes are among {sorted(SCOPES)}")
    return scopes or frozenset({DEFAULT_SCOPES})


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class _Entry:
    digest: bytes
    tenant: str
    scopes: frozenset[str]


#: a key as the ring takes it: (sha256 hex, tenant) with the default scopes, or (sha256 hex, tenant, scopes)
KeySpec = tuple[str, str] | tuple[str, str, str | Iterable[str]]


def _entry(spec: Sequence[object]) -> _Entry:
    digest, tenant = str(spec[0]), str(spec[1])
    scopes = spec[2] if len(spec) > 2 else None
    return _Entry(bytes.fromhex(digest), tenant, parse_scopes(scopes))  # type: ignore[arg-type]  # str or iterable, checked by parse_scopes


class KeyRing:
    """The set of valid keys with their tenants and scopes; replaced whole on refresh (one assignment)."""

    def __init__(self, static: Iterable[KeySpec] = ()) -> None:
        self._static = tuple(_entry(spec) for spec in static)
        self._entries: tuple[_Entry, ...] = self._static

    @property
    def open(self) -> bool:
        return not self._entries

    def __len__(self) -> int:
        """How many keys are valid now (settings and database)."""
        return len(self._entries)

    def replace_dynamic(self, rows: Iterable[KeySpec]) -> None:
        self._entries = self._static + tuple(_entry(spec) for spec in rows)

    def refresh_from_db(self, engine: Engine) -> None:
        with Session(engine) as session:
            rows = session.exec(select(ApiKey.key_sha256, ApiKey.tenant, ApiKey.scopes).where(ApiKey.revoked_at == None)).all()  # noqa: E711 - SQL NULL
        self.replace_dynamic((str(h), str(t), str(s)) for h, t, s in rows)

    def authenticate(self, headers: Mapping[str, str]) -> str:
        """The tenant for the request's key (any scope); ``open`` in open mode; else AuthenticationFailed."""
        entry = self._match(headers)
        return OPEN_TENANT if entry is None else entry.tenant

    def authenticate_scoped(self, headers: Mapping[str, str], scope: str) -> str:
        """The tenant for the request's key if it has ``scope``; ``open`` in open mode.

        A missing or unknown key is 401 (as ``authenticate``); a valid key without the scope is 403
        ``insufficient_scope``, which names the scope but nothing about the key.
        """
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        entry = self._match(headers)
        if entry is None:
            return OPEN_TENANT
        if scope not in entry.scopes:
            raise PermissionDenied(
                f"This API key may not use this endpoint: it needs the '{scope}' scope. "
                f"Ask your operator for a key with it (`bedside keys create --tenant NAME --scopes {scope}`)."
            )
        return entry.tenant

    def _match(self, headers: Mapping[str, str]) -> _Entry | None:
        """The entry of the presented key; None in open mode; AuthenticationFailed otherwise."""
        entries = self._entries
        if not entries:
            return None
        presented = _presented_key(headers)
        if presented is None:
            raise AuthenticationFailed(
                "This Bedside requires an API key. Send it as 'Authorization: Bearer <key>' "
                "(the openai client's api_key setting does this).",
                code="missing_api_key",
            )
        digest = hashlib.sha256(presented.encode("utf-8")).digest()
        found: _Entry | None = None
        for entry in entries:  # every entry is compared, whichever matches
            if hmac.compare_digest(entry.digest, digest):
                found = entry
        if found is None:
            raise AuthenticationFailed(
                "The API key was not recognised. Check for typos, or ask your operator for a valid key.",
            )
        return found


def _presented_key(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    api_key = headers.get("api-key") or headers.get("x-api-key")
    return api_key.strip() if api_key and api_key.strip() else None


_CREDENTIAL_HEADERS = (b"authorization", b"api-key", b"x-api-key")


def check_single_credential(raw_headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Refuse (400 ``duplicate_authorization``) a request carrying two credentials.

    Takes the ASGI scope's header list, where repeated headers are still separate (a dict keeps only
    one of them, so which key was checked would depend on the order). Two ``Authorization``
    headers (also when a proxy joined them with a comma, which no key contains), or two different
    keys across ``Authorization: Bearer``, ``api-key`` and ``x-api-key``, are refused; the same key
    sent in two of those headers is accepted.
    """
    seen: set[bytes] = set()
    keys: set[bytes] = set()
    for name, value in raw_headers:
        if name not in _CREDENTIAL_HEADERS:
            continue
        if name in seen or b"," in value:
            raise _duplicate()
        seen.add(name)
        value = value.strip()
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() != b"bearer":
                continue  # not a key Bedside reads
            value = token.strip()
        if value:
            keys.add(value)
    if len(keys) > 1:
        raise _duplicate()


def _duplicate() -> InvalidRequest:
    return InvalidRequest(
        "The request carries more than one credential (two Authorization headers, or different keys in "
        "Authorization and api-key). Send your key once, as 'Authorization: Bearer <key>'.",
        code="duplicate_authorization",
    )


def create_db_key(engine: Engine, tenant: str, name: str | None = None, scopes: str | Iterable[str] | None = None) -> tuple[str, ApiKey]:
    """A new key stored hashed; the plain key is returned once and never stored. Scopes default to ``chat``."""
    key = new_key()
    row = ApiKey(tenant=tenant, name=name, key_sha256=hash_key(key), prefix=key[:10], scopes=" ".join(sorted(parse_scopes(scopes))))
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
    return key, row


def list_db_keys(engine: Engine) -> list[ApiKey]:
    with Session(engine) as session:
        query = select(ApiKey).order_by(ApiKey.id)  # type: ignore[arg-type]  # SQLModel types the column as int | None
        return list(session.exec(query))


def revoke_db_key(engine: Engine, key_id: int) -> bool:
    """Revoke an active key; False when there is none with that id (or it is revoked already). One
    conditional UPDATE: of two processes revoking the same key at once, exactly one gets True."""
    table = ApiKey.__table__  # type: ignore[attr-defined]  # SQLModel sets it on table models
    with engine.begin() as conn:
        result = conn.execute(sa.update(table).where(table.c.id == key_id, table.c.revoked_at.is_(None)).values(revoked_at=datetime.now(UTC)))
        return int(getattr(result, "rowcount", 0) or 0) == 1
