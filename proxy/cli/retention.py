"""``bedside retention purge [--dry-run]``: delete transcripts older than ``privacy.transcript_retention_days``.

Prints the rows deleted (or, with ``--dry-run``, the rows that would be) per tenant. Only
transcripts: other tables keep their own retention. ``serve`` runs the same purge every
``privacy.purge_interval_seconds``. A purge that deleted rows is recorded in the audit log (an
``admin`` entry per tenant, ``retention_purge``, with the count).
"""

from __future__ import annotations

import argparse
from typing import Any

from proxy.cli.common import load_settings


def cmd_purge(args: argparse.Namespace) -> int:
    from proxy.privacy.transcripts import purge_expired
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine

    settings = load_settings()
    days = settings.privacy.transcript_retention_days
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    try:
        counts = purge_expired(engine, days, dry_run=args.dry_run)
        if counts and not args.dry_run and settings.audit.enabled:
            from proxy.audit.events import retention_events
            from proxy.audit.wiring import build_audit_log

            log = build_audit_log(settings, engine, None, signing=False)
            for event in retention_events(counts, days):
                log.append_sync(event)
    finally:
        engine.dispose()
    verb = "would delete" if args.dry_run else "deleted"
    for tenant, n in sorted(counts.items()):
        print(f"{tenant}\t{n}")
    print(f"{verb} {sum(counts.values())} transcript turn(s) older than {days} days in {len(counts)} tenant(s)")
    return 0


def register(sub: Any) -> None:
    retention = sub.add_parser("retention", help="data retention")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    purge = retention_sub.add_parser("purge", help="delete transcripts older than privacy.transcript_retention_days")
    purge.add_argument("--dry-run", action="store_true", help="only count, per tenant, what would be deleted")
    purge.set_defaults(fn=cmd_purge)
