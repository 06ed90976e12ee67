"""The all-MiniLM-L6-v2 encoder in plain torch, for training the contextual emotion reader.

Training-only (torch is in the ``train`` extra, never needed at run time). The math mirrors the
ONNX graph that :mod:`proxy.detectors.emotion_contextual_graph` builds for run time (BERT,
post-layer-norm, GELU with erf, masked mean pooling), and the weights use the same layout
(``[in, out]`` matrices), so the trained values drop into that graph unchanged.

The lower layers stay frozen: :func:`encode_lower` runs them once over the corpus and the training
loop reads their cached outputs; the top layers are adapted with LoRA (rank ``r``: ``W + A @ B``)
and train their biases and layer norms in full; two linear heads read the pooled output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from proxy.detectors.emotion_contextual_base import HEADS, HIDDEN, LAYER_NORM_EPS, LAYERS
from proxy.detectors.emotion_contextual_graph import (
    HEADS_WIDTH,
    LAYER_MATRICES,
    layer_tensors,
)


def _t(a: npt.NDArray[np.generic]) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


class Embeddings(nn.Module):
    """Word + position + token-type-0 embeddings, then layer norm (frozen)."""

    def __init__(self, base: Mapping[str, npt.NDArray[np.generic]]) -> None:
        super().__init__()
        self.word = nn.Parameter(_t(base["embeddings.word_embeddings.weight"]), requires_grad=False)
        self.pos = nn.Parameter(_t(base["embeddings.position_embeddings.weight"]), requires_grad=False)
        self.type0 = nn.Parameter(_t(base["embeddings.token_type_embeddings.weight"][0]), requires_grad=False)
        self.ln_g = nn.Parameter(_t(base["embeddings.LayerNorm.weight"]), requires_grad=False)
        self.ln_b = nn.Parameter(_t(base["embeddings.LayerNorm.bias"]), requires_grad=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.word[ids] + self.pos[: ids.shape[1]] + self.type0
        return nn.functional.layer_norm(x, (HIDDEN,), self.ln_g, self.ln_b, LAYER_NORM_EPS)


class Layer(nn.Module):
    """One BERT layer; with ``rank`` > 0 its six matrices get trainable LoRA factors."""

    def __init__(self, tensors: Mapping[str, npt.NDArray[np.float32]], rank: int = 0,
                 alpha: float = 16.0, dropout: float = 0.1) -> None:
        super().__init__()
        trainable = rank > 0
        self.rank, self.scale = rank, (alpha / rank if rank else 0.0)
        self.w = nn.ParameterDict({k: nn.Parameter(_t(tensors[k]), requires_grad=False) for k in LAYER_MATRICES})
        self.v = nn.ParameterDict({k: nn.Parameter(_t(a), requires_grad=trainable)
                                   for k, a in tensors.items() if k not in LAYER_MATRICES})
        self.a = nn.ParameterDict()
        self.b = nn.ParameterDict()
        if trainable:
            for k in LAYER_MATRICES:
                n_in, n_out = tensors[k].shape
                self.a[k] = nn.Parameter(torch.randn(n_in, rank) / math.sqrt(n_in))
                self.b[k] = nn.Parameter(torch.zeros(rank, n_out))
        self.drop = nn.Dropout(dropout)

    def shipped(self, index: int) -> dict[str, npt.NDArray[Any]]:
        """What ships of this layer as layer ``index``: ``L{index}.{m}.lora_a/lora_b`` (float16),
        ``L{index}.lora_scale`` and the biases and layer norms (float32)."""
        out: dict[str, npt.NDArray[Any]] = {f"L{index}.lora_scale": np.array(self.scale, dtype=np.float32)}
        for k in LAYER_MATRICES:
            out[f"L{index}.{k}.lora_a"] = self.a[k].detach().numpy().astype(np.float16)
            out[f"L{index}.{k}.lora_b"] = self.b[k].detach().numpy().astype(np.float16)
        for k, p in self.v.items():
            out[f"L{index}.{k}"] = p.detach().numpy().astype(np.float32)
        return out

    def matrix(self, k: str) -> torch.Tensor:
        """The effective ``[in, out]`` matrix (base + LoRA)."""
        if not self.rank:
            return self.w[k]
        return self.w[k] + self.scale * (self.a[k] @ self.b[k])

    def forward(self, x: torch.Tensor, ext_mask: torch.Tensor) -> torch.Tensor:
        bsz, seq, _ = x.shape
        dh = HIDDEN // HEADS

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(bsz, seq, HEADS, dh).transpose(1, 2)

        q = heads(x @ self.matrix("q_w") + self.v["q_b"])
        k = heads(x @ self.matrix("k_w") + self.v["k_b"])
        v = heads(x @ self.matrix("v_w") + self.v["v_b"])
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + ext_mask, dim=-1)
        ctx = (self.drop(att) @ v).transpose(1, 2).reshape(bsz, seq, HIDDEN)
        x = nn.functional.layer_norm(x + self.drop(ctx @ self.matrix("o_w") + self.v["o_b"]), (HIDDEN,),
                                     self.v["ln1_g"], self.v["ln1_b"], LAYER_NORM_EPS)
        h = nn.functional.gelu(x @ self.matrix("f1_w") + self.v["f1_b"])
        return nn.functional.layer_norm(x + self.drop(h @ self.matrix("f2_w") + self.v["f2_b"]), (HIDDEN,),
                                        self.v["ln2_g"], self.v["ln2_b"], LAYER_NORM_EPS)

    def merged(self) -> dict[str, npt.NDArray[np.float32]]:
        """Every tensor of the layer with LoRA folded in (what the run-time graph holds)."""
        with torch.no_grad():
            out = {k: self.matrix(k).numpy().astype(np.float32) for k in LAYER_MATRICES}
            out.update({k: p.detach().numpy().astype(np.float32) for k, p in self.v.items()})
        return out


def extended_mask(mask: torch.Tensor) -> torch.Tensor:
    """``[B, T]`` 0/1 -> additive ``[B, 1, 1, T]`` (0 kept, -10000 masked), as the graph does."""
    return (1.0 - mask[:, None, None, :].float()) * -10000.0


def mean_pool(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the unmasked tokens' vectors."""
    m = mask.float().unsqueeze(-1)
    return (x * m).sum(1) / m.sum(1).clamp(min=1e-9)


