"""Apply detected spans to a walked request: one vault per request, every slot by its kind.

:func:`plan_redaction` takes the slots of :func:`proxy.privacy.request_walk.walk_request` (in
their order), the spans found in each slot's analysed text and the policy's actions, and plans the rewrite that
:meth:`RequestRedaction.apply` makes in place: texts get placeholders, message names get bracket-free ones, long numbers
become placeholder strings, object keys are renamed, JSON strings are re-encoded. It raises
:class:`~proxy.errors.InvalidRequest` (nothing is forwarded) when a name the upstream needs verbatim
holds personal data, or when the request carries more distinct values than the policy allows.

The vault is new for each request, so placeholders are numbered in order of first appearance in
the request itself; nothing here outlives the request. A request that continues a conversation the
upstream keeps (the earlier turns are not resent) starts from a copy of that conversation's vault
(``seed``): its values keep their placeholders and new ones number on after them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex as re

from proxy.errors import InvalidRequest
from proxy.privacy.pseudonyms import Action, PseudonymVault, SpanLike, redact
from proxy.privacy.slots import JsonDoc, Slot

__all__ = ["RequestRedaction", "Span", "plan_redaction", "slot_spans"]

_BRACKETS = re.compile(r"<([A-Z][A-Z0-9_]*(?::[0-9a-f]{8})?)>")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class Span:
    """A span in a slot's own text (offsets into :attr:`Slot.text`)."""

    entity: str
    start: int
    end: int
    score: float


@dataclass(slots=True)
class RequestRedaction:
    """A planned redaction: the request's vault, counts per entity (no values) and the writes
    :meth:`apply` makes."""

    vault: PseudonymVault
    counts: dict[str, int] = field(default_factory=dict)
    writes: list[tuple[Slot, str]] = field(default_factory=list)

    def apply(self) -> None:
        """Rewrite the request: values first, then renamed keys (their slots address the old keys),
        then the JSON strings whose documents changed."""
        renames: dict[int, tuple[dict[str, Any], dict[str, str]]] = {}
        docs: dict[int, JsonDoc] = {}
        for slot, new in self.writes:
            if slot.is_key:
                renames.setdefault(id(slot.holder), (slot.holder, {}))[1][slot.key] = new
            else:
                slot.holder[slot.key] = new
            if slot.doc is not None:
                docs[id(slot.doc)] = slot.doc
        for holder, mapping in renames.values():
            items = list(holder.items())
            holder.clear()
            holder.update((mapping.get(k, k), v) for k, v in items)
        for doc in docs.values():
            doc.write_back()


def slot_spans(slot: Slot, spans: Sequence[SpanLike]) -> list[Span]:
    """Spans of the analysed text moved onto the slot's own text (a number's key is context only:
    a span touching the digits covers all of them)."""
    if slot.kind != "number":
        return [Span(s.entity, s.start, s.end, s.score) for s in spans]
    off, n = slot.offset, len(slot.text)
    return [Span(s.entity, 0, n, s.score) for s in spans if s.end > off and s.start < off + n][:1]


def plan_redaction(
    slots: Sequence[Slot],
    spans_of: Callable[[int, Slot, PseudonymVault], Sequence[Span]],
    actions: Mapping[str, Action],
    *,
    default_action: Action,
    hash_key: bytes,
    max_values: int,
    seed: PseudonymVault | None = None,
) -> RequestRedaction:
    """Redact every slot in order into a new vault (a copy of ``seed`` when given), without touching
    the request (see the module docstring); ``spans_of(i, slot, vault)`` gives slot ``i``'s spans,
    called in order."""
    result = RequestRedaction(seed.copy() if seed is not None else PseudonymVault())
    vault = result.vault
    for i, slot in enumerate(slots):
        spans = spans_of(i, slot, vault)
        if not spans:
            continue
        wanted = {s.entity: actions.get(s.entity, default_action) for s in spans}
        if all(a == "allow" for a in wanted.values()):
            continue
        if slot.kind == "ident":
            entities = ", ".join(sorted(e for e, a in wanted.items() if a != "allow"))
            raise InvalidRequest(
                f"{slot.path} seems to contain personal data ({entities}), and Bedside cannot replace it there because the model needs "
                "the name exactly. Use a name without personal data.",
                param=slot.path,
                code="pii_in_name",
            )
        done = redact(slot.text, spans, wanted, vault, hash_key=hash_key)
        if len(vault) > max_values:
            raise InvalidRequest(
                f"This request carries more than {max_values} different pieces of personal data, more than this policy accepts in one "
                "request. Send less at once, or ask your operator to raise pii.max_values.",
                code="too_much_personal_data",
            )
        for entity, n in done.counts.items():
            result.counts[entity] = result.counts.get(entity, 0) + n
        if done.text != slot.text:
            new = done.text
            if slot.kind == "name":
                new = _NOT_NAME.sub("_", _BRACKETS.sub(r"\1", new))[:64]
            result.writes.append((slot, new))
    return result
