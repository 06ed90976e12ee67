"""``bedside retention purge [--dry-run]``: delete what is past its retention.

* transcripts older than ``privacy.transcript_retention_days``;
* memories not updated for longer than the longest ``memory.retention_days`` among the loaded
  policies that enable memory (the default, 180 days, when none does; see
  ``proxy.privacy.memory_retention`` for why).

Prints the rows deleted (or, with ``--dry-run``, the rows that would be) per kind and tenant. Other
tables keep their own rules. ``serve`` runs the same purge every ``privacy.purge_interval_seconds``.
Exit 1 when the policies cannot be loaded (transcripts are purged, memories are not).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from proxy.cli.common import load_settings


def _print(kind: str, what: str, counts: dict[str, int], days: int, verb: str) -> None:
    for tenant, n in sorted(counts.items()):
        print(f"{kind}\t{tenant}\t{n}")
    print(f"{verb} {sum(counts.values())} {what} older than {days} days in {len(counts)} tenant(s)")


def cmd_purge(args: argparse.Namespace) -> int:
    from proxy.policy import PolicyLoadError, load_policy_set
    from proxy.privacy.memory_retention import DEFAULT_RETENTION_DAYS, memory_retention_days, purge_expired_memories
    from proxy.privacy.transcripts import purge_expired
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine

    settings = load_settings()
    verb = "would delete" if args.dry_run else "deleted"
    memory_days: int | None = DEFAULT_RETENTION_DAYS
    if settings.policy.enabled:
        try:
            policies = load_policy_set(settings.policy.directory, default_policy=settings.policy.default, unknown_model=settings.policy.unknown_model)
            memory_days = memory_retention_days(policies.policies.values())
        except PolicyLoadError as exc:
            print(f"memories not purged: the policies in {settings.policy.directory} do not load ({len(exc.issues)} problem(s); run `bedside policy check`)", file=sys.stderr)
            memory_days = None
    days = settings.privacy.transcript_retention_days
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    try:
        _print("transcripts", "transcript turn(s)", purge_expired(engine, days, dry_run=args.dry_run), days, verb)
        if memory_days is not None:
            _print("memories", "memories not updated", purge_expired_memories(engine, memory_days, dry_run=args.dry_run), memory_days, verb)
    finally:
        engine.dispose()
    return 0 if memory_days is not None else 1


def register(sub: Any) -> None:
    retention = sub.add_parser("retention", help="data retention")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    purge = retention_sub.add_parser("purge", help="delete transcripts and memories past their retention")
    purge.add_argument("--dry-run", action="store_true", help="only count, per kind and tenant, what would be deleted")
    purge.set_defaults(fn=cmd_purge)
