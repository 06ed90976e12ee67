"""Each KPI on a synthetic set whose answers are worked out by hand, and the comparison's bootstrap interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from proxy.outcomes.kpis import Conversation, bootstrap_difference, compare_versions, compute_kpis, pearson

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def conv(**kw: Any) -> Conversation:
    base: dict[str, Any] = {
        "policy": "support",
        "version": "v1",
        "subject": None,
        "started": T0,
        "ended": T0 + timedelta(minutes=2),
        "turns": 2,
        "frustration": (0.5, 0.5),
        "sentiment_shift": 0.0,
        "confusion": 0,
        "distress": 0,
        "handoff": False,
        "rating": None,
        "resolved": None,
    }
    base.update(kw)
    return Conversation(**base)


SET = [
    # subject "u1" had a conversation before the period (first_seen), "u2" is new, "u3" comes twice in the period
    conv(subject="u1", turns=4, ended=T0 + timedelta(minutes=10), frustration=(0.8, 0.6, 0.4, 0.2), sentiment_shift=0.9, confusion=1, rating=5, resolved=True),
    conv(subject="u2", turns=2, ended=T0 + timedelta(minutes=4), frustration=(0.1, 0.6), sentiment_shift=-0.6, distress=1, handoff=True, rating=2, resolved=False),
    conv(subject="u3", turns=6, ended=T0 + timedelta(minutes=6), frustration=(0.3, 0.3), sentiment_shift=0.1, rating=4, resolved=True),
    conv(subject="u3", started=T0 + timedelta(days=1), ended=T0 + timedelta(days=1, minutes=8), turns=1, frustration=(0.2,), sentiment_shift=None, confusion=1),
]
FIRST_SEEN = {"u1": T0 - timedelta(days=3), "u2": T0, "u3": T0}


def test_every_kpi_of_one_group_matches_the_hand_worked_answer() -> None:
    k = compute_kpis(SET, group_by="policy", first_seen=FIRST_SEEN)["groups"][0]
    assert k["key"] == "support" and k["conversations"] == 4 and k["turns"] == 13
    assert k["median_turns"] == 3.0  # 1, 2, 4, 6
    assert k["median_session_seconds"] == 420.0  # 4, 6, 8, 10 minutes -> 7 minutes
    assert (k["users"], k["returning_users"]) == (3, 2)  # u1 had come before the period, u3 came back within it; u2 came once
    s = k["sentiment_shift"]
    assert s["n"] == 3 and s["mean"] == pytest.approx(0.1333, abs=1e-4) and s["median"] == 0.1
    assert s["counts"] == [0, 1, 0, 0, 1, 1, 0]  # -0.6 in [-1, -0.5), 0.1 in [0.1, 0.5), 0.9 in [0.5, 1)
    assert k["frustration"] == {"n": 3, "rose": pytest.approx(1 / 3, abs=1e-4), "fell": pytest.approx(1 / 3, abs=1e-4)}
    assert k["perception_per_100_turns"] == {"confusion": pytest.approx(15.38, abs=0.01), "distress": pytest.approx(7.69, abs=0.01), "total": pytest.approx(23.08, abs=0.01)}
    assert k["handoff_rate"] == 0.25
    assert (k["resolution_rate"], k["resolution_answers"]) == (pytest.approx(2 / 3, abs=1e-4), 3)
    assert (k["csat"], k["mean_rating"], k["ratings"]) == (pytest.approx(2 / 3, abs=1e-4), pytest.approx(11 / 3, abs=1e-4), 3)
    assert k["handoff_csat"] == 0.0
    expected_r = float(np.corrcoef([0.9, -0.6, 0.1], [5, 2, 4])[0, 1])
    assert k["sentiment_csat_correlation"] == pytest.approx(expected_r, abs=1e-4) and expected_r > 0.9


def test_groups_by_day_and_by_version() -> None:
    by_day = compute_kpis(SET, group_by="day", first_seen=FIRST_SEEN)
    assert [(g["key"], g["conversations"]) for g in by_day["groups"]] == [("2026-11-02", 3), ("2026-11-03", 1)]
    assert by_day["total"]["conversations"] == 4
    two = [*SET, conv(version="v2", rating=1)]
    by_version = compute_kpis(two, group_by="policy_version")
    assert [(g["key"], g["version"], g["conversations"], g["csat"]) for g in by_version["groups"]] == [("support@v1", "v1", 4, pytest.approx(2 / 3, abs=1e-4)), ("support@v2", "v2", 1, 0.0)]


def test_empty_groups_and_missing_values_answer_none_not_zero() -> None:
    k = compute_kpis([conv(frustration=(), turns=0, sentiment_shift=None)], group_by="policy")["groups"][0]
    assert k["csat"] is None and k["resolution_rate"] is None and k["sentiment_csat_correlation"] is None
    assert k["frustration"]["rose"] is None and k["perception_per_100_turns"]["total"] is None
    assert compute_kpis([])["groups"] == [] and compute_kpis([])["total"]["conversations"] == 0
    assert pearson([1, 1, 1], [1, 2, 3]) is None and pearson([1, 2], [1, 2]) is None
    with pytest.raises(ValueError):
        compute_kpis([], group_by="week")


def _versions(rng: np.random.Generator, n: int, p_a: float, p_b: float) -> list[Conversation]:
    out = [conv(version="A", rating=5 if rng.random() < p_a else 2) for _ in range(n)]
    return out + [conv(version="B", rating=5 if rng.random() < p_b else 2) for _ in range(n)]


def test_a_real_improvement_has_an_interval_that_excludes_zero() -> None:
    rows = _versions(np.random.default_rng(1), 400, 0.5, 0.7)
    result = compare_versions(rows, "A", "B")
    csat = result["metrics"]["csat"]
    assert result["conversations"] == [400, 400] and csat["n"] == [400, 400]
    assert csat["difference"] == pytest.approx(csat["candidate"] - csat["baseline"], abs=1e-4)
    lo, hi = csat["ci"]
    assert 0 < lo < csat["difference"] < hi and csat["significant"] is True
    assert 0.04 < hi - lo < 0.2  # ~ 2 * 1.96 * sqrt(.25/400 + .21/400) = 0.13
    assert compare_versions(rows, "support@A", "support@B")["metrics"]["csat"] == csat  # named as the KPI groups name them


def test_no_difference_gives_an_interval_around_zero() -> None:
    result = compare_versions(_versions(np.random.default_rng(2), 300, 0.6, 0.6), "A", "B")
    lo, hi = result["metrics"]["csat"]["ci"]
    assert lo < 0 < hi and result["metrics"]["csat"]["significant"] is False
    assert result["metrics"]["resolution_rate"]["difference"] is None  # nobody answered 'resolved'


def test_the_95_interval_covers_the_true_difference_about_95_times_in_100() -> None:
    rng = np.random.default_rng(7)
    covered = 0
    trials = 200
    for i in range(trials):
        a = (rng.random(150) < 0.55).astype(float).tolist()
        b = (rng.random(150) < 0.65).astype(float).tolist()
        lo, hi = bootstrap_difference(a, b, resamples=1000, seed=i)["ci"]
        covered += lo <= 0.10 <= hi
    assert 0.89 <= covered / trials <= 0.99, covered


def test_an_empty_side_reports_no_difference() -> None:
    r = bootstrap_difference([], [1.0, 0.0])
    assert r["difference"] is None and r["ci"] is None and r["n"] == [0, 2] and r["candidate"] == 0.5
