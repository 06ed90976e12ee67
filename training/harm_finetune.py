"""Torch pieces of the fine-tuned harmful-request reader (``training/train_harm_finetune.py``).

Training-only (torch is in the ``train`` extra). Reuses the plain-torch MiniLM of
:mod:`training.contextual_encoder` (the frozen lower layers, LoRA :class:`~training.contextual_encoder.Layer`
for the adapted ones, masked mean pooling) and the window cutting of the run time
(:func:`proxy.detectors.harm_encoder.windows`), so a window is trained exactly as it is read.

* :func:`cut` tokenises every row whole and cuts it into the run time's windows;
* :func:`training.contextual_encoder.encode_lower` runs the frozen lower layers once over every window (float16, cached);
* :class:`HarmReader` is the adapted top layers, mean pooling, L2 normalisation (as
  :class:`~proxy.detectors.harm_encoder.WindowEncoder` does) and two linear heads on the unit vector
  times :data:`SCALE`: the harm logit and the category softmax;
* :func:`train` fits one reader on some windows (weighted sampling: each window drawn with
  probability proportional to its balancing weight), :func:`window_logits` scores windows.

What :class:`HarmReader` exports for run time (:meth:`HarmReader.trained`) is only what was trained:
LoRA factors in float16, the adapted layers' biases and layer norms, and the heads folded into the
run-time :class:`~proxy.detectors.harm_encoder.Head` layout (``w`` of unit vectors, so ``SCALE`` is
multiplied in).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from proxy.detectors.emotion_contextual_base import HIDDEN
from proxy.detectors.emotion_contextual_graph import layer_tensors
from proxy.detectors.harm_encoder import windows
from proxy.detectors.harmful import CATEGORIES
from training.contextual_encoder import Layer, extended_mask, mean_pool, stack

#: the unit vector is multiplied by this before the heads (a logistic head on unit vectors needs large weights)
SCALE = 16.0

States = list[npt.NDArray[np.float16]]


@dataclass
class Windows:
    """Every row's windows: ``ids[k]`` is window ``k``'s token ids, ``row[k]`` its row."""

    ids: list[list[int]]
    row: npt.NDArray[np.int64]

    @property
    def starts(self) -> npt.NDArray[np.int64]:
        """Row ``i``'s windows are ``starts[i]:starts[i + 1]`` (rows are contiguous and in order)."""
        counts = np.bincount(self.row)
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def cut(tokenizer: Any, texts: Sequence[str]) -> Windows:
    """Each text tokenised whole (no special tokens) and cut as the run time cuts it; an empty text
    is one window ``[CLS] [SEP]``."""
    cls, sep = int(tokenizer.token_to_id("[CLS]")), int(tokenizer.token_to_id("[SEP]"))
    ids: list[list[int]] = []
    row: list[int] = []
    for i, enc in enumerate(tokenizer.encode_batch(list(texts), add_special_tokens=False)):
        parts = windows(list(enc.ids), cls, sep) if enc.ids else [[cls, sep]]
        ids.extend(parts)
        row.extend([i] * len(parts))
    return Windows(ids, np.asarray(row, dtype=np.int64))


