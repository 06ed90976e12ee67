"""Leave-one-source-out selection of the encoder harmful-request head (``training/train_harm_encoder.py``).

The rows are embedded once (each row: one or more window vectors, :mod:`proxy.detectors.harm_encoder`).
A *setting* is (C, balance, feature weight): the head's regularisation, how the rows are weighed
(``rows``: each row once, the two classes balanced; ``sources``: every source counts the same
within its class, so a large generated source cannot set the style), and the weight of the
hand-written harm features added to the encoder's logit (0: the encoder alone).

For every source family (:func:`training.harm_selection.family`) the head is fitted on every other
family; its logits on the held-out rows are the only scores a setting and a threshold are judged
on. :func:`choose` takes, per setting, the lowest threshold at which every benign source stays at or
under :data:`MAX_FALSE_STOPS`, and the setting with the best mean detection over the harmful
sources at its threshold; :func:`nested` reports each source under the setting and threshold chosen
*without* its family.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from training.harm_selection import MAX_FALSE_STOPS, Groups, family, group_masks

__all__ = ["BALANCES", "CS", "FEATURE_WEIGHTS", "MAX_FALSE_STOPS", "Choice", "Embedded", "Setting", "choose", "fit_head", "nested",
           "out_of_family", "row_logits", "sample_weights", "threshold_for"]

CS = (0.3, 1.0, 3.0, 10.0)
BALANCES = ("rows", "sources")
FEATURE_WEIGHTS = (0.0, 0.5, 1.0)

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Setting:
    """One fitted head's recipe (the threshold is chosen per setting)."""

    c: float
    balance: str


@dataclass(frozen=True, slots=True)
class Choice:
    """A setting, the weight of the hand-written features beside it, and its logit threshold."""

    setting: Setting
    features: float
    threshold: float


@dataclass
class Embedded:
    """Every row's window vectors: ``vectors[starts[i]:starts[i + 1]]`` are row ``i``'s."""

    vectors: npt.NDArray[np.float32]
    starts: npt.NDArray[np.int64]  # len(rows) + 1

    @property
    def row_of(self) -> npt.NDArray[np.int64]:
        """The row of each window."""
        return np.repeat(np.arange(len(self.starts) - 1), np.diff(self.starts))


def sample_weights(labels: Sequence[int], sources: Sequence[str], counts: npt.NDArray[np.int64], balance: str) -> F64:
    """Per-window weights: each row sums to its row weight (split over its windows); the classes weigh
    the same in total, and with ``balance="sources"`` every (source, label) group does within its class."""
    lab = np.asarray(labels)
    row_w = np.ones(len(lab))
    if balance == "sources":
        src = np.asarray(sources)
        for s, y in {(s, int(y)) for s, y in zip(sources, labels, strict=True)}:
            mask = (src == s) & (lab == y)
            row_w[mask] = 1.0 / mask.sum()
    elif balance != "rows":
        raise ValueError(f"unknown balance {balance!r}")
    for y in (0, 1):
        mask = lab == y
        if mask.any():
            row_w[mask] *= 0.5 * len(lab) / row_w[mask].sum()
    return np.repeat(row_w / counts, counts)


