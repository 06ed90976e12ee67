"""``bedside serve [--host H] [--port P] [--quickstart]``: run the proxy (uvicorn, uvloop, httptools).

``serve`` refuses to start without a key-encryption key (``privacy.kek_file`` or ``privacy.kek_env``):
users' memories and transcripts are encrypted under it, and a key generated beside the database
protects nothing once both are copied. The quick start (``--quickstart``, or ``BEDSIDE_QUICKSTART=1``;
``make run`` passes it) may keep one in the data directory instead, and says so.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from proxy import __version__
from proxy.cli.common import load_settings


def cmd_serve(args: argparse.Namespace) -> int:
    from proxy.app import create_app
    from proxy.logs import configure_logging
    from proxy.runtime import prepare_process
    from proxy.server import serve

    prepare_process()
    settings = load_settings()
    overrides: dict[str, object] = {}
    if args.host or args.port is not None:
        server = settings.server.model_copy(update={k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None})
        overrides["server"] = server
    if overrides:
        settings = settings.model_copy(update=overrides)
    configure_logging(settings.log.level, settings.log.format)
    kek_note = kek_check(settings, quickstart=args.quickstart or _truthy(os.environ.get("BEDSIDE_QUICKSTART")))
    if kek_note is False:
        return 2
    try:
        app = create_app(settings)
    except Exception as exc:  # noqa: BLE001 - refuse to start with a readable reason
        report = getattr(exc, "report", None)
        print(report() if callable(report) else f"Bedside cannot start: {exc}", file=sys.stderr)
        return 2
    if isinstance(kek_note, str):
        print(kek_note, file=sys.stderr, flush=True)
    print(
        f"Bedside {__version__} on http://{settings.server.host}:{settings.server.port}/v1"
        f" ({'demo upstream' if settings.demo_mode else 'upstream: ' + ', '.join(u.base_url for u in settings.all_upstreams())})",
        file=sys.stderr,
        flush=True,
    )
    # Everything built at start-up (policies, models, recognizers) lives for the whole process:
    # freezing it keeps the garbage collector from walking it again on every collection.
    import gc

    gc.collect()
    gc.freeze()
    # requests allocate many short-lived containers; collect the young generation less often
    gc.set_threshold(20_000, 20, 50)
    serve(app, settings)
    return 0


NO_KEK = """Bedside cannot start: no key-encryption key (KEK) is configured.

Users' memories, transcripts and consent records are encrypted under data keys that a KEK wraps, and
the KEK must live outside the database (and its backups). Create one and point Bedside at it:

    bedside kek generate --out /etc/bedside/kek.key
    export BEDSIDE_PRIVACY__KEK_FILE=/etc/bedside/kek.key

or put it in a secret environment variable and name it: BEDSIDE_PRIVACY__KEK_ENV=BEDSIDE_KEK.
Only to try Bedside out, `bedside serve --quickstart` (what `make run` does) keeps one in the data
directory ({path}). See docs/privacy.md, "Keys"."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def kek_check(settings: Any, *, quickstart: bool) -> str | bool:
    """Whether serve may start, checked before the app is built (which creates the quick start's KEK).

    False: no KEK and not the quick start (the reason is printed). True: a KEK is configured. A
    string: the quick start's note saying where its KEK is, to print once the app is built."""
    from proxy.privacy.wiring import embedded_kek_path, kek_configured

    if kek_configured(settings):
        return True
    path = embedded_kek_path(settings)
    if not quickstart:
        print(NO_KEK.format(path=path), file=sys.stderr)
        return False
    verb = "Using the" if path.exists() else "Generated a"
    return (
        f"Quick start: {verb} key-encryption key in {path}. Fine for trying Bedside out; in production keep the KEK "
        "outside the data directory (BEDSIDE_PRIVACY__KEK_FILE or __KEK_ENV, docs/privacy.md)."
    )


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the proxy")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument(
        "--quickstart",
        action="store_true",
        help="allow a key-encryption key kept in the data directory (generated on first use) when none is configured; also BEDSIDE_QUICKSTART=1",
    )
    serve.set_defaults(fn=cmd_serve)
