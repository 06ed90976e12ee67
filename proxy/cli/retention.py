"""``bedside retention purge [--dry-run]``: delete transcripts past their retention.

A turn is kept for its policy's ``transcripts.retention_days`` (the policies are read from the
configured directory), or ``privacy.transcript_retention_days`` when its policy sets none or is
gone. Prints the rows deleted (or, with ``--dry-run``, the rows that would be) per tenant.
``serve`` runs the same purge every ``privacy.purge_interval_seconds``. A purge that deleted rows is recorded in the
audit log (an ``admin`` entry per tenant, ``retention_purge``, with the count).
"""

from __future__ import annotations

import argparse
from typing import Any

from proxy.cli.common import load_settings


def cmd_purge(args: argparse.Namespace) -> int:
    from proxy.policy.policy_set import load_policy_set
    from proxy.privacy.transcripts import purge_expired, retention_by_policy
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine

    settings = load_settings()
    days = settings.privacy.transcript_retention_days
    by_policy: dict[str, int] = {}
    if settings.policy.enabled:
        policies = load_policy_set(settings.policy.directory, default_policy=settings.policy.default, unknown_model=settings.policy.unknown_model)
        by_policy = retention_by_policy(policies.policies.values())
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    try:
        counts = purge_expired(engine, days, by_policy=by_policy, dry_run=args.dry_run)
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
    own = "".join(f", {name}: {d} days" for name, d in sorted(by_policy.items()))
    print(f"{verb} {sum(counts.values())} transcript turn(s) past their retention ({days} days{own}) in {len(counts)} tenant(s)")
    return 0


def register(sub: Any) -> None:
    retention = sub.add_parser("retention", help="data retention")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    purge = retention_sub.add_parser("purge", help="delete transcripts past their policy's transcripts.retention_days (default privacy.transcript_retention_days)")
    purge.add_argument("--dry-run", action="store_true", help="only count, per tenant, what would be deleted")
    purge.set_defaults(fn=cmd_purge)
