"""An attacker's battery against a Bedside this script starts itself.

    PYTHONPATH=. python bench/security_probe.py            # full run (~3 min)
    PYTHONPATH=. python bench/security_probe.py --quick    # fewer inputs, shorter bounds (~1.5 min)
    PYTHONPATH=. python bench/security_probe.py --check    # exit 1 on any leak, 5xx or hang
    PYTHONPATH=. python bench/security_probe.py --json out.json

Starts, on free loopback ports: a recording fake upstream (in this process), an open-mode Bedside
and a keyed Bedside (two tenants), each ``python -m proxy.cli serve`` in its own temporary data
directory with the repository's policies/. Prints one row per category: inputs tried, 2xx, 4xx,
5xx, hangs, leaks (a canary reached the upstream verbatim, the server log, or another user's reply)
and odd (an expectation that is not a leak, e.g. 401 expected before body parsing), then every
input that leaked, failed or behaved oddly. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from probe import cases
from probe.harness import Bedside, FakeUpstream, Outcome, StartError

CATEGORIES = ["cross_user", "fields", "shadow_alias", "obfuscated", "logs", "marker", "client_500", "slow", "crash_visible", "vault_growth", "smaller"]


def table(outcomes: list[Outcome]) -> list[str]:
    head = f"{'category':<14} {'inputs':>6} {'2xx':>5} {'4xx':>5} {'5xx':>5} {'hang':>5} {'leak':>5} {'odd':>5} {'other':>5}"
    lines = [head, "-" * len(head)]
    totals = [0] * 8
    for cat in CATEGORIES:
        rows = [o for o in outcomes if o.category == cat]
        if not rows:
            continue
        row = [
            len(rows),
            sum(1 for o in rows if o.status is not None and 200 <= o.status < 300),
            sum(1 for o in rows if o.status is not None and 400 <= o.status < 500),
            sum(1 for o in rows if o.is_5xx),
            sum(1 for o in rows if o.hang),
            sum(1 for o in rows if o.leaks),
            sum(1 for o in rows if o.odd),
            sum(1 for o in rows if _other(o)),
        ]
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        lines.append(f"{cat:<14} " + " ".join(f"{v:>{w}}" for v, w in zip(row, (6, 5, 5, 5, 5, 5, 5, 5), strict=True)))
    lines.append("-" * len(head))
    lines.append(f"{'total':<14} " + " ".join(f"{v:>{w}}" for v, w in zip(totals, (6, 5, 5, 5, 5, 5, 5, 5), strict=True)))
    return lines


def _other(o: Outcome) -> bool:
    """No HTTP response without a hang, a 1xx/3xx, or a 5xx that is the designed answer (502 for a broken upstream)."""
    if o.status is None:
        return not o.hang
    return not (200 <= o.status < 300 or 400 <= o.status < 500 or o.is_5xx)


def details(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        flags = []
        if o.leaks:
            flags.append("LEAK " + "; ".join(o.leaks))
        if o.is_5xx:
            flags.append(f"5xx {o.status}")
        if o.hang:
            flags.append("HANG")
        if o.odd:
            flags.append("ODD " + "; ".join(o.odd))
        if flags or (o.category in ("vault_growth", "slow", "crash_visible") and o.note):
            status = "-" if o.status is None else o.status
            note = f"  [{o.note}]" if o.note else ""
            lines.append(f"  {o.category:<13} {o.name} -> {status}: {' | '.join(flags) or 'ok'}{note}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer inputs and shorter bounds")
    ap.add_argument("--check", action="store_true", help="exit 1 if any leak, 5xx or hang occurred")
    ap.add_argument("--json", metavar="FILE", help="also write every outcome as JSON")
    ap.add_argument("--only", help="comma-separated categories to run (default: all)")
    ap.add_argument("--keep", action="store_true", help="keep the servers' temporary directories (logs) for inspection")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else set(CATEGORIES)
    unknown = only - set(CATEGORIES)
    if unknown:
        ap.error(f"unknown categories: {', '.join(sorted(unknown))}")

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    upstream = FakeUpstream()
    # --quick gives slow clients 15 s: the servers then cut them off sooner than the defaults (10 s
    # for headers, 30 s for a body), the way an operator can
    limits = {"BEDSIDE_SERVER__HEADER_TIMEOUT": "5", "BEDSIDE_SERVER__BODY_TIMEOUT": "8", "BEDSIDE_SERVER__BODY_IDLE_TIMEOUT": "5"} if args.quick else {}
    open_srv = Bedside("open", upstream.url, settings=limits)
    keyed = Bedside("keyed", upstream.url, tenants=["tenant-a", "tenant-b"])
    failed_start = False
    try:
        upstream.start()
        for srv in (open_srv, keyed):
            srv.start()
        for srv in (open_srv, keyed):
            srv.wait_ready()
        print(f"servers ready in {time.monotonic() - started:.1f}s (open :{open_srv.port}, keyed :{keyed.port}, fake upstream :{upstream.port})", file=sys.stderr, flush=True)
        p = cases.Probe(upstream, open_srv, keyed, quick=args.quick)
        finish_slow = None
        for cat in CATEGORIES:
            if cat not in only:
                continue
            t0 = time.monotonic()
            if cat == "slow":  # runs in the background while later categories run
                finish_slow = cases.slow_start(p)
            else:
                getattr(cases, cat)(p)
            print(f"  {cat:<14} {time.monotonic() - t0:6.1f}s", file=sys.stderr, flush=True)
        if finish_slow is not None:
            finish_slow()
        time.sleep(0.5)
        p.scan_logs()
    except StartError as exc:
        failed_start = True
        print(f"security_probe: could not start the servers: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("security_probe: interrupted", file=sys.stderr)
        return 130
    finally:
        for srv in (open_srv, keyed):
            srv.stop(keep=args.keep or failed_start)
        upstream.stop()
        if args.keep or failed_start:
            print(f"logs kept in {open_srv.workdir} and {keyed.workdir}", file=sys.stderr)

    outcomes = p.outcomes
    rev = _git_rev()
    print(f"Bedside security probe ({'quick' if args.quick else 'full'}; {rev}; {time.monotonic() - started:.0f}s)")
    print("\n".join(table(outcomes)))
    print("(other: no HTTP response without a hang, or a 502/503/504 that is the designed answer to a broken upstream)")
    print("\nfindings (leak: where the canary was seen; 5xx/hang/odd: what happened):")
    print("\n".join(details(outcomes)) or "  none")
    if args.json:
        Path(args.json).write_text(json.dumps({"revision": rev, "quick": args.quick, "outcomes": [asdict(o) for o in outcomes]}, indent=1))
    bad = any(o.leaks or o.is_5xx or o.hang for o in outcomes)
    return 1 if args.check and bad else 0


def _git_rev() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=5).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
