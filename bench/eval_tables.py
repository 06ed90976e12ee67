"""Shared helpers of the evaluation benches: bootstrap intervals and table rows.

Not a bench itself: ``bench/rails_eval.py``, ``bench/pii_eval.py`` and ``bench/blind_judges.py`` import it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bootstrap", "cell", "header"]


def bootstrap(flags: Sequence[int] | np.ndarray, *, rounds: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """(rate, 2.5th, 97.5th percentile) of the mean of 0/1 ``flags`` over bootstrap resamples."""
    arr = np.asarray(flags, dtype=np.float64)
    if arr.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(rounds, arr.size))].mean(axis=1)
    return float(arr.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def cell(flags: Sequence[int] | np.ndarray | None) -> str:
    """``rate [lo-hi]`` in percent, or ``n/a``."""
    if flags is None or len(flags) == 0:
        return f"{'n/a':>17s}"
    rate, lo, hi = bootstrap(flags)
    return f"{100 * rate:5.1f} [{100 * lo:4.1f}-{100 * hi:5.1f}]"


def header(first: str, width: int, columns: Sequence[str]) -> str:
    """A table header: the first column left-aligned, the others as wide as :func:`cell`."""
    return f"{first:{width}s} {'n':>5s} " + " ".join(f"{c:>17s}" for c in columns)
