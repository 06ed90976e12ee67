"""``bedside keys create --tenant T [--name N] [--scopes chat,privacy] | list | revoke ID | hash KEY``: client API keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from proxy.cli.common import load_settings


def cmd_keys(args: argparse.Namespace) -> int:
    from proxy import auth
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine

    if args.keys_command == "hash":
        print(auth.hash_key(args.key))
        return 0
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
            key, row = auth.create_db_key(engine, args.tenant, args.name, scopes)
            print(key)
            print(f"Created key {row.id} for tenant '{row.tenant}' with scopes {row.scopes.replace(' ', ',')}. It is shown only now: store it safely.", file=sys.stderr)
            return 0
        if args.keys_command == "list":
            for row in auth.list_db_keys(engine):
                state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                print(f"{row.id}\t{row.tenant}\t{row.prefix}...\t{row.scopes.replace(' ', ',')}\t{row.name or ''}\t{state}")
            return 0
        if auth.revoke_db_key(engine, args.id):
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
    create.add_argument("--scopes", default=None, help="comma-separated: chat (the OpenAI endpoints, the default), privacy (the /v1/users/... API), admin (the /v1/audit/... API)")
    create.set_defaults(fn=cmd_keys)
    keys_sub.add_parser("list").set_defaults(fn=cmd_keys)
    revoke = keys_sub.add_parser("revoke")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(fn=cmd_keys)
    hsh = keys_sub.add_parser("hash", help="print the SHA-256 to put in settings api_keys")
    hsh.add_argument("key")
    hsh.set_defaults(fn=cmd_keys)
