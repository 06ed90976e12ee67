"""The ``bedside`` command.

::

    bedside serve [--host H] [--port P]      run the proxy (uvicorn, uvloop, httptools)
    bedside demo-upstream [--host] [--port]  run the offline demo model server
    bedside version
    bedside config show                      effective settings, secrets masked
    bedside policy check [DIR]               validate policies: file:line:col: field: what is wrong
    bedside policy show NAME [--dir DIR]     the merged policy as it will be applied
    bedside policy test [DIR]                run DIR/tests/*.yaml cases through the real pipeline, offline
    bedside db upgrade | downgrade REV       apply alembic migrations
    bedside keys create --tenant T [--name]  create a client key (printed once, stored hashed)
    bedside keys list | revoke ID | hash KEY

Exit codes: 0 success, 1 a check failed or an operation was refused, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from proxy import __version__


def _settings() -> "object":
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


def cmd_serve(args: argparse.Namespace) -> int:
    from proxy.app import create_app
    from proxy.logs import configure_logging
    from proxy.runtime import prepare_process
    from proxy.server import serve
    from proxy.settings import Settings

    prepare_process()
    settings = _settings()
    assert isinstance(settings, Settings)
    overrides: dict[str, object] = {}
    if args.host or args.port is not None:
        server = settings.server.model_copy(update={k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None})
        overrides["server"] = server
    if overrides:
        settings = settings.model_copy(update=overrides)
    configure_logging(settings.log.level, settings.log.format)
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


def cmd_demo_upstream(args: argparse.Namespace) -> int:
    from proxy.demo.server import run

    run(args.host, args.port, faults=args.faults, record=args.record, slow_seconds=args.slow_seconds)
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    print(f"bedside {__version__}")
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    from proxy.settings import Settings

    settings = _settings()
    assert isinstance(settings, Settings)
    print(json.dumps(settings.masked(), indent=2, default=str))
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from proxy.settings import Settings
    from proxy.storage import migrate

    settings = _settings()
    assert isinstance(settings, Settings)
    url = settings.database_url()
    if args.db_command == "upgrade":
        migrate.upgrade(url, args.revision)
    else:
        migrate.downgrade(url, args.revision)
    print(f"database {args.db_command}d to {args.revision}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from proxy import auth
    from proxy.settings import Settings
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine

    if args.keys_command == "hash":
        print(auth.hash_key(args.key))
        return 0
    settings = _settings()
    assert isinstance(settings, Settings)
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    try:
        if args.keys_command == "create":
            key, row = auth.create_db_key(engine, args.tenant, args.name)
            print(key)
            print(f"Created key {row.id} for tenant '{row.tenant}'. It is shown only now: store it safely.", file=sys.stderr)
            return 0
        if args.keys_command == "list":
            for row in auth.list_db_keys(engine):
                state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                print(f"{row.id}\t{row.tenant}\t{row.prefix}...\t{row.name or ''}\t{state}")
            return 0
        if auth.revoke_db_key(engine, args.id):
            print(f"Revoked key {args.id}; running proxies stop accepting it within seconds.")
            return 0
        print(f"No active key with id {args.id}. `bedside keys list` shows them.", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _policy_dir(args: argparse.Namespace) -> "object":
    from pathlib import Path

    if args.directory:
        return Path(args.directory)
    from proxy.settings import Settings

    settings = _settings()
    assert isinstance(settings, Settings)
    return settings.policy.directory


def cmd_policy(args: argparse.Namespace) -> int:
    from pathlib import Path

    from proxy.policy import PolicyLoadError, check_directory, load_policy_set, show

    directory = _policy_dir(args)
    assert isinstance(directory, Path)
    if not directory.is_dir():
        print(f"{directory}: not a directory. Pass the policy directory, e.g. `bedside policy {args.policy_command} policies/`.", file=sys.stderr)
        return 2
    if args.policy_command == "check":
        issues = check_directory(directory)
        for issue in issues:
            print(str(issue))
        if issues:
            print(f"\n{len(issues)} problem{'s' if len(issues) != 1 else ''} in {directory}; nothing was loaded.", file=sys.stderr)
            return 1
        policy_set = load_policy_set(directory)
        names = [n for n, p in policy_set.policies.items() if not p.abstract]
        print(f"{directory}: {len(policy_set.policies)} policies OK ({', '.join(names)}); version {policy_set.version}")
        return 0
    if args.policy_command == "show":
        try:
            policy_set = load_policy_set(directory)
        except PolicyLoadError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        policy = policy_set.policies.get(args.name) or next((p for p in policy_set.policies.values() if args.name in p.routing.aliases), None)
        if policy is None:
            print(f"No policy or alias '{args.name}'. Policies: {', '.join(policy_set.policies)}.", file=sys.stderr)
            return 1
        print(show(policy), end="")
        return 0
    return _policy_test(directory)


def _policy_test(directory: "object") -> int:
    from pathlib import Path

    from proxy.logs import configure_logging
    from proxy.policy import PolicyLoadError
    from proxy.policy.cases import CaseResult, run_cases

    assert isinstance(directory, Path)
    configure_logging("error", "console", stream=sys.stderr)

    def progress(result: CaseResult) -> None:
        mark = "PASS" if result.ok else "FAIL"
        print(f"{mark}  {result.file.name} :: {result.case} [{result.mode}]", flush=True)
        for failure in result.failures:
            print(f"      - {failure}", flush=True)

    try:
        results, problems = run_cases(directory, progress=progress)
    except PolicyLoadError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if not results and not problems:
        print(f"No test cases in {directory / 'tests'}. See docs/policies.md for the case file format.", file=sys.stderr)
        return 1
    failed = sum(1 for r in results if not r.ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed or problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bedside", description="Bedside: the guardrail and consent proxy for LLM apps.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the proxy")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(fn=cmd_serve)

    demo = sub.add_parser("demo-upstream", help="run the offline demo model server")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8090)
    demo.add_argument("--faults", action="store_true", help="test harness: misbehave for models named fault-* (see proxy/demo/server.py)")
    demo.add_argument("--record", action="store_true", help="test harness: record request bodies, served at GET /_recorded")
    demo.add_argument("--slow-seconds", type=float, default=5.0, help="delay of the fault-slow and fault-stall models")
    demo.set_defaults(fn=cmd_demo_upstream)

    sub.add_parser("version", help="print the version").set_defaults(fn=cmd_version)

    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("show", help="print the effective settings, secrets masked").set_defaults(fn=cmd_config_show)

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(fn=cmd_db)
    down = db_sub.add_parser("downgrade")
    down.add_argument("revision")
    down.set_defaults(fn=cmd_db)

    policy = sub.add_parser("policy", help="policies: check, show, test")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    pcheck = policy_sub.add_parser("check", help="validate every policy file (exit 1 on problems)")
    pcheck.add_argument("directory", nargs="?", default=None)
    pcheck.set_defaults(fn=cmd_policy)
    pshow = policy_sub.add_parser("show", help="print the merged policy as it will be applied")
    pshow.add_argument("name", help="policy name or model alias")
    pshow.add_argument("--dir", dest="directory", default=None)
    pshow.set_defaults(fn=cmd_policy)
    ptest = policy_sub.add_parser("test", help="run the policy test cases in DIR/tests (offline)")
    ptest.add_argument("directory", nargs="?", default=None)
    ptest.set_defaults(fn=cmd_policy)

    keys = sub.add_parser("keys", help="client API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create")
    create.add_argument("--tenant", required=True)
    create.add_argument("--name", default=None)
    create.set_defaults(fn=cmd_keys)
    keys_sub.add_parser("list").set_defaults(fn=cmd_keys)
    revoke = keys_sub.add_parser("revoke")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(fn=cmd_keys)
    hsh = keys_sub.add_parser("hash", help="print the SHA-256 to put in settings api_keys")
    hsh.add_argument("key")
    hsh.set_defaults(fn=cmd_keys)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    fn: Callable[[argparse.Namespace], int] = args.fn
    return fn(args)


if __name__ == "__main__":
    sys.exit(main())
