"""`bedside report`: one self-contained HTML page (inline SVG plots, no script, no external asset) from the outcomes in the database."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from proxy.cli import main
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.outcomes import OutcomeRepository, OutcomeUpdate


def _seed(url: str) -> None:
    """Two versions over three days: B rates better. 60 conversations each."""
    migrate.upgrade(url)
    engine = make_engine(url)
    repo = OutcomeRepository(engine)
    rng = np.random.default_rng(3)
    now = datetime.now(UTC)
    updates, feedback = [], []
    for i in range(120):
        version = "A" if i % 2 else "B"
        at = now - timedelta(days=i % 3, hours=1)
        falls = rng.random() < (0.6 if version == "B" else 0.3)
        traj = (("frustration", 0.7, 0.7, 0), ("neutral", 0.3, 0.2 if falls else 0.8, 0))
        conv = f"{i:064x}"
        updates.append(OutcomeUpdate("acme", conv, f"{i % 40:064x}", "support", version, at, 2, traj, 0.5 if falls else -0.4, ("frustration",), False, ("input:pass",), i % 10 == 0))
        feedback.append((conv, 5 if falls else 2, falls))
    repo.apply(updates)
    for conv, rating, resolved in feedback:
        repo.set_feedback("acme", conv, rating=rating, resolved=resolved)
    engine.dispose()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("BEDSIDE_"):
            monkeypatch.delenv(name)
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(data))
    return data


def test_the_report_is_one_self_contained_page_with_plots(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(f"sqlite:///{data_dir / 'bedside.db'}")
    out = tmp_path / "report.html"
    assert main(["report", "--since", "7d", "--out", str(out), "--compare", "support@A,support@B"]) == 0
    assert "120 conversation(s)" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 4  # per day, sentiment shift, frustration, comparison
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert re.search(r"(?i)(src|href|xlink:href)\s*=\s*[\"']?(https?:|//)", page) is None  # nothing fetched from anywhere
    assert "support@A" in page and "support@B" in page and "interval excludes 0" in page
    assert 'class="yes"' in page  # B's better CSAT is found
    assert len(page) < 2_000_000


def test_an_empty_period_says_what_to_check(data_dir: Path, tmp_path: Path) -> None:
    migrate.upgrade(f"sqlite:///{data_dir / 'bedside.db'}")
    out = tmp_path / "empty.html"
    assert main(["report", "--since", "1d", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "No conversations started in this period" in page and "<svg" not in page


@pytest.mark.parametrize("args", [["--since", "yesterday"], ["--compare", "only-one"]])
def test_bad_arguments_exit_2_with_a_reason(data_dir: Path, tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--out", str(tmp_path / "r.html"), *args]) == 2
    assert "bedside report:" in capsys.readouterr().err
