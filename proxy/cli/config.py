"""``bedside version`` and ``bedside config show`` (effective settings, secrets masked)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from proxy import __version__
from proxy.cli.common import load_settings


def cmd_version(args: argparse.Namespace) -> int:
    print(f"bedside {__version__}")
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    print(json.dumps(load_settings().masked(), indent=2, default=str))
    return 0


def register_version(sub: Any) -> None:
    sub.add_parser("version", help="print the version").set_defaults(fn=cmd_version)


def register(sub: Any) -> None:
    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("show", help="print the effective settings, secrets masked").set_defaults(fn=cmd_config_show)
