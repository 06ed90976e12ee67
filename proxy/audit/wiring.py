"""Building the audit log from settings (``proxy.services`` at start-up, the CLI commands)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine

from proxy.audit.keys import load_signer, origin, verifiers
from proxy.audit.log import AuditLog
from proxy.crypto.subjects import SubjectKey
from proxy.settings import Settings


def build_audit_log(settings: Settings, engine: Engine, subjects: SubjectKey | None, *, on_drop: Callable[[], None] | None = None, signing: bool = True) -> AuditLog:
    """The deployment's audit log. ``signing=False`` skips the signing key (a command that only
    appends, e.g. ``bedside keys create``, needs none)."""
    a = settings.audit
    signer = load_signer(settings) if signing else None
    return AuditLog(
        engine,
        signer=signer,
        origin=origin(settings, signer) if signer is not None else a.origin,
        verifiers=verifiers(settings, signer),
        subjects=subjects,
        capacity=a.queue_size,
        batch_size=a.batch_size,
        write_timeout=a.write_timeout_seconds,
        on_drop=on_drop,
    )
