"""``bedside keys create --tenant T [--name N] [--scopes chat,privacy,admin,metrics] [--reason R] | list | revoke ID [--reason R] | hash KEY``: client API keys.

The first key turns authentication on: a running ``bedside serve`` sees it within seconds and logs
``auth_mode`` (``keys``) loudly; ``create`` says so too. Creating and revoking a key is recorded in
the audit log (an ``api_key`` entry: key id, tenant, scopes and the optional reason; never the key
or its hash).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from proxy.cli.common import load_settings


def _record(settings: Any, engine: Any, event: Any) -> None:
    """Append the change to the audit log (when it is on)."""
    if not settings.audit.enabled:
        return
    from proxy.audit.wiring import build_audit_log

    index = build_audit_log(settings, engine, None, signing=False).append_sync(event)
    print(f"Recorded in the audit log as entry {index}.", file=sys.stderr)


def _reason(args: argparse.Namespace) -> str | None:
    from proxy.audit.events import check_reason

    return check_reason(args.reason) if getattr(args, "reason", None) else None


def cmd_keys(args: argparse.Namespace) -> int:
    from proxy import auth
    from proxy.audit.events import ApiKeyChange
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine

    if args.keys_command == "hash":
        print(auth.hash_key(args.key))
        return 0
    try:
        reason = _reason(args)
    except ValueError as exc:
        print(f"--reason: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    try:
        if args.keys_command == "create":
            try:
                scopes = auth.parse_scopes(args.scopes)
            except ValueError as exc:
                print(str(exc), file=sys.stderr)
                return 2
            first = not settings.api_keys and not any(r.revoked_at is None for r in auth.list_db_keys(engine))
            key, row = auth.create_db_key(engine, args.tenant, args.name, scopes)
            _record(settings, engine, ApiKeyChange(action="create", key_id=row.id or 0, tenant=row.tenant, scopes=sorted(scopes), reason=reason))
            print(key)
            print(f"Created key {row.id} for tenant '{row.tenant}' with scopes {row.scopes.replace(' ', ',')}. It is shown only now: store it safely.", file=sys.stderr)
            if first:
                print(
                    "This is the first key: authentication is now ON. A running Bedside using this database switches within "
                    f"{auth.KEY_REFRESH_SECONDS:.0f} seconds, and from then on every request needs a key ('Authorization: Bearer <key>').",
                    file=sys.stderr,
                )
            return 0
        if args.keys_command == "list":
            for row in auth.list_db_keys(engine):
                state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                print(f"{row.id}\t{row.tenant}\t{row.prefix}...\t{row.scopes.replace(' ', ',')}\t{row.name or ''}\t{state}")
            return 0
        if auth.revoke_db_key(engine, args.id):
            _record(settings, engine, ApiKeyChange(action="revoke", key_id=args.id, reason=reason))
            print(f"Revoked key {args.id}; running proxies stop accepting it within seconds.")
            return 0
        print(f"No active key with id {args.id}. `bedside keys list` shows them.", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def register(sub: Any) -> None:
    keys = sub.add_parser("keys", help="client API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create")
    create.add_argument("--tenant", required=True)
    create.add_argument("--name", default=None)
    create.add_argument("--reason", default=None, help="why (recorded in the audit log; no personal data)")
    create.add_argument(
        "--scopes",
        default=None,
        help="comma-separated: chat (the OpenAI endpoints, the default), privacy (the /v1/users/... API), admin (KPIs, console, /v1/audit/...), metrics (GET /metrics)",
    )
    create.set_defaults(fn=cmd_keys)
    keys_sub.add_parser("list").set_defaults(fn=cmd_keys)
    revoke = keys_sub.add_parser("revoke")
    revoke.add_argument("id", type=int)
    revoke.add_argument("--reason", default=None, help="why (recorded in the audit log; no personal data)")
    revoke.set_defaults(fn=cmd_keys)
    hsh = keys_sub.add_parser("hash", help="print the SHA-256 to put in settings api_keys")
    hsh.add_argument("key")
    hsh.set_defaults(fn=cmd_keys)
