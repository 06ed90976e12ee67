"""``bedside demo-upstream [--host] [--port]``: the offline demo model as an OpenAI-compatible server."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_demo_upstream(args: argparse.Namespace) -> int:
    from proxy.demo.server import run

    run(args.host, args.port, faults=args.faults, record=args.record, slow_seconds=args.slow_seconds, responses=not args.chat_only)
    return 0


def register(sub: Any) -> None:
    demo = sub.add_parser("demo-upstream", help="run the offline demo model server")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8090)
    demo.add_argument("--faults", action="store_true", help="test harness: misbehave for models named fault-* (see proxy/demo/server.py)")
    demo.add_argument("--record", action="store_true", help="keep every request received: GET /_recorded shows what reached the model, DELETE /_recorded clears it")
    demo.add_argument("--slow-seconds", type=float, default=5.0, help="delay of the fault-slow and fault-stall models")
    demo.add_argument("--chat-only", action="store_true", help="serve chat completions but not the Responses API (like many local model servers)")
    demo.set_defaults(fn=cmd_demo_upstream)
