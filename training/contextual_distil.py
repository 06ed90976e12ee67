"""Distillation and the header figure for training a smaller contextual reader (training only).

A truncated reader (the first ``--layers`` of MiniLM's six, :mod:`training.train_contextual`) can
learn from the shipped six-layer reader as well as from the gold labels: :func:`teacher_logits`
runs the teacher's int8 ONNX model (built from its artefact folder as the run time builds it) over
the **fitted** comments only (the teacher was trained on the same 90% slice of train, never on the
held-out slice or dev), and :func:`distil_loss` is the usual soft-target term, ``T**2`` times the
KL divergence of the student's softened distribution from the teacher's, per head.

:func:`header_figure` scores held-out probabilities the way the header label is made at run time
(the family step of :func:`proxy.detectors.emotion.bedside_from_families`, no support-phrase
priors), so an epoch can be selected on the figure that ships; :func:`held_out_figures` gathers
every figure an epoch records.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from proxy.detectors import emotion as emo
from proxy.detectors.emotion_contextual_base import file_sha256
from proxy.detectors.emotion_contextual_metrics import balanced_scores, bedside_to_ekman6


def teacher_logits(folder: Path, ids: Sequence[Sequence[int]], rows: Sequence[int] | npt.NDArray[np.int64], cache: Path,
                   log: object = print) -> dict[str, npt.NDArray[np.float32]]:
    """The teacher's raw logits (``bedside`` ``[n, 8]``, ``ekman`` ``[n, 7]``) for every comment of
    ``ids``; only the ``rows`` listed are run (the others stay 0 and must not be used). Cached in
    ``cache`` by the teacher's artefact, the rows and the token ids."""
    from proxy.detectors.emotion_contextual_build import build, open_encoder

    digest = hashlib.sha256()
    digest.update(file_sha256(folder / "trained.npz").encode())
    digest.update(np.asarray(rows, dtype=np.int64).tobytes())
    for r in rows:
        digest.update(np.asarray(ids[r], dtype=np.int64).tobytes())
    path = cache / f"teacher-{digest.hexdigest()[:16]}.npz"
    if path.exists():
        with np.load(path) as z:
            return {"bedside": z["bedside"], "ekman": z["ekman"]}
    out = {"bedside": np.zeros((len(ids), 8), np.float32), "ekman": np.zeros((len(ids), 7), np.float32)}
    with tempfile.TemporaryDirectory() as tmp:
        session, _ = open_encoder(build(Path(tmp), folder))
        for n, r in enumerate(rows):
            feeds = {"input_ids": np.asarray([ids[r]], dtype=np.int64),
                     "attention_mask": np.ones((1, len(ids[r])), dtype=np.int64)}
            bedside, ekman = session.run(["bedside", "ekman"], feeds)
            out["bedside"][r], out["ekman"][r] = bedside[0], ekman[0]
            if n % 5000 == 0 and callable(log):
                log(f"  teacher: {n}/{len(rows)}")
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)  # type: ignore[arg-type]
    return out


def distil_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """``T**2 * KL(softmax(teacher / T) || softmax(student / T))``, averaged over the batch."""
    t = torch.log_softmax(teacher / temperature, -1)
    s = torch.log_softmax(student / temperature, -1)
    return temperature ** 2 * (t.exp() * (t - s)).sum(1).mean()


def header_figure(probs: dict[str, npt.NDArray[np.float64]], ekman: Sequence[Sequence[int]],
                  beta: float = 0.25) -> float:
    """Balanced Ekman-6 macro-F1 of the header label after the family step (``beta`` of the Ekman
    training prior divided out), on the held-out comments with one Ekman label."""
    single = [i for i, labs in enumerate(ekman) if len(labs) == 1]
    gold = [emo.EKMAN[ekman[i][0]] for i in single]
    top = [bedside_to_ekman6(emo.EMOTIONS[int(np.argmax(
        emo.bedside_from_families(probs["ekman"][i], probs["bedside"][i], beta)))]) for i in single]
    return float(balanced_scores(gold, top)["macro_f1"])


def held_out_figures(probs: dict[str, npt.NDArray[np.float64]], bedside: Sequence[Sequence[int]],
                     ekman: Sequence[Sequence[int]]) -> dict[str, Any]:
    """Selection and reporting figures on held-out comments with one Ekman label."""
    single = [i for i, labs in enumerate(ekman) if len(labs) == 1]
    gold_ekman = [ekman[i][0] for i in single]
    top = [emo.EMOTIONS[int(np.argmax(probs["bedside"][i]))] for i in single]
    mapped = balanced_scores([emo.EKMAN[g] for g in gold_ekman], [bedside_to_ekman6(t) for t in top])
    ekman_top = [emo.EKMAN[int(np.argmax(probs["ekman"][i]))] for i in single]
    ekman7 = balanced_scores([emo.EKMAN[g] for g in gold_ekman], ekman_top, merge_disgust=False)
    single_b = [i for i, labs in enumerate(bedside) if len(labs) == 1]
    bedside_f1 = balanced_scores([emo.EMOTIONS[bedside[i][0]] for i in single_b],
                                 [emo.EMOTIONS[int(np.argmax(probs["bedside"][i]))] for i in single_b],
                                 merge_disgust=False, labels=emo.EMOTIONS, balanced=False)
    return {"comments": len(single), "balanced_ekman6_macro_f1_bedside_top": mapped["macro_f1"],
            "balanced_ekman7_macro_f1_ekman_head": ekman7["macro_f1"],
            "balanced_ekman6_macro_f1_header_family_step": header_figure(probs, ekman),
            "bedside_macro_f1": bedside_f1["macro_f1"], "per_class_ekman6": mapped["per_class"]}
