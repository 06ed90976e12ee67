"""``bench/pii_blind.py``: how a blind PII judge is scored (what counts as a leak, a part leak and an
alteration), with a stand-in for what the upstream received; the judge files themselves are valid."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from pii_blind import load, norm, score  # noqa: E402

ADDRESS = "Fjellveien 12, 5019 Bergen"
ROWS: list[dict[str, Any]] = [
    {
        "text": f"Ilse Brandt lives at {ADDRESS}.",
        "label": "pii", "kind": "mixed", "locale": "NO", "style": "in_sentence",
        "gold": [
            {"type": "PERSON", "value": "Ilse Brandt", "parts": []},
            {"type": "STREET_ADDRESS", "value": ADDRESS, "parts": ["Fjellveien 12", "5019"]},
        ],
    },
    {"text": "Is Bergen rainy in May?", "label": "clean", "kind": "places", "locale": "XX", "style": "in_sentence", "gold": []},
]  # fmt: skip


def test_a_value_the_upstream_received_leaks_and_a_datamark_does_not_hide_it() -> None:
    sent = {ROWS[0]["text"]: "«data-1a2b»IlseˆBrandtˆlivesˆat <STREET_ADDRESS_1>, 5019 Bergen.«/data-1a2b»", ROWS[1]["text"]: ROWS[1]["text"]}
    tables = score(ROWS, sent.get, show=False)
    assert tables["leak by entity"]["PERSON"] == [1]  # datamarked, still verbatim once normalised
    assert tables["leak by entity"]["STREET_ADDRESS"] == [0]  # not whole ...
    assert tables["STREET_ADDRESS, any identifying part leaked"]["all"] == [1]  # ... but its postcode went
    assert tables["clean messages altered"]["all"] == [0]


def test_a_redacted_message_leaks_nothing_and_an_altered_look_alike_counts() -> None:
    sent = {ROWS[0]["text"]: "<PERSON_1> lives at <STREET_ADDRESS_1>.", ROWS[1]["text"]: "Is <LOCATION_1> rainy in May?"}
    tables = score(ROWS, sent.get, show=False)
    assert tables["leak by entity"]["PERSON"] == [0] and tables["STREET_ADDRESS, any identifying part leaked"]["all"] == [0]
    assert tables["clean messages altered"]["all"] == [1]


def test_a_message_a_rail_stopped_is_counted_apart() -> None:
    tables = score(ROWS[:1], lambda text: None, show=False)
    assert tables["not forwarded (a rail stopped it)"]["pii"] == [1] and tables["leak by entity"]["PERSON"] == [0]


def test_norm_removes_spotlight_markers_and_datamarks() -> None:
    assert norm("«data-9f»aˆb\n c«/data-9f»") == "a b c"


def test_a_gold_value_missing_from_its_text_is_refused(tmp_path: Path) -> None:
    bad = dict(ROWS[0], gold=[{"type": "PERSON", "value": "Nobody", "parts": []}])
    path = tmp_path / "judge.jsonl"
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="Nobody"):
        load(path)


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_the_judges_are_valid(version: int) -> None:
    rows = load(ROOT / "bench" / "data" / f"pii_blind_v{version}.jsonl")
    assert len(rows) == 480 and {r["label"] for r in rows} == {"pii", "clean"}
    assert all(not r["gold"] for r in rows if r["label"] == "clean")
