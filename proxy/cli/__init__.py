"""The ``bedside`` command (console script ``proxy.cli:main``; also ``python -m proxy.cli``).

::

    bedside serve [--host H] [--port P]      run the proxy (uvicorn, uvloop, httptools)
    bedside demo-upstream [--host] [--port]  run the offline demo model server
    bedside version
    bedside config show                      effective settings, secrets masked
    bedside policy check [DIR]               validate policies: file:line:col: field: what is wrong
    bedside policy show NAME [--dir DIR]     the merged policy as it will be applied
    bedside policy test [DIR]                run DIR/tests/*.yaml cases through the real pipeline, offline
    bedside db upgrade | downgrade REV       apply alembic migrations
    bedside keys create --tenant T [--name] [--scopes chat,privacy,admin,metrics]
                                             create a client key (printed once, stored hashed)
    bedside keys list | revoke ID | hash KEY
    bedside kek generate --out FILE          write a new KEK file (0600), print its id
    bedside kek rotate --old FILE --new FILE re-wrap every live data key under the new KEK
    bedside retention purge [--dry-run]      delete transcripts and memories past their retention
    bedside report --since 7d --out F.html   the KPIs and version comparison as one self-contained HTML page with plots
    bedside users export USER --tenant T [--out FILE]
                                             everything Bedside holds about a user, as one JSON document
    bedside users erase USER --tenant T      erase a user and print the deletion receipt
    bedside audit verify [--checkpoint FILE] recompute the audit log's tree, check every signed checkpoint
    bedside audit tail [-n N] [-f] | export --since WHEN --reason TEXT | checkpoint | key | keygen | record
    bedside docs [--check]                   write (or check) the generated reference pages in docs/

One module per command family (``serve``, ``demo``, ``config``, ``db``, ``policy`` and its case
runner ``policy_cases``, ``keys``, ``kek``, ``retention``, ``report``, ``users``, ``audit``, ``docs``), each with a ``register(subparsers)``. Commands import
what they need when they run, so ``bedside version`` stays fast. Commands that build the app or the
detectors run :func:`proxy.runtime.prepare_process` first (``create_app`` does it too).

Exit codes: 0 success, 1 a check failed or an operation was refused, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from proxy.cli import audit, config, db, demo, docs, kek, keys, policy, report, retention, serve, users


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bedside", description="Bedside: the guardrail and consent proxy for LLM apps.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve.register(sub)
    demo.register(sub)
    config.register_version(sub)
    config.register(sub)
    db.register(sub)
    policy.register(sub)
    keys.register(sub)
    kek.register(sub)
    retention.register(sub)
    report.register(sub)
    users.register(sub)
    audit.register(sub)
    docs.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    fn: Callable[[argparse.Namespace], int] = args.fn
    return fn(args)
