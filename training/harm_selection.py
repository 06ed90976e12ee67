"""Leave-one-source-out model selection for the harmful-request detector (``training/train_harmful.py``).

A *setting* is (features, C, alpha, offset, gate): the model's feature groups (:data:`FEATURE_SETS`),
its regularisation, its weight beside the hand-written features, the bias, and whether the model
may only count once a harm feature fired (``gate``) or decide alone. For every source family the model is fitted on every *other* family;
its logits on the held-out rows are the only scores a setting is judged on, so no source's own rows
ever choose the setting that scores it.

:func:`select` picks the setting with the best mean detection over the harmful sources while every
benign source stays at or under :data:`MAX_FALSE_STOPS`; :func:`nested` reports each source under
the setting chosen *without* that source (so its figure is held out from the selection too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from proxy.detectors.harmful import FEATURE_SETS  # the feature groups the selection may choose

__all__ = ["ALPHAS", "ALWAYS_GATED", "CS", "FEATURE_SETS", "GATES", "MAX_FALSE_STOPS", "OFFSETS", "SELECTABLE", "Setting", "family", "flags_for", "nested", "select"]


CS = (0.5, 2.0, 4.0, 8.0)
#: The feature groups tried (of :data:`proxy.detectors.harmful.FEATURE_SETS`): main's recipe and the word
#: classes. Adding embeddings or n-grams to the classes never won a leave-one-source-out selection
#: (measured 2026-12-06) and costs most of the fitting time, so they are not re-fitted every run.
SELECTABLE = ("ngrams+dense", "lexicon")
ALPHAS = (0.3, 0.5, 0.75, 1.0, 1.5)
OFFSETS = tuple(round(-6.0 + 0.25 * i, 2) for i in range(21))  # -6.0 .. -1.0
GATES = (True, False)
#: The gate the shipped recipe keeps (``train_harmful --gate always``): held out, every ungated setting chosen so far
#: wrongly stopped the unseen look-alike family at 7.7-8.4 % (docs/rails-detectors.md), over the 3 % cap.
ALWAYS_GATED = (True,)
MAX_FALSE_STOPS = 0.03
CLIP = 4.0

#: Sources generated together (sharing templates) are held out together.
_FAMILIES = {"own_styled_harmful": "own_styled", "own_styled_benign": "own_styled", "own_harmful": "own_requests", "own_everyday": "own_requests"}


def family(source: str) -> str:
    """The held-out unit a source belongs to (Do-Not-Answer's files are one family: one author, one style)."""
    if source.startswith("dna_"):
        return "dna"
    return _FAMILIES.get(source, source)


@dataclass(frozen=True, slots=True)
class Setting:
    """One point of the selection grid."""

    features: str
    c: float
    alpha: float
    offset: float
    gate: bool


def flags_for(setting: Setting, logits: npt.NDArray[np.float64], heur: npt.NDArray[np.float64], fired: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Which rows the detector would flag at threshold 0.5 (logit >= 0)."""
    z = heur + setting.alpha * np.clip(logits, -CLIP, CLIP) + setting.offset
    out = z >= 0
    if setting.gate:
        out &= fired
    return np.asarray(out)


Groups = dict[tuple[str, int], npt.NDArray[np.bool_]]


def _rates(flags: npt.NDArray[np.bool_], groups: Groups, skip: str | None) -> tuple[float, float]:
    """(mean detection over harmful groups, worst false-stop rate over benign groups), ``skip`` family left out."""
    det: list[float] = []
    fps: list[float] = []
    for (source, label), mask in groups.items():
        if skip is not None and family(source) == skip:
            continue
        rate = float(flags[mask].mean())
        (det if label else fps).append(rate)
    return (float(np.mean(det)) if det else 0.0), (max(fps) if fps else 0.0)


Logits = dict[tuple[str, float], npt.NDArray[np.float64]]


def select(
    oos: Logits, heur: npt.NDArray[np.float64], fired: npt.NDArray[np.bool_], groups: Groups, *, skip: str | None = None,
    gates: Sequence[bool] = GATES,
) -> Setting:
    """The setting with the best mean held-out detection whose worst benign source stays <= MAX_FALSE_STOPS
    (ties: the gated, then the smaller alpha). ``oos``: out-of-source logits per (feature set, C)."""
    best: tuple[float, int, float] | None = None
    chosen = Setting(next(iter(FEATURE_SETS)), CS[0], ALPHAS[0], OFFSETS[-1], True)
    for (features, c), logits in oos.items():
        for gate in gates:
            for alpha in ALPHAS:
                for offset in OFFSETS:
                    s = Setting(features, c, alpha, offset, gate)
                    det, worst_fp = _rates(flags_for(s, logits, heur, fired), groups, skip)
                    if worst_fp > MAX_FALSE_STOPS:
                        continue
                    key = (round(det, 4), int(gate), -alpha)
                    if best is None or key > best:
                        best, chosen = key, s
    return chosen


def nested(
    oos: Logits, heur: npt.NDArray[np.float64], fired: npt.NDArray[np.bool_], groups: Groups,
    log: Callable[[str], None] = print, gates: Sequence[bool] = GATES,
) -> dict[tuple[str, int], tuple[Setting, npt.NDArray[np.bool_]]]:
    """Per (source, label): the setting chosen without its family, and the flags it gives that source's rows."""
    out: dict[tuple[str, int], tuple[Setting, npt.NDArray[np.bool_]]] = {}
    cache: dict[str, Setting] = {}
    for key, mask in groups.items():
        fam = family(key[0])
        if fam not in cache:
            cache[fam] = select(oos, heur, fired, groups, skip=fam, gates=gates)
            log(f"  setting chosen without {fam}: {cache[fam]}")
        s = cache[fam]
        out[key] = (s, flags_for(s, oos[(s.features, s.c)][mask], heur[mask], fired[mask]))
    return out


def group_masks(sources: Sequence[str], labels: Sequence[int]) -> Groups:
    """Row masks per (source, label)."""
    src, lab = np.array(sources), np.array(labels)
    return {(s, int(lab_)): (src == s) & (lab == lab_) for s, lab_ in sorted({(s, int(x)) for s, x in zip(sources, labels, strict=True)})}