def fit_head(x: npt.NDArray[np.float32], y: npt.NDArray[np.int64], w: F64, c: float, seed: int = 0) -> tuple[npt.NDArray[np.float32], float]:
    """Weighted logistic regression: (weights, bias)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=5000, random_state=seed)
    clf.fit(x, y, sample_weight=w)
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


def row_logits(window_logits: F64, starts: npt.NDArray[np.int64]) -> F64:
    """Each row's logit: the largest of its windows'."""
    return np.asarray(np.maximum.reduceat(window_logits, starts[:-1]), dtype=np.float64)


def out_of_family(emb: Embedded, labels: Sequence[int], sources: Sequence[str], settings: Sequence[Setting], *, seed: int = 0,
                  log: Callable[[str], None] = print) -> dict[Setting, F64]:
    """Per setting: every row's logit from a head fitted without the row's source family."""
    fams = np.array([family(s) for s in sources])
    row_of = emb.row_of
    counts = np.diff(emb.starts)
    out = {s: np.zeros(len(labels)) for s in settings}
    for k, fam in enumerate(sorted(set(fams))):
        train_rows = fams != fam
        sub_labels = [y for y, t in zip(labels, train_rows, strict=True) if t]
        sub_sources = [s for s, t in zip(sources, train_rows, strict=True) if t]
        win = train_rows[row_of]
        y = np.asarray(labels)[row_of][win]
        for s in settings:
            w = sample_weights(sub_labels, sub_sources, counts[train_rows], s.balance)
            coef, bias = fit_head(emb.vectors[win], y, w, s.c, seed)
            out[s][~train_rows] = row_logits(np.asarray(emb.vectors @ coef + bias, dtype=np.float64), emb.starts)[~train_rows]
        log(f"  [{k + 1}/{len(set(fams))}] fitted {len(settings)} heads without {fam} ({int((~train_rows).sum())} rows held out)")
    return out


def threshold_for(z: F64, groups: Groups, skip: str | None = None, cap: float = MAX_FALSE_STOPS) -> float:
    """The lowest logit threshold (flag when ``z >= t``) at which every benign group (``skip``'s family
    left out) has at most ``cap`` of its rows flagged."""
    t = -np.inf
    for (source, label), mask in groups.items():
        if label or (skip is not None and family(source) == skip):
            continue
        values = np.sort(z[mask])[::-1]
        allowed = int(np.floor(cap * values.size + 1e-9))
        if allowed < values.size:
            t = max(t, float(np.nextafter(values[allowed], np.inf)))
    return float(t)


def _detection(flags: npt.NDArray[np.bool_], groups: Groups, skip: str | None) -> float:
    rates = [float(flags[m].mean()) for (s, y), m in groups.items() if y and (skip is None or family(s) != skip)]
    return float(np.mean(rates)) if rates else 0.0


def choose(oos: dict[Setting, F64], heur: F64, groups: Groups, *, skip: str | None = None,
           weights: Sequence[float] = FEATURE_WEIGHTS) -> Choice:
    """The setting, feature weight and threshold with the best mean held-out detection while every benign
    group stays at or under the cap (``skip``'s family left out of both). Ties: the smaller feature
    weight, then the earlier setting."""
    best: tuple[float, float] | None = None
    chosen: Choice | None = None
    for setting, logits in oos.items():
        for beta in weights:
            z = logits + beta * heur
            t = threshold_for(z, groups, skip)
            det = _detection(z >= t, groups, skip)
            key = (round(det, 4), -beta)
            if best is None or key > best:
                best, chosen = key, Choice(setting, beta, t)
    assert chosen is not None, "no setting to choose from"
    return chosen


def nested(oos: dict[Setting, F64], heur: F64, groups: Groups, *, weights: Sequence[float] = FEATURE_WEIGHTS,
           log: Callable[[str], None] = print) -> dict[tuple[str, int], tuple[Choice, npt.NDArray[np.bool_]]]:
    """Per (source, label): the choice made without its family, and the flags it gives that source's rows."""
    out: dict[tuple[str, int], tuple[Choice, npt.NDArray[np.bool_]]] = {}
    cache: dict[str, Choice] = {}
    for key, mask in groups.items():
        fam = family(key[0])
        if fam not in cache:
            cache[fam] = choose(oos, heur, groups, skip=fam, weights=weights)
            log(f"  chosen without {fam}: {cache[fam]}")
        c = cache[fam]
        z = oos[c.setting][mask] + c.features * heur[mask]
        out[key] = (c, z >= c.threshold)
    return out


def groups_of(labels: Sequence[int], sources: Sequence[str]) -> Groups:
    """Row masks per (source, label) (re-exported for the script and the bench)."""
    return group_masks(sources, labels)