class LowerEncoder(nn.Module):
    """Embeddings and the frozen lower ``n`` layers."""

    def __init__(self, base: Mapping[str, npt.NDArray[np.generic]], n: int) -> None:
        super().__init__()
        self.emb = Embeddings(base)
        self.layers = nn.ModuleList(Layer(layer_tensors(base, i)) for i in range(n))

    @torch.no_grad()
    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.emb(ids)
        ext = extended_mask(mask)
        for layer in self.layers:
            x = layer(x, ext)
        return x


def pad(seqs: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and the 0/1 mask."""
    width = max(len(x) for x in seqs)
    tok = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, x in enumerate(seqs):
        tok[i, : len(x)] = torch.tensor(list(x))
        mask[i, : len(x)] = 1
    return tok, mask


def stack(states: Sequence[npt.NDArray[np.float16]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad cached states into ``[B, T, 384]`` float32 and the mask."""
    width = max(len(s) for s in states)
    x = np.zeros((len(states), width, states[0].shape[1]), dtype=np.float32)
    mask = torch.zeros((len(states), width), dtype=torch.long)
    for i, s in enumerate(states):
        x[i, : len(s)] = s
        mask[i, : len(s)] = 1
    return torch.from_numpy(x), mask


def encode_lower(lower: LowerEncoder, ids: Sequence[Sequence[int]], batch: int = 64, log: Callable[[str], None] | None = None) -> list[npt.NDArray[np.float16]]:
    """Each sequence's output of the frozen lower layers (float16, ``[tokens, 384]``), batched by
    length; ``log`` gets a progress line every 100 batches."""
    order = np.argsort([len(x) for x in ids], kind="stable")
    out: list[npt.NDArray[np.float16]] = [np.zeros((0, HIDDEN), np.float16)] * len(ids)
    for n, s in enumerate(range(0, len(order), batch)):
        rows = order[s : s + batch]
        tok, mask = pad([ids[r] for r in rows])
        states = lower(tok, mask).numpy().astype(np.float16)
        for j, r in enumerate(rows):
            out[r] = states[j, : len(ids[r])].copy()
        if log is not None and n % 100 == 0:
            log(f"  lower layers: {s}/{len(order)}")
    return out


class UpperReader(nn.Module):
    """The adapted top layers, mean pooling and the two heads (Bedside 8, Ekman 7)."""

    def __init__(self, base: Mapping[str, npt.NDArray[np.generic]], first: int, last: int,
                 rank: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.first = first
        self.layers = nn.ModuleList(Layer(layer_tensors(base, i), rank=rank, dropout=dropout)
                                    for i in range(first, last))
        self.drop = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({name: nn.Linear(HIDDEN, width) for name, width in HEADS_WIDTH.items()})

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        ext = extended_mask(mask)
        for layer in self.layers:
            x = layer(x, ext)
        pooled = self.drop(mean_pool(x, mask))
        return {name: head(pooled) for name, head in self.heads.items()}

    def head_tensors(self) -> dict[str, npt.NDArray[np.float32]]:
        """Head weights in the graph's layout: ``{name}_w`` ``[384, n]`` and ``{name}_b``."""
        out: dict[str, npt.NDArray[np.float32]] = {}
        for name, head in self.heads.items():
            assert isinstance(head, nn.Linear)
            out[f"{name}_w"] = head.weight.detach().numpy().T.astype(np.float32).copy()
            out[f"{name}_b"] = head.bias.detach().numpy().astype(np.float32).copy()
        return out


def resume_from(folder: Path, model: UpperReader, args: Any, seed: int) -> tuple[int, float, list[dict[str, Any]], dict[str, Any]]:
    """Load an earlier run's shipped epoch into ``model``: (epochs done, its score, history, note).

    What ships is all that was trained (LoRA factors in float16, the rest float32), so the model
    continues from the same weights; AdamW's moment estimates were not kept and restart at zero.
    """
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))["training"]
    for name in ("first_adapted_layer", "lora_rank", "epochs", "batch", "lr", "balance", "seed"):
        have = {"first_adapted_layer": args.first, "lora_rank": args.rank, "seed": seed}.get(name, getattr(args, name, None))
        if meta[name] != have:
            raise SystemExit(f"cannot resume: {folder} was trained with {name}={meta[name]}, this run has {have}")
    layers = json.loads((folder / "meta.json").read_text(encoding="utf-8")).get("layers", LAYERS)  # absent: all six
    if layers != model.first + len(model.layers):
        raise SystemExit(f"cannot resume: {folder} has {layers} layers, this run {model.first + len(model.layers)}")
    done = int(meta["shipped_epoch"])
    with np.load(folder / "trained.npz") as z:
        saved = {k: z[k] for k in z.files}
    with torch.no_grad():
        for j, layer in enumerate(model.layers):
            assert isinstance(layer, Layer)
            i = model.first + j
            for k in LAYER_MATRICES:
                layer.a[k].copy_(torch.from_numpy(saved[f"L{i}.{k}.lora_a"].astype(np.float32)))
                layer.b[k].copy_(torch.from_numpy(saved[f"L{i}.{k}.lora_b"].astype(np.float32)))
            for k, p in layer.v.items():
                p.copy_(torch.from_numpy(saved[f"L{i}.{k}"].astype(np.float32)))
        for name, head in model.heads.items():
            assert isinstance(head, torch.nn.Linear)
            head.weight.copy_(torch.from_numpy(saved[f"{name}_w"].T.astype(np.float32)))
            head.bias.copy_(torch.from_numpy(saved[f"{name}_b"].astype(np.float32)))
    history = [h for h in meta["history"] if h["epoch"] <= done]
    note = {"from_epoch": done, "earlier_run_cpu_seconds": meta["held_out"]["cpu_seconds"],
            "how": "weights of the earlier run's shipped epoch (LoRA factors float16); learning-rate "
                   "schedule and batch order continued; AdamW moments restarted"}
    return done, float(meta["held_out"]["balanced_ekman6_macro_f1_bedside_top"]), history, note
