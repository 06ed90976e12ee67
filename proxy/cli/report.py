"""``bedside report --since 7d --out report.html``: the KPIs as one self-contained HTML page with plots.

Reads the conversation outcomes in the configured database (``BEDSIDE_DATABASE__URL`` or the
SQLite file in ``data_dir``), for every tenant or one (``--tenant``), one policy or all
(``--policy``), and renders :func:`proxy.outcomes.report.render_report`: KPIs per policy version,
per day, and with ``--compare BASELINE,CANDIDATE`` the bootstrap comparison of two versions.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from proxy.cli.common import load_settings


def cmd_report(args: argparse.Namespace) -> int:
    from proxy.api.kpis import parse_when
    from proxy.errors import InvalidRequest
    from proxy.outcomes.kpis import compare_versions, compute_kpis
    from proxy.outcomes.report import render_report
    from proxy.storage import migrate
    from proxy.storage.engine import make_engine
    from proxy.storage.outcomes import OutcomeRepository

    settings = load_settings()
    now = datetime.now(UTC)
    try:
        until = parse_when(args.until, "until", now) or now
        since = parse_when(args.since, "since", now) or until - timedelta(days=7)
    except InvalidRequest as exc:
        print(f"bedside report: {exc}", file=sys.stderr)
        return 2
    compare = [p.strip() for p in (args.compare or "").split(",") if p.strip()]
    if args.compare is not None and len(compare) != 2:
        print("bedside report: --compare names two policy versions, baseline first: --compare BASELINE,CANDIDATE", file=sys.stderr)
        return 2
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    try:
        repo = OutcomeRepository(engine)
        rows = repo.between(args.tenant, since, until, policy=args.policy)
        first_seen = repo.first_seen(args.tenant, {r.subject for r in rows if r.subject})
    finally:
        engine.dispose()
    by_version = compute_kpis(rows, group_by="policy_version", first_seen=first_seen)
    by_day = compute_kpis(rows, group_by="day", first_seen=first_seen)
    comparison = compare_versions(rows, compare[0], compare[1]) if compare else None
    scope = f"tenant {args.tenant}" if args.tenant else "all tenants"
    period = f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC, {scope}" + (f", policy {args.policy}" if args.policy else "")
    page = render_report(title="Bedside: conversation outcomes", period=period, by_version=by_version, by_day=by_day, comparison=comparison)
    out = Path(args.out)
    out.write_text(page, encoding="utf-8")
    print(f"wrote {out} ({len(rows)} conversation(s), {len(page) // 1024} KiB)")
    return 0


def register(sub: Any) -> None:
    report = sub.add_parser("report", help="write the KPIs and the version comparison as one self-contained HTML page with plots")
    report.add_argument("--since", default="7d", help="start: an ISO date/time or a span back from now (7d, 24h, 90m); default 7d")
    report.add_argument("--until", default=None, help="end: an ISO date/time or a span back from now; default now")
    report.add_argument("--tenant", default=None, help="one tenant (default: all)")
    report.add_argument("--policy", default=None, help="one policy (default: all)")
    report.add_argument("--compare", default=None, help="BASELINE,CANDIDATE: two policy versions (as the report's groups name them) to compare")
    report.add_argument("--out", default="report.html", help="the HTML file to write (default report.html)")
    report.set_defaults(fn=cmd_report)
