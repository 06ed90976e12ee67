"""``bedside version`` and ``bedside config show`` (effective settings, secrets masked).

``config show`` also says where authentication comes from (``auth``): the keys in settings
(``api_keys``, listed above it) and the active keys in the database (``bedside keys``), which the
settings alone do not show. It reads the database only if it exists, and never creates it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proxy import __version__
from proxy.cli.common import load_settings

if TYPE_CHECKING:
    from proxy.settings import Settings


def cmd_version(args: argparse.Namespace) -> int:
    print(f"bedside {__version__}")
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    settings = load_settings()
    shown = settings.masked()
    shown["auth"] = auth_summary(settings)
    print(json.dumps(shown, indent=2, default=str))
    return 0


def auth_summary(settings: Settings) -> dict[str, Any]:
    """Where authentication comes from: keys in settings, active keys in the database, the mode."""
    in_settings = len(settings.api_keys)
    in_database, database = _database_keys(settings)
    total = in_settings + (in_database or 0)
    if total:
        parts = [f"{in_settings} in settings (api_keys)" if in_settings else "", f"{in_database} in the database (bedside keys list)" if in_database else ""]
        detail = f"keys: every request needs one; {' and '.join(p for p in parts if p)}"
    else:
        detail = "open: no API key in settings or the database, so anyone who can reach Bedside can use it (bedside keys create --tenant NAME)"
    if in_database is None:
        detail += f"; the database was not read ({database})"
    return {"mode": "keys" if total else "open", "keys_in_settings": in_settings, "keys_in_database": in_database, "database": database, "detail": detail}


def _database_keys(settings: Settings) -> tuple[int | None, str]:
    """(active keys in the database, or None when it could not be read; what was read or why not)."""
    import sqlalchemy as sa

    from proxy.storage.engine import make_engine

    url = settings.database_url()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if not Path(path).is_file():
            return 0, f"{path} does not exist yet (bedside serve or bedside db upgrade creates it)"
    shown = settings.masked()["database_url_effective"]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("api_keys"):
                return 0, f"{shown} (no api_keys table yet)"
            count = conn.execute(sa.text("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL")).scalar_one()
            return int(count), shown
    except Exception as exc:  # noqa: BLE001 - say why, do not fail the command
        return None, f"{shown} did not answer ({type(exc).__name__})"
    finally:
        engine.dispose()


def register_version(sub: Any) -> None:
    sub.add_parser("version", help="print the version").set_defaults(fn=cmd_version)


def register(sub: Any) -> None:
    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("show", help="print the effective settings, secrets masked").set_defaults(fn=cmd_config_show)
