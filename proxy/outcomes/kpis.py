"""The product KPIs, computed from conversation outcome rows (see docs/kpis.md for each definition).

:func:`compute_kpis` groups conversations (by policy version, policy or day) and returns, per group:
conversations, median turns and session length, returning users, the sentiment-shift distribution,
the share of conversations whose frustration rose or fell, perception events per 100 turns, handoff
rate, resolution rate, CSAT and the correlation of sentiment shift with the rating.
:func:`compare_versions` reports candidate minus baseline for the headline KPIs with a percentile
bootstrap confidence interval. Pure functions over plain values: no database, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy loads with the first use, not at import: a process that never needs it never loads it
    pass


GROUPS = ("policy_version", "policy", "day")
#: a frustration score must move by more than this between the first and the last user turn to count as risen or fallen
FRUSTRATION_DELTA = 0.1
#: a rating counts as satisfied (CSAT) at this value or above (the usual "4 or 5 out of 5")
SATISFIED = 4
SHIFT_BINS = (-2.0, -1.0, -0.5, -0.1, 0.1, 0.5, 1.0, 2.0)
RESAMPLES = 2000


@dataclass(frozen=True, slots=True)
class Conversation:
    """The values of one outcome row the KPIs read."""

    policy: str
    version: str
    subject: str | None
    started: datetime
    ended: datetime
    turns: int
    frustration: tuple[float, ...]  # per user turn
    sentiment_shift: float | None
    confusion: int
    distress: int
    handoff: bool
    rating: int | None
    resolved: bool | None

    @classmethod
    def of(cls, row: Any) -> Conversation:
        """From a :class:`~proxy.storage.tables.ConversationOutcome` (or anything with its fields)."""
        return cls(
            policy=row.policy_name,
            version=row.policy_version,
            subject=row.subject,
            started=row.started_at,
            ended=row.ended_at,
            turns=int(row.turns),
            frustration=tuple(float(t[2]) for t in row.trajectory or ()),
            sentiment_shift=row.sentiment_shift,
            confusion=int(row.confusion_events),
            distress=int(row.distress_events),
            handoff=row.handoff_at is not None,
            rating=row.rating,
            resolved=row.resolved,
        )

    @property
    def frustration_change(self) -> float | None:
        """Frustration of the last user turn minus the first (None with fewer than two turns read)."""
        if len(self.frustration) < 2:
            return None
        return self.frustration[-1] - self.frustration[0]


def _key(c: Conversation, group_by: str) -> str:
    if group_by == "policy_version":
        return f"{c.policy}@{c.version}"
    if group_by == "policy":
        return c.policy
    return c.started.date().isoformat()


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def _share(values: Sequence[bool]) -> float | None:
    return _r(sum(values) / len(values)) if values else None


def _median(values: Sequence[float]) -> float | None:
    import numpy as np
    return _r(float(np.median(values))) if values else None


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None with fewer than 3 pairs or no spread in either."""
    import numpy as np
    if len(xs) < 3:
        return None
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if float(x.std()) == 0.0 or float(y.std()) == 0.0:
        return None
    return _r(float(np.corrcoef(x, y)[0, 1]))


def group_kpis(convs: Sequence[Conversation], first_seen: Mapping[str, datetime]) -> dict[str, Any]:
    """The KPIs of one group of conversations (``first_seen``: each user's first retained conversation)."""
    import numpy as np
    turns_total = sum(c.turns for c in convs)
    shifts = [c.sentiment_shift for c in convs if c.sentiment_shift is not None]
    changes = [ch for c in convs if (ch := c.frustration_change) is not None]
    rated = [c for c in convs if c.rating is not None]
    answered = [c for c in convs if c.resolved is not None]
    latest: dict[str, datetime] = {}
    for c in convs:
        if c.subject is not None and (c.subject not in latest or c.started > latest[c.subject]):
            latest[c.subject] = c.started
    # returning: the group holds a conversation of theirs that started after their first retained one
    # (they had come before the period, or came back within it)
    returning = sum(1 for s, at in latest.items() if s in first_seen and first_seen[s] < at)
    with_shift = [c for c in rated if c.sentiment_shift is not None]
    hist = np.histogram(shifts, bins=SHIFT_BINS)[0].tolist() if shifts else [0] * (len(SHIFT_BINS) - 1)
    per100 = (lambda n: _r(100.0 * n / turns_total, 2)) if turns_total else (lambda n: None)
    return {
        "conversations": len(convs),
        "turns": turns_total,
        "median_turns": _median([c.turns for c in convs]),
        "median_session_seconds": _median([(c.ended - c.started).total_seconds() for c in convs]),
        "users": len(latest),
        "returning_users": returning,
        "sentiment_shift": {
            "n": len(shifts),
            "mean": _r(float(np.mean(shifts))) if shifts else None,
            "median": _median(shifts),
            "p25": _r(float(np.percentile(shifts, 25))) if shifts else None,
            "p75": _r(float(np.percentile(shifts, 75))) if shifts else None,
            "bins": list(SHIFT_BINS),
            "counts": hist,
        },
        "frustration": {
            "n": len(changes),
            "rose": _share([ch > FRUSTRATION_DELTA for ch in changes]),
            "fell": _share([ch < -FRUSTRATION_DELTA for ch in changes]),
        },
        "perception_per_100_turns": {
            "confusion": per100(sum(c.confusion for c in convs)),
            "distress": per100(sum(c.distress for c in convs)),
            "total": per100(sum(c.confusion + c.distress for c in convs)),
        },
        "handoff_rate": _share([c.handoff for c in convs]),
        "resolution_rate": _share([bool(c.resolved) for c in answered]),
        "resolution_answers": len(answered),
        "csat": _share([(c.rating or 0) >= SATISFIED for c in rated]),
        "mean_rating": _r(float(np.mean([c.rating for c in rated]))) if rated else None,
        "ratings": len(rated),
        "handoff_csat": _share([(c.rating or 0) >= SATISFIED for c in rated if c.handoff]),
        "sentiment_csat_correlation": pearson([c.sentiment_shift or 0.0 for c in with_shift], [float(c.rating or 0) for c in with_shift]),
    }


