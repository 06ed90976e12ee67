"""``bedside serve [--host H] [--port P]``: run the proxy (uvicorn, uvloop, httptools)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from proxy import __version__
from proxy.cli.common import load_settings


def cmd_serve(args: argparse.Namespace) -> int:
    from proxy.app import create_app
    from proxy.cli.common import configure_cli_logging
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
    configure_cli_logging(settings.log.level, settings.log.format)
    try:
        app = create_app(settings)
    except Exception as exc:  # noqa: BLE001 - refuse to start with a readable reason
        report = getattr(exc, "report", None)
        print(report() if callable(report) else f"Bedside cannot start: {exc}", file=sys.stderr)
        return 2
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


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the proxy")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(fn=cmd_serve)
