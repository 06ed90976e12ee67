"""The KPI report as one self-contained HTML page: tables, and plots as inline SVG (matplotlib).

:func:`render_report` takes what :func:`~proxy.outcomes.kpis.compute_kpis` (by version and by
day) and :func:`~proxy.outcomes.kpis.compare_versions` answer and returns HTML with no script and
no external asset: CSS inline, every plot an ``<svg>`` element drawn by matplotlib's SVG backend
(glyphs as paths, so no font is needed either). matplotlib is imported here, on first use only
(``bedside report``), never by the server. Every string from the data is HTML-escaped.
"""

from __future__ import annotations

import html
import io
import itertools
import re
from collections.abc import Sequence
from typing import Any

#: colours that stay distinguishable for common colour-vision deficiencies (Okabe-Ito)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:70rem;color:#1b1f24;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
p.meta{color:#57606a;margin-top:0} table{border-collapse:collapse;font-size:.9rem;margin:.6rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .55rem;text-align:right} th:first-child,td:first-child{text-align:left}
thead th{background:#f6f8fa} figure{margin:1rem 0} figcaption{color:#57606a;font-size:.9rem}
.yes{color:#1a7f37;font-weight:600} .no{color:#57606a} svg{max-width:100%;height:auto}
"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _svg(fig: Any) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog, no DOCTYPE, no timestamp)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "bedside-report"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float = 8.0, height: float = 3.2) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def plot_daily(days: Sequence[dict[str, Any]]) -> str:
    """Conversations per day (bars) and CSAT per day (line, right axis)."""
    fig = _figure()
    ax = fig.add_subplot()
    labels = [d["key"][5:] for d in days]
    ax.bar(labels, [d["conversations"] for d in days], color=PALETTE[5], label="conversations")
    ax.set_ylabel("conversations")
    ax.tick_params(axis="x", labelrotation=45 if len(days) > 10 else 0)
    right = ax.twinx()
    csat = [(i, 100 * d["csat"]) for i, d in enumerate(days) if d["csat"] is not None]
    if csat:
        right.plot([i for i, _ in csat], [v for _, v in csat], color=PALETTE[3], marker="o", label="CSAT")
    right.set_ylim(0, 100)
    right.set_ylabel("CSAT (%)")
    ax.set_title("Conversations and CSAT per day", pad=24)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, frameon=False)
    return _svg(fig)


def plot_shift(groups: Sequence[dict[str, Any]]) -> str:
    """The sentiment shift distribution of each group (share of its conversations per bin)."""
    fig = _figure()
    ax = fig.add_subplot()
    groups = [g for g in groups if g["sentiment_shift"]["n"]]
    if not groups:
        ax.text(0.5, 0.5, "no sentiment readings in this period", ha="center", va="center", transform=ax.transAxes)
        return _svg(fig)
    bins = groups[0]["sentiment_shift"]["bins"]
    names = [f"{a:g} to {b:g}" for a, b in itertools.pairwise(bins)]
    width = 0.8 / len(groups)
    for i, g in enumerate(groups):
        counts = g["sentiment_shift"]["counts"]
        total = sum(counts) or 1
        ax.bar([x + i * width for x in range(len(counts))], [100 * c / total for c in counts], width=width, color=PALETTE[i % len(PALETTE)], label=g["key"])
    ax.set_xticks([x + width * (len(groups) - 1) / 2 for x in range(len(names))], names)
    ax.set_ylabel("conversations (%)")
    ax.set_xlabel("sentiment shift (last user turn minus first)")
    ax.set_title("Sentiment shift per policy version")
    ax.legend(frameon=False, fontsize="small")
    return _svg(fig)


def plot_frustration(groups: Sequence[dict[str, Any]]) -> str:
    """Share of conversations whose frustration rose / fell, per group."""
    fig = _figure(height=max(2.0, 0.5 * len(groups) + 1.2))
    ax = fig.add_subplot()
    keys = [g["key"] for g in groups]
    rose = [100 * (g["frustration"]["rose"] or 0) for g in groups]
    fell = [100 * (g["frustration"]["fell"] or 0) for g in groups]
    ys = range(len(keys))
    ax.barh([y - 0.2 for y in ys], fell, height=0.4, color=PALETTE[2], label="frustration fell")
    ax.barh([y + 0.2 for y in ys], rose, height=0.4, color=PALETTE[3], label="frustration rose")
    ax.set_yticks(list(ys), keys)
    ax.set_xlabel("conversations with 2+ turns (%)")
    ax.set_title("Did frustration fall during conversations?", pad=24)
    ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2)
    return _svg(fig)


def plot_comparison(comparison: dict[str, Any]) -> str:
    """Candidate minus baseline per KPI with its bootstrap interval."""
    fig = _figure(height=3.0)
    ax = fig.add_subplot()
    items = [(name, m) for name, m in comparison["metrics"].items() if m["difference"] is not None]
    for y, (_, m) in enumerate(items):
        lo, hi = m["ci"]
        colour = PALETTE[2] if m["significant"] else PALETTE[7]
        ax.errorbar([m["difference"]], [y], xerr=[[m["difference"] - lo], [hi - m["difference"]]], fmt="o", color=colour, capsize=4)
    ax.axvline(0, color="#8c959f", linewidth=1)
    ax.set_yticks(list(range(len(items))), [name.replace("_", " ") for name, _ in items])
    ax.set_xlabel(f"{comparison['candidate']} minus {comparison['baseline']} ({int(100 * comparison['level'])}% interval)")
    ax.set_title("Policy version comparison")
    return _svg(fig)


def _kpi_table(groups: Sequence[dict[str, Any]], total: dict[str, Any]) -> str:
    head = (
        "<thead><tr><th>group</th><th>conversations</th><th>median turns</th><th>median session (s)</th><th>returning users</th>"
        "<th>mean sentiment shift</th><th>frustration fell</th><th>frustration rose</th><th>perception /100 turns</th>"
        "<th>handoff rate</th><th>resolution rate</th><th>CSAT</th><th>shift–CSAT r</th></tr></thead>"
    )
    rows = []
    for g in [*groups, {"key": "all", **total}]:
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    g["key"],
                    g["conversations"],
                    _num(g["median_turns"], 1),
                    _num(g["median_session_seconds"], 0),
                    f"{g['returning_users']} of {g['users']}",
                    _num(g["sentiment_shift"]["mean"]),
                    _pct(g["frustration"]["fell"]),
                    _pct(g["frustration"]["rose"]),
                    _num(g["perception_per_100_turns"]["total"], 1),
                    _pct(g["handoff_rate"]),
                    _pct(g["resolution_rate"]),
                    _pct(g["csat"]),
                    _num(g["sentiment_csat_correlation"]),
                )
            )
            + "</tr>"
        )
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _comparison_table(comparison: dict[str, Any]) -> str:
    rows = []
    for name, m in comparison["metrics"].items():
        ci = "–" if m["ci"] is None else f"{m['ci'][0]:+.3f} to {m['ci'][1]:+.3f}"
        verdict = '<span class="yes">yes</span>' if m["significant"] else '<span class="no">no</span>'
        rows.append(
            f"<tr><td>{html.escape(name.replace('_', ' '))}</td><td>{_num(m['baseline'], 3)}</td><td>{_num(m['candidate'], 3)}</td>"
            f"<td>{'–' if m['difference'] is None else format(m['difference'], '+.3f')}</td><td>{ci}</td><td>{m['n'][0]} / {m['n'][1]}</td><td>{verdict}</td></tr>"
        )
    head = "<thead><tr><th>KPI</th><th>baseline</th><th>candidate</th><th>difference</th><th>95% interval</th><th>n</th><th>interval excludes 0</th></tr></thead>"
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def render_report(*, title: str, period: str, by_version: dict[str, Any], by_day: dict[str, Any], comparison: dict[str, Any] | None = None) -> str:
    """The whole page."""
    e = html.escape
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1><p class='meta'>{e(period)}. Outcome facts only: no message text or personal data is read to make this page.</p>",
    ]
    if not by_version["groups"]:
        parts.append("<p>No conversations started in this period. Check the period (<code>--since</code>) and the database Bedside writes to.</p></body></html>")
        return "".join(parts)
    parts.append("<h2>Conversations and CSAT per day</h2>")
    parts.append(f"<figure>{plot_daily(by_day['groups'])}<figcaption>Bars: conversations that started each day. Line: share of ratings of 4 or 5.</figcaption></figure>")
    parts.append("<h2>KPIs per policy version</h2>")
    parts.append(_kpi_table(by_version["groups"], by_version["total"]))
    parts.append(f"<figure>{plot_shift(by_version['groups'])}</figure>")
    caption = "A conversation counts when the frustration score of its last user turn moved more than 0.1 from its first."
    parts.append(f"<figure>{plot_frustration(by_version['groups'])}<figcaption>{caption}</figcaption></figure>")
    if comparison is not None:
        parts.append(f"<h2>{e(comparison['candidate'])} against {e(comparison['baseline'])}</h2>")
        parts.append(_comparison_table(comparison))
        parts.append(f"<figure>{plot_comparison(comparison)}<figcaption>{e(comparison['method'])}; {comparison['resamples']} resamples.</figcaption></figure>")
    parts.append("<h2>Definitions</h2><p>See docs/kpis.md in Bedside's documentation for how each KPI is computed.</p></body></html>")
    page = "".join(parts)
    assert re.search(r"(?i)(src|href)\s*=\s*['\"]?https?:", page) is None, "the report must not reference external assets"
    return page
