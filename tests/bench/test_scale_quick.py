"""The scale-out proof runs in the suite: ``python bench/scale.py --quick`` must pass every check.

Three ``bedside serve`` replicas on a throwaway PostgreSQL cluster, mixed traffic, cross-replica
consent, memory and erasure checks, a PostgreSQL restart, SIGTERM and kill -9 under traffic, then
``bedside audit verify`` and the one-entry-per-answer ledger (docs/scale-out.md). The bench exits
non-zero when any check fails; this test shows its table.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from proxy.testing import postgres_bindir

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(postgres_bindir() is None, reason="no PostgreSQL binaries (initdb, pg_ctl) on this machine")]
REPO = Path(__file__).resolve().parents[2]


def test_scale_quick_passes_every_check() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update({"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)})
    done = subprocess.run([sys.executable, str(REPO / "bench" / "scale.py"), "--quick"], capture_output=True, text=True, env=env, cwd=REPO, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "ALL CHECKS PASSED" in done.stdout
    assert "FAIL" not in done.stdout.split("checks (", 1)[1]