class HarmReader(nn.Module):
    """Adapted layers ``first .. last-1`` (LoRA rank ``rank``), mean pooling, L2 normalisation and the
    harm and category heads on ``SCALE`` times the unit vector."""

    def __init__(self, base: Mapping[str, npt.NDArray[np.generic]], first: int, last: int, rank: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.first = first
        self.layers = nn.ModuleList(Layer(layer_tensors(base, i), rank=rank, dropout=dropout) for i in range(first, last))
        self.harm = nn.Linear(HIDDEN, 1)
        self.category = nn.Linear(HIDDEN, len(CATEGORIES))

    def unit(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The unit pooled vector of each window (what the run-time encoder outputs, normalised)."""
        ext = extended_mask(mask)
        for layer in self.layers:
            x = layer(x, ext)
        return nn.functional.normalize(mean_pool(x, mask), dim=-1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = SCALE * self.unit(x, mask)
        return self.harm(u)[:, 0], self.category(u)

    def trained(self) -> dict[str, npt.NDArray[Any]]:
        """What ships: per adapted layer ``L{i}.{m}.lora_a/lora_b`` (float16), ``L{i}.lora_scale`` and
        the biases and layer norms (float32); the heads as ``w``, ``b``, ``cat_w``, ``cat_b`` of unit vectors."""
        out: dict[str, npt.NDArray[Any]] = {}
        for j, layer in enumerate(self.layers):
            assert isinstance(layer, Layer)
            out.update(layer.shipped(self.first + j))
        out["w"] = (SCALE * self.harm.weight.detach().numpy()[0]).astype(np.float32)
        out["b"] = np.asarray(self.harm.bias.detach().numpy()[0], dtype=np.float32)
        out["cat_w"] = (SCALE * self.category.weight.detach().numpy().T).astype(np.float32)
        out["cat_b"] = self.category.bias.detach().numpy().astype(np.float32)
        return out


@dataclass(frozen=True)
class Recipe:
    """How one reader is trained."""

    first: int = 3
    layers: int = 6
    rank: int = 8
    epochs: int = 3
    batch: int = 32
    lr: float = 1e-3
    category_weight: float = 0.3
    seed: int = 20261206


def train(base: Mapping[str, npt.NDArray[np.generic]], states: States, fit: npt.NDArray[np.int64], y: npt.NDArray[np.int64],
          cat: npt.NDArray[np.int64], weight: npt.NDArray[np.float64], recipe: Recipe, *, time_budget: float = 0.0,
          log: Callable[[str], None] = print) -> HarmReader:
    """A reader trained on windows ``fit`` (labels ``y``, categories ``cat`` with -1 for none, sampling
    weights ``weight``; all indexed by window). Each epoch draws ``len(fit)`` windows with replacement,
    with probability proportional to ``weight``; AdamW, linear warm-up and decay. ``time_budget`` (CPU
    seconds, 0: none) ends training early, after the batch that crosses it."""
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    model = HarmReader(base, recipe.first, recipe.layers, recipe.rank)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=0.01)
    per_epoch = math.ceil(len(fit) / recipe.batch)
    steps = recipe.epochs * per_epoch
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    p = weight[fit] / weight[fit].sum()
    started = time.process_time()
    yt, ct = torch.from_numpy(y), torch.from_numpy(cat)
    for epoch in range(recipe.epochs):
        drawn = fit[rng.choice(len(fit), size=len(fit), replace=True, p=p)]
        drawn = drawn[np.argsort([len(states[k]) for k in drawn], kind="stable")]  # similar lengths pad little
        chunks = [drawn[i:i + recipe.batch] for i in range(0, len(drawn), recipe.batch)]
        rng.shuffle(chunks)
        total = 0.0
        for rows in chunks:
            x, mask = stack([states[k] for k in rows])
            harm, catlog = model(x, mask)
            idx = torch.from_numpy(rows)
            loss = nn.functional.binary_cross_entropy_with_logits(harm, yt[idx].float())
            known = ct[idx] >= 0
            if bool(known.any()):
                loss = loss + recipe.category_weight * nn.functional.cross_entropy(catlog[known], ct[idx][known])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
            if time_budget and time.process_time() - started > time_budget:
                log(f"    time budget of {time_budget:.0f} CPU s reached in epoch {epoch + 1}")
                model.eval()
                return model
        log(f"    epoch {epoch + 1}/{recipe.epochs}: loss {total / len(chunks):.4f} ({time.process_time() - started:.0f} s CPU)")
    model.eval()
    return model


def window_outputs(model: HarmReader, states: States, which: npt.NDArray[np.int64], batch: int = 128) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]:
    """Harm logits and unit vectors of windows ``which`` (in that order)."""
    model.eval()
    logits = np.zeros(len(which))
    units = np.zeros((len(which), HIDDEN), dtype=np.float32)
    order = np.argsort([len(states[k]) for k in which], kind="stable")
    with torch.no_grad():
        for s in range(0, len(order), batch):
            pos = order[s:s + batch]
            x, mask = stack([states[which[j]] for j in pos])
            u = model.unit(x, mask)
            logits[pos] = model.harm(SCALE * u)[:, 0].double().numpy()
            units[pos] = u.numpy()
    return logits, units
