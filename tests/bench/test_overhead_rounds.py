"""``bench/overhead_report.same_round``: a row of the overhead tables compares Bedside with the
floor measured in the same round, an undisturbed one, the floor's median."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from overhead_report import same_round


def _r(rps: float, other: float = 0.0) -> dict[str, Any]:
    return {"rps": rps, "other_cpu": other}


def test_every_target_of_a_point_comes_from_one_round() -> None:
    # the machine slows in round 3; each target's own least disturbed round would mix rounds
    runs = {
        ("json", 16, "floor"): [_r(6844, 0.01), _r(7049, 0.0), _r(5948, 0.01)],
        ("json", 16, "bedside"): [_r(1720, 0.01), _r(1772, 0.01), _r(1388, 0.0)],
    }
    picked = same_round(runs, 0.10)
    assert picked[("json", 16, "floor")]["rps"] == 6844  # the floor's median round ...
    assert picked[("json", 16, "bedside")]["rps"] == 1720  # ... and Bedside's from the same one


def test_a_disturbed_round_is_not_chosen_and_groups_are_separate() -> None:
    runs = {
        (1, "floor"): [_r(38), _r(40, 0.5), _r(39)],
        (1, "passthrough"): [_r(36), _r(30), _r(37, 0.2)],
        (16, "floor"): [_r(520), _r(503)],
        (16, "passthrough"): [_r(423), _r(449)],
    }
    picked = same_round(runs, 0.10)
    assert picked[(1, "floor")]["rps"] == 38 and picked[(1, "passthrough")]["rps"] == 36  # only round 1 is quiet
    assert picked[(16, "floor")]["rps"] == 503 and picked[(16, "passthrough")]["rps"] == 449  # lower median


def test_when_every_round_is_disturbed_the_least_disturbed_is_shown() -> None:
    runs = {("sse", 16, "floor"): [_r(500, 0.4), _r(510, 0.2)], ("sse", 16, "bedside"): [_r(300, 0.3), _r(310, 0.5)]}
    picked = same_round(runs, 0.10)
    assert picked[("sse", 16, "floor")]["rps"] == 500 and picked[("sse", 16, "bedside")]["rps"] == 300
