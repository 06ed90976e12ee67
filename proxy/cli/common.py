"""What the commands share: reading the settings with readable errors, and the policy directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from proxy.settings import Settings


def load_settings() -> Settings:
    """The effective settings; on a bad setting, what is wrong (with its variable) and exit 2."""
    from proxy.settings import Settings

    try:
        return Settings()
    except (ValidationError, FileNotFoundError, ValueError) as exc:
        print("Bedside's configuration is not valid:", file=sys.stderr)
        if isinstance(exc, ValidationError):
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "(settings)"
                env = "BEDSIDE_" + "__".join(str(p).upper() for p in err["loc"])
                print(f"  {loc} ({env}): {err['msg']}", file=sys.stderr)
        else:
            print(f"  {exc}", file=sys.stderr)
        print("See docs/configuration.md for every setting.", file=sys.stderr)
        raise SystemExit(2) from None


def configure_cli_logging(level: str, fmt: str, stream: Any = None) -> None:
    """The command's logging: ``fmt`` ``auto`` (a terminal reads console lines, anything else JSON),
    and libraries' unexpected warnings kept with their text, structured PII scrubbed from it."""
    from proxy.detectors.structured_pii import scrub
    from proxy.logs import configure_logging

    configure_logging(level, fmt, stream, library_scrub=scrub)


def policy_dir(args: argparse.Namespace) -> Path:
    """The directory given on the command line, else the configured one."""
    if args.directory:
        return Path(args.directory)
    return load_settings().policy.directory
