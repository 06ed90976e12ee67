"""A sample KPI report from a synthetic, seeded month of conversations, for the docs.

    python bench/report_sample.py [--out bench/results/report_sample.html] [--png bench/results/report_first_plot.png]

Seeds a throw-away SQLite database with 600 conversations over 14 days under two versions of one
policy (version B's conversations end less frustrated and rate better), runs the real
``bedside report --compare`` on it, and, when Debian's chromium and Playwright are installed,
screenshots the report's first plot. Synthetic data only: no conversation is real.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from proxy.cli import main as bedside  # noqa: E402
from proxy.storage import migrate  # noqa: E402
from proxy.storage.engine import make_engine  # noqa: E402
from proxy.storage.outcomes import OutcomeRepository, OutcomeUpdate  # noqa: E402

LABELS = ("frustration", "anger", "confusion", "neutral", "gratitude")


def seed(url: str, n: int = 600, days: int = 14) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    repo = OutcomeRepository(engine)
    rng = np.random.default_rng(17)
    now = datetime.now(UTC)
    updates, feedback = [], []
    for i in range(n):
        version = "A" if i % 2 else "B"
        start = now - timedelta(days=float(rng.uniform(0, days)))
        turns = int(rng.integers(1, 8))
        first = float(rng.uniform(0.3, 0.9))
        drift = float(rng.normal(-0.25 if version == "B" else -0.05, 0.25))
        frus = [min(1.0, max(0.0, first + drift * t / max(1, turns - 1))) for t in range(turns)]
        traj = tuple((LABELS[int(rng.integers(0, 5))] if f < 0.5 else "frustration", round(float(rng.uniform(0.3, 0.9)), 3), round(f, 3), int(rng.random() < 0.03)) for f in frus)
        shift = round(float(np.clip(-drift * 1.5 + rng.normal(0, 0.3), -2, 2)), 4)
        conv = f"{i:064x}"
        subject = f"{int(rng.integers(0, 350)):064x}"
        handoff = rng.random() < (0.05 if version == "B" else 0.09)
        for t in range(1, turns + 1):
            rules = ("frustration",) if traj[t - 1][0] == "frustration" else ()
            at = start + timedelta(minutes=2 * t)
            updates.append(OutcomeUpdate("sample", conv, subject, "customer-service", version, at, t, traj[:t], shift, rules, False, ("input:pass", "output:pass"), handoff and t == turns))
        if rng.random() < 0.45:
            good = rng.random() < (0.55 + 0.3 * max(0.0, -drift))
            feedback.append((conv, int(rng.integers(4, 6)) if good else int(rng.integers(1, 4)), bool(good or rng.random() < 0.3)))
    for i in range(0, len(updates), 256):
        repo.apply(updates[i : i + 256])
    for conv, rating, resolved in feedback:
        repo.set_feedback("sample", conv, rating=rating, resolved=resolved)
    engine.dispose()


def screenshot_first_plot(html: Path, png: Path) -> bool:
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    if not chromium.exists():
        return False
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(html.resolve().as_uri())
        page.locator("figure").first.screenshot(path=str(png))
        browser.close()
    return True


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "report_sample.html"))
    parser.add_argument("--png", default=str(ROOT / "bench" / "results" / "report_first_plot.png"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in [k for k in os.environ if k.startswith("BEDSIDE_")]:
            del os.environ[name]
        os.environ["BEDSIDE_DATA_DIR"] = tmp
        seed(f"sqlite:///{Path(tmp) / 'bedside.db'}")
        code = bedside(["report", "--since", "15d", "--out", args.out, "--compare", "customer-service@A,customer-service@B"])
        if code:
            raise SystemExit(code)
    if screenshot_first_plot(Path(args.out), Path(args.png)):
        print(f"wrote {args.png}")


if __name__ == "__main__":
    run()
