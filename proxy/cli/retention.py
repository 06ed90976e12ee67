"""``bedside retention purge [--dry-run]``: delete what is past its retention.

* transcripts: a turn is kept for its policy's ``transcripts.retention_days``, or
  ``privacy.transcript_retention_days`` when its policy sets none or is gone;
* memories: deleted once not updated for longer than the longest ``memory.retention_days`` among
  the loaded policies that enable memory (the default, 180 days, when none does; see
  ``proxy.privacy.memory_retention`` for why).

The policies are read from the configured directory. Prints the rows deleted (or, with
``--dry-run``, the rows that would be) per kind and tenant. ``serve`` runs the same purge every
``privacy.purge_interval_seconds``. When the policies do not load nothing is purged (exit 1): the
retention they declare is unknown. A purge that
deleted rows is recorded in the audit log (an ``admin`` entry per kind and tenant,
``retention_purge``, with the count).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from proxy.cli.common import load_settings


def _print(kind: str, counts: dict[str, int]) -> None:
    for tenant, n in sorted(counts.items()):
        print(f"{kind}\t{tenant}\t{n}")


def cmd_purge(args: argparse.Namespace) -> int:
    from proxy.policy import PolicyLoadError
    from proxy.policy.policy_set import ResolvedPolicy, load_policy_set
    from proxy.privacy.memory_retention import memory_retention_days, purge_expired_memories
    from proxy.privacy.transcripts import purge_expired, retention_by_policy
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine

    settings = load_settings()
    days = settings.privacy.transcript_retention_days
    policies: list[ResolvedPolicy] = []
    if settings.policy.enabled:
        try:
            loaded = load_policy_set(settings.policy.directory, default_policy=settings.policy.default, unknown_model=settings.policy.unknown_model)
        except PolicyLoadError as exc:
            print(f"nothing purged: the policies in {settings.policy.directory} do not load ({len(exc.issues)} problem(s); run `bedside policy check`)", file=sys.stderr)
            return 1
        policies = list(loaded.policies.values())
    by_policy = retention_by_policy(policies)
    memory_days = memory_retention_days(policies)
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    try:
        transcripts = purge_expired(engine, days, by_policy=by_policy, dry_run=args.dry_run)
        memories = purge_expired_memories(engine, memory_days, dry_run=args.dry_run)
        if not args.dry_run and settings.audit.enabled and (transcripts or memories):
            from proxy.audit.events import retention_events
            from proxy.audit.wiring import build_audit_log

            log = build_audit_log(settings, engine, None, signing=False)
            for event in [*retention_events("transcripts", transcripts, days), *retention_events("memories", memories, memory_days)]:
                log.append_sync(event)
    finally:
        engine.dispose()
    verb = "would delete" if args.dry_run else "deleted"
    _print("transcripts", transcripts)
    own = "".join(f", {name}: {d} days" for name, d in sorted(by_policy.items()))
    print(f"{verb} {sum(transcripts.values())} transcript turn(s) past their retention ({days} days{own}) in {len(transcripts)} tenant(s)")
    _print("memories", memories)
    print(f"{verb} {sum(memories.values())} memories not updated for over {memory_days} days in {len(memories)} tenant(s)")
    return 0


def register(sub: Any) -> None:
    retention = sub.add_parser("retention", help="data retention")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    purge = retention_sub.add_parser("purge", help="delete transcripts and memories past their retention (see docs/privacy.md)")
    purge.add_argument("--dry-run", action="store_true", help="only count, per kind and tenant, what would be deleted")
    purge.set_defaults(fn=cmd_purge)
