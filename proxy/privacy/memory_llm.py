"""The LLM memory extractor's contract: the declared prompt, what the model is sent, and the strict
validation of what it answers (the call itself is made by :mod:`proxy.stages.memory_extractor`).

**Sent** (one chat request, ``temperature: 0``, ``response_format: json_object``): the prompt as the
system message, and one user message holding a JSON object with ``allowed_kinds`` (the policy's
``memory.remember``), ``memories`` (the user's existing memories, each as ``{id, kind, topic,
text}`` with a *short* id ``m1``, ``m2``... and every personal value replaced by a placeholder of
this request's vault) and ``user_turn`` (the user's last turn as the PII stage redacted it). No raw
personal value, no real memory id and no user id is in it.

**Answered**: one JSON object ``{"operations": [...]}`` with ``add {kind, topic, text}``,
``update {id, text}`` and ``forget {id}`` (a single Markdown code fence around it is tolerated).
Anything else is garbage and nothing is stored. Each operation is then checked on its own and
dropped (counted as rejected) when:

* its id is not one of the short ids sent (unknown ids are ignored);
* its kind is not in ``memory.remember`` (for ``update``: the memory's kind);
* its text fails the rule extractor's filters (:func:`proxy.privacy.memory_rules.refusal`:
  memory poisoning, special categories, questions, Bedside's mark, over 240 characters);
* its text holds a placeholder this request's vault does not hold (a made-up one);
* its topic is not a short label (1-40 characters: letters, digits, space, ``-``, ``_``, ``:``);
* it adds or updates, and the user's turn instructs the assistant somewhere (the rule extractor's
  whole-turn poisoning check, :func:`proxy.privacy.memory_rules.turn_is_poisoned`): such a turn
  can still make Bedside *forget* ("forget my e-mail address"), never remember.

At most :data:`MAX_OPERATIONS` operations are read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import regex as re

from proxy.privacy.memory_rules import Extracted, refusal
from proxy.privacy.pseudonyms import PLACEHOLDER_RE

PROMPT_VERSION = "memory-extract-v1"
MAX_OPERATIONS = 20
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9 :_-]{0,39}$")
_FENCE = re.compile(r"^```(?:json)?\s*\n(?P<body>.*)\n```$", re.DOTALL)


class ExtractorGarbage(ValueError):
    """The extractor model's answer is not the JSON object the prompt asks for."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """The extractor's instructions, with the version and hash recorded wherever it is used."""

    text: str
    version: str

    @property
    def sha(self) -> str:
        """The first 12 hex digits of the prompt's SHA-256."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]

    @property
    def label(self) -> str:
        """``version:sha``, e.g. ``memory-extract-v1:3fa9c1d20b7e`` (what decisions and logs show)."""
        return f"{self.version}:{self.sha}"


def packaged_prompt() -> Prompt:
    """Bedside's own prompt, shipped in the package (``proxy/privacy/prompts``)."""
    text = resources.files("proxy.privacy").joinpath("prompts", f"{PROMPT_VERSION}.txt").read_text(encoding="utf-8")
    return Prompt(text, PROMPT_VERSION)


def policy_prompt(custom: str | None, packaged: Prompt) -> Prompt:
    """The prompt a policy declares (``memory.llm.prompt``), else the packaged one."""
    return packaged if custom is None else Prompt(custom, "custom")


@dataclass(frozen=True, slots=True)
class Shown:
    """One existing memory as the extractor model sees it."""

    short_id: str
    memory_id: str
    kind: str
    topic: str
    text: str  # with this request's placeholders


def request_body(model: str, prompt: Prompt, turn: str, shown: Sequence[Shown], kinds: Sequence[str]) -> dict[str, Any]:
    """The chat request sent to the extractor model (see the module doc)."""
    payload = {
        "allowed_kinds": list(kinds),
        "memories": [{"id": s.short_id, "kind": s.kind, "topic": s.topic, "text": s.text} for s in shown],
        "user_turn": turn,
    }
    return {
        "model": model,
        "messages": [{"role": "system", "content": prompt.text}, {"role": "user", "content": json.dumps(payload, ensure_ascii=False)}],
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "stream": False,
    }


@dataclass(slots=True)
class Operations:
    """The validated operations of one answer, with real memory ids."""

    add: list[Extracted] = field(default_factory=list)
    update: dict[str, str] = field(default_factory=dict)
    forget: list[str] = field(default_factory=list)
    #: operations dropped by validation, by reason
    rejected: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def __bool__(self) -> bool:
        return bool(self.add or self.update or self.forget)


def _decode(content: object) -> list[Any]:
    if not isinstance(content, str):
        raise ExtractorGarbage("no text content")
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced is not None:
        text = fenced.group("body").strip()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ExtractorGarbage("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("operations"), list):
        raise ExtractorGarbage("no operations list")
    return list(data["operations"])


def _text_problem(text: object, resolves: Callable[[str], bool]) -> str | None:
    if not isinstance(text, str):
        return "invalid"
    why = refusal(" ".join(text.split()))
    if why is not None:
        return why
    if not all(resolves(m.group(0)) for m in PLACEHOLDER_RE.finditer(text)):
        return "placeholder"
    return None


def parse_operations(
    content: object, *, shown: Sequence[Shown], kinds: Sequence[str], resolves: Callable[[str], bool], writes: bool = True
) -> Operations:
    """The valid operations in the extractor model's answer ``content`` (raises :class:`ExtractorGarbage`).

    ``resolves(placeholder)`` says whether this request's vault holds the placeholder's value;
    ``writes=False`` (the turn instructs the assistant) keeps only ``forget`` operations."""
    raw = _decode(content)
    by_short: Mapping[str, Shown] = {s.short_id: s for s in shown}
    out = Operations()
    for n, op in enumerate(raw):
        if n >= MAX_OPERATIONS:
            out.reject("too_many")
            continue
        if not isinstance(op, dict) or op.get("op") not in ("add", "update", "forget"):
            out.reject("invalid")
            continue
        if op["op"] != "forget" and not writes:
            out.reject("poisoned_turn")
            continue
        if op["op"] == "add":
            kind, topic = op.get("kind"), op.get("topic")
            if kind not in kinds:
                out.reject("kind")
                continue
            topic = " ".join(topic.casefold().split()) if isinstance(topic, str) else ""
            if not _TOPIC.match(topic):
                out.reject("topic")
                continue
            problem = _text_problem(op.get("text"), resolves)
            if problem is not None:
                out.reject(problem)
                continue
            out.add.append(Extracted(str(kind), topic, " ".join(str(op["text"]).split())))
            continue
        short_id = op.get("id")
        target = by_short.get(short_id) if isinstance(short_id, str) else None
        if target is None:
            out.reject("unknown_id")
            continue
        if op["op"] == "forget":
            if target.memory_id not in out.forget:
                out.forget.append(target.memory_id)
            continue
        if target.kind not in kinds:
            out.reject("kind")
            continue
        problem = _text_problem(op.get("text"), resolves)
        if problem is not None:
            out.reject(problem)
            continue
        out.update[target.memory_id] = " ".join(str(op["text"]).split())
    return out
