"""``bedside db upgrade [REV] | downgrade REV``: alembic migrations (SQLite or PostgreSQL)."""

from __future__ import annotations

import argparse
from typing import Any

from proxy.cli.common import load_settings


def cmd_db(args: argparse.Namespace) -> int:
    from proxy.storage import migrate

    url = load_settings().database_url()
    if args.db_command == "upgrade":
        migrate.upgrade(url, args.revision)
    else:
        migrate.downgrade(url, args.revision)
    print(f"database {args.db_command}d to {args.revision}")
    return 0


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(fn=cmd_db)
    down = db_sub.add_parser("downgrade")
    down.add_argument("revision")
    down.set_defaults(fn=cmd_db)