def compute_kpis(rows: Iterable[Any], *, group_by: str = "policy_version", first_seen: Mapping[str, datetime] | None = None) -> dict[str, Any]:
    """``{"group_by": ..., "groups": [{"key": ..., **kpis}], "total": {...}}``, groups in key order."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    convs = [r if isinstance(r, Conversation) else Conversation.of(r) for r in rows]
    seen = first_seen or {}
    grouped: dict[str, list[Conversation]] = {}
    for c in convs:
        grouped.setdefault(_key(c, group_by), []).append(c)
    groups = []
    for key in sorted(grouped):
        entry: dict[str, Any] = {"key": key}
        if group_by == "policy_version":
            entry["policy"], entry["version"] = grouped[key][0].policy, grouped[key][0].version
        entry.update(group_kpis(grouped[key], seen))
        groups.append(entry)
    return {"group_by": group_by, "groups": groups, "total": group_kpis(convs, seen)}


# ---- comparing two versions -------------------------------------------------------------------

#: the KPIs a comparison reports: name -> per-conversation value (None: the conversation does not count)
COMPARED: dict[str, Callable[[Conversation], float | None]] = {
    "csat": lambda c: None if c.rating is None else float(c.rating >= SATISFIED),
    "resolution_rate": lambda c: None if c.resolved is None else float(c.resolved),
    "handoff_rate": lambda c: float(c.handoff),
    "frustration_fell": lambda c: None if (ch := c.frustration_change) is None else float(ch < -FRUSTRATION_DELTA),
    "frustration_rose": lambda c: None if (ch := c.frustration_change) is None else float(ch > FRUSTRATION_DELTA),
    "sentiment_shift": lambda c: c.sentiment_shift,
}


def bootstrap_difference(a: Sequence[float], b: Sequence[float], *, resamples: int = RESAMPLES, level: float = 0.95, seed: int = 0) -> dict[str, Any]:
    """mean(b) - mean(a) with a percentile bootstrap interval: each sample resampled with
    replacement, independently, ``resamples`` times. None values for a side with no data."""
    import numpy as np
    if not a or not b:
        return {"baseline": _r(float(np.mean(a))) if a else None, "candidate": _r(float(np.mean(b))) if b else None, "difference": None, "ci": None, "n": [len(a), len(b)], "significant": False}
    rng = np.random.default_rng(seed)
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ma = xa[rng.integers(0, len(xa), size=(resamples, len(xa)))].mean(axis=1)
    mb = xb[rng.integers(0, len(xb), size=(resamples, len(xb)))].mean(axis=1)
    diffs = mb - ma
    tail = (1.0 - level) / 2.0
    lo, hi = float(np.quantile(diffs, tail)), float(np.quantile(diffs, 1.0 - tail))
    return {
        "baseline": _r(float(xa.mean())),
        "candidate": _r(float(xb.mean())),
        "difference": _r(float(xb.mean() - xa.mean())),
        "ci": [_r(lo), _r(hi)],
        "n": [len(xa), len(xb)],
        "significant": lo > 0.0 or hi < 0.0,
    }


def compare_versions(rows: Iterable[Any], baseline: str, candidate: str, *, resamples: int = RESAMPLES, level: float = 0.95, seed: int = 0) -> dict[str, Any]:
    """Candidate minus baseline for each KPI of :data:`COMPARED`. A version is named by its
    ``policy_version`` (or ``policy@version``, as the KPI groups name it)."""
    convs = [r if isinstance(r, Conversation) else Conversation.of(r) for r in rows]

    def pick(name: str) -> list[Conversation]:
        return [c for c in convs if name in (c.version, f"{c.policy}@{c.version}")]

    a, b = pick(baseline), pick(candidate)
    metrics = {}
    for i, (metric, value) in enumerate(COMPARED.items()):
        va = [v for c in a if (v := value(c)) is not None]
        vb = [v for c in b if (v := value(c)) is not None]
        metrics[metric] = bootstrap_difference(va, vb, resamples=resamples, level=level, seed=seed + i)
    return {
        "baseline": baseline,
        "candidate": candidate,
        "conversations": [len(a), len(b)],
        "level": level,
        "resamples": resamples,
        "method": "percentile bootstrap: each version's conversations resampled with replacement, independently",
        "metrics": metrics,
    }
