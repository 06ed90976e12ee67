"""``bedside policy check [DIR] | show NAME [--dir DIR] | test [DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from proxy.cli.common import load_settings, policy_dir


def cmd_policy(args: argparse.Namespace) -> int:
    from proxy.policy import PolicyLoadError, check_directory, load_policy_set, show

    directory = policy_dir(args)
    if not directory.is_dir():
        print(f"{directory}: not a directory. Pass the policy directory, e.g. `bedside policy {args.policy_command} policies/`.", file=sys.stderr)
        return 2
    # the same default policy and unknown-model rule as `bedside serve` (BEDSIDE_POLICY__DEFAULT, ...)
    settings = load_settings().policy
    if args.policy_command == "check":
        issues = check_directory(directory, default_policy=settings.default)
        for issue in issues:
            print(str(issue))
        if issues:
            print(f"\n{len(issues)} problem{'s' if len(issues) != 1 else ''} in {directory}; nothing was loaded.", file=sys.stderr)
            return 1
        policy_set = load_policy_set(directory, default_policy=settings.default, unknown_model=settings.unknown_model)
        names = [n for n, p in policy_set.policies.items() if not p.abstract]
        count = len(policy_set.policies)
        print(f"{directory}: {count} polic{'y' if count == 1 else 'ies'} OK ({', '.join(names)}); version {policy_set.version}")
        print(f"  {_fallback(policy_set)}")
        return 0
    if args.policy_command == "show":
        try:
            policy_set = load_policy_set(directory, default_policy=settings.default, unknown_model=settings.unknown_model)
        except PolicyLoadError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        policy = policy_set.policies.get(args.name) or next((p for p in policy_set.policies.values() if args.name in p.routing.aliases), None)
        if policy is None:
            print(f"No policy or alias '{args.name}'. Policies: {', '.join(policy_set.policies)}.", file=sys.stderr)
            return 1
        print(show(policy), end="")
        return 0
    return policy_test(directory)


def _fallback(policy_set: Any) -> str:
    """What happens to a model no alias names, in one line."""
    aliases = ", ".join(policy_set.aliases()) or "(none)"
    if policy_set.default_policy is None:
        return f"no default policy: a model that is not an alias ({aliases}) gets 404 model_not_found"
    allowed = policy_set.default.routing.allowed_models if policy_set.default is not None else None
    if allowed is not None:
        return f"default policy '{policy_set.default_policy}' serves {', '.join(allowed)}; other models that are not an alias ({aliases}) get 404"
    if policy_set.unknown_model == "refuse":
        return f"default policy '{policy_set.default_policy}' is set, but policy.unknown_model is 'refuse': models that are not an alias ({aliases}) get 404"
    return f"default policy '{policy_set.default_policy}' serves every model that is not an alias ({aliases})"


def policy_test(directory: Path) -> int:
    """Run the cases of ``directory/tests`` (see :mod:`proxy.cli.policy_cases`), one line per case."""
    from proxy.cli.common import configure_cli_logging
    from proxy.cli.policy_cases import CaseResult, run_cases
    from proxy.policy import PolicyLoadError

    configure_cli_logging("error", "console", stream=sys.stderr)

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


def register(sub: Any) -> None:
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
