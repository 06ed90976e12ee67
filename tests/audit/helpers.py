"""Building a small audit log on a real database for the audit tests."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from proxy.audit.events import AdminAction, RequestEvent
from proxy.audit.log import AuditLog
from proxy.audit.note import Signer
from proxy.storage import migrate
from proxy.storage.engine import make_engine


def fresh_log(url: str, *, signer: Signer | None = None) -> tuple[Engine, AuditLog]:
    migrate.upgrade(url)
    engine = make_engine(url)
    return engine, AuditLog(engine, signer=signer or Signer.generate("bedside-test"), origin="bedside-test")


def event(i: int) -> RequestEvent | AdminAction:
    if i % 5 == 4:
        return AdminAction(action="drill", reason=f"drill number {i % 10}")
    return RequestEvent(request_id=f"r{i}", endpoint="chat", status=200, tenant="acme", latency_ms=float(i), decisions={"pii": {"redacted": {"EMAIL_ADDRESS": i % 3}}})


def fill(log: AuditLog, n: int, *, checkpoint_every: int = 0) -> None:
    """``n`` entries appended through the sequencer, with a signed checkpoint every ``checkpoint_every``."""
    for i in range(n):
        log.append_sync(event(i))
        if checkpoint_every and (i + 1) % checkpoint_every == 0:
            log.checkpoint_sync()


def payloads(engine: Engine) -> list[bytes]:
    with engine.connect() as conn:
        return [bytes(p) for (p,) in conn.execute(sa.text("SELECT payload FROM audit_entries ORDER BY idx"))]
