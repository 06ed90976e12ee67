"""Reversible pseudonymisation: redact PII before the upstream call, restore it in the reply.

Placeholders look like ``<PERSON_1>`` / ``<EMAIL_ADDRESS_2>``: the entity type (upper case, digits
and ``_``, at most :data:`MAX_ENTITY_LEN` characters) and a number counted per type. A vault lives
for **one request**: values are numbered in order of first appearance across the request's
messages, and since a chat client resends the whole history every turn (the history only grows),
the same value keeps the same placeholder from turn to turn without anything stored. A reply is
restored only from the vault of the request it answers, so it can only give back values that
request carried: no other user's, no other conversation's.

:func:`restore` also accepts the ways a model tends to rewrite a placeholder (decided here, tested
in ``tests/privacy/test_pseudonyms.py``):

* exact ``<PERSON_1>``; spaces inside the brackets ``< PERSON_1 >``; a space for the last
  underscore ``<PERSON 1>``; square brackets ``[PERSON_1]`` / ``[ PERSON 1 ]``;
* the bare token ``PERSON_1`` (upper case, ``_``, word boundaries), because markdown renderers eat
  ``<...>`` and models then drop the brackets. Only placeholders the vault issued are replaced, so
  an unrelated ``FOO_1`` in code is left alone;
* not lower case (``<person_1>``) and not other separators: each extra form widens what the
  streaming hold-back window must keep back.

Streaming code holds back :func:`partial_placeholder_suffix_len` trailing characters (never more
than :data:`PLACEHOLDER_MAX_LEN`), because they might still become a placeholder.

Nothing here logs values, and the ``repr`` of every object shows counts only.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re as stdlib_re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol

import regex as re

__all__ = [
    "DEFAULT_ACTION",
    "MAX_ENTITY_LEN",
    "PLACEHOLDER_MAX_LEN",
    "PLACEHOLDER_RE",
    "Action",
    "PseudonymVault",
    "Redaction",
    "SpanLike",
    "issued_in",
    "partial_placeholder_suffix_len",
    "placeholder_spans",
    "redact",
    "restore",
]

Action = Literal["mask", "pseudonymize", "hash", "drop", "allow"]
DEFAULT_ACTION: Action = "pseudonymize"
#: Longest entity name used in a placeholder (longer names are cut).
MAX_ENTITY_LEN = 32
_MAX_DIGITS = 6
#: Longest text :func:`restore` reads as one placeholder, tolerant forms included.
PLACEHOLDER_MAX_LEN = 1 + 1 + MAX_ENTITY_LEN + 1 + _MAX_DIGITS + 1 + 1

_TYPE = r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*"
#: The canonical placeholder, as :meth:`PseudonymVault.placeholder_for` writes it.
PLACEHOLDER_RE = re.compile(rf"<(?P<type>{_TYPE})_(?P<num>[1-9]\d{{0,{_MAX_DIGITS - 1}}})>")
_TOLERANT_RE = re.compile(
    rf"<[ ]?(?P<t1>{_TYPE})[_ ](?P<n1>[1-9]\d{{0,{_MAX_DIGITS - 1}}})[ ]?>"
    rf"|\[[ ]?(?P<t2>{_TYPE})[_ ](?P<n2>[1-9]\d{{0,{_MAX_DIGITS - 1}}})[ ]?\]"
    rf"|(?<![A-Za-z0-9_<\[])(?P<t3>{_TYPE})_(?P<n3>[1-9]\d{{0,{_MAX_DIGITS - 1}}})(?![A-Za-z0-9_])"
)
#: what every form of :data:`_TOLERANT_RE` contains: the type's last character, ``_`` or a space,
#: the number's first digit (matched with the standard library's engine, several times faster
#: than ``regex`` on prose)
_PLACEHOLDER_CORE = stdlib_re.compile(r"[A-Z0-9][_ ][1-9]")


def _may_hold_placeholder(text: str) -> bool:
    """False only when ``text`` cannot contain a placeholder in any tolerant form (no digit 1-9,
    or none right after ``_`` or a space that follows a capital or digit): :data:`_TOLERANT_RE`
    then finds nothing, and prose is not scanned with it."""
    return any(d in text for d in "123456789") and _PLACEHOLDER_CORE.search(text) is not None


_PARTIAL_RE = re.compile(
    rf"(?:[<\[][ ]?(?:[A-Z][A-Z0-9_ ]{{0,{MAX_ENTITY_LEN + _MAX_DIGITS}}}[ ]?)?"
    rf"|(?<![A-Za-z0-9_])[A-Z][A-Z0-9_]{{0,{MAX_ENTITY_LEN + _MAX_DIGITS}}})\Z"
)
_STRUCTURED_NORMAL = frozenset({"CREDIT_CARD", "IBAN_CODE", "PHONE_NUMBER", "US_SSN", "US_ITIN", "US_BANK_NUMBER", "NATIONAL_ID"})
_CASELESS = frozenset({"EMAIL_ADDRESS", "URL", "IP_ADDRESS"})


_NOT_TYPE_CHARS = re.compile(r"[^A-Z0-9]+")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


@functools.lru_cache(maxsize=512)
def placeholder_type(entity: str) -> str:
    """The entity name as it appears in a placeholder: ``[A-Z0-9_]``, starts with a letter.
    Remembered per name (a request's every span asks; the names are the recognizers' few)."""
    name = _NOT_TYPE_CHARS.sub("_", entity.upper()).strip("_")
    if not name or not name[0].isalpha():
        name = "PII_" + name
    return str(name[:MAX_ENTITY_LEN]).rstrip("_")


def normalise_value(entity: str, value: str) -> str:
    """The key under which a value is remembered: stripped, spaces collapsed; e-mails/URLs case-free;
    card, IBAN, phone and SSN numbers compared on their letters and digits only."""
    v = " ".join(value.split())
    if entity in _STRUCTURED_NORMAL:
        return str(_NOT_ALNUM.sub("", v)).upper()
    if entity in _CASELESS:
        return v.casefold()
    return v


class PseudonymVault:
    """One conversation's two-way map between values and placeholders. Thread-safe.

    ``version`` grows with every new mapping, so a persistent store knows when to save.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self.version = 0

    def __repr__(self) -> str:
        return f"PseudonymVault(entries={len(self._by_placeholder)}, types={len(self._counters)})"

    def __len__(self) -> int:
        return len(self._by_placeholder)

    def placeholder_for(self, entity: str, value: str) -> str:
        """The placeholder for ``value`` (creating ``<TYPE_n>`` with the next n for its type)."""
        ptype = placeholder_type(entity)
        key = (ptype, normalise_value(entity, value))
        with self._lock:
            found = self._by_value.get(key)
            if found is not None:
                return found
            n = self._counters.get(ptype, 0) + 1
            self._counters[ptype] = n
            placeholder = f"<{ptype}_{n}>"
            self._by_value[key] = placeholder
            self._by_placeholder[placeholder] = value.strip()
            self.version += 1
            return placeholder

    def value_for(self, placeholder: str) -> str | None:
        """The original value behind a canonical placeholder, or ``None``."""
        with self._lock:
            return self._by_placeholder.get(placeholder)

    def copy(self) -> PseudonymVault:
        """An independent vault with the same mappings and counters (new values number on from them)."""
        with self._lock:
            other = PseudonymVault()
            other._by_value = dict(self._by_value)
            other._by_placeholder = dict(self._by_placeholder)
            other._counters = dict(self._counters)
            other.version = self.version
            return other

    def export_state(self) -> dict[str, object]:
        """A JSON-able snapshot (values included: encrypt before storing)."""
        with self._lock:
            return {
                "entries": [[t, k, p, self._by_placeholder[p]] for (t, k), p in self._by_value.items()],
                "counters": dict(self._counters),
            }

    @classmethod
    def from_state(cls, state: Mapping[str, object]) -> PseudonymVault:
        """Rebuild a vault from :meth:`export_state` output."""
        vault = cls()
        entries = state.get("entries", [])
        counters = state.get("counters", {})
        assert isinstance(entries, list) and isinstance(counters, dict)
        for t, k, p, v in entries:
            vault._by_value[(t, k)] = p
            vault._by_placeholder[p] = v
        vault._counters = {str(t): int(n) for t, n in counters.items()}
        vault.version = len(vault._by_placeholder)
        return vault


class SpanLike(Protocol):
    """What :func:`redact` needs of a span (``proxy.detectors.pii.PiiSpan`` fits)."""

    @property
    def entity(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class Redaction:
    """The text to send upstream and how many spans of each type were changed (no values)."""

    text: str
    counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


def _resolve(text_len: int, spans: Sequence[SpanLike]) -> list[tuple[str, int, int]]:
    """Merge overlapping spans into their union, typed by the highest-scoring (then longest) one."""
    out: list[tuple[str, int, int, float, int]] = []
    for s in sorted(spans, key=lambda x: (x.start, -x.end)):
        if not (0 <= s.start < s.end <= text_len):
            raise ValueError(f"span {s.entity} [{s.start}:{s.end}] outside text of length {text_len}")
        if out and s.start < out[-1][2]:
            e, a, b, sc, ln = out[-1]
            better = (s.score, s.end - s.start) > (sc, ln)
            out[-1] = (s.entity if better else e, a, max(b, s.end), max(sc, s.score), max(ln, s.end - s.start))
        else:
            out.append((s.entity, s.start, s.end, s.score, s.end - s.start))
    return [(e, a, b) for e, a, b, _, _ in out]


def redact(
    text: str,
    spans: Sequence[SpanLike],
    actions: Mapping[str, Action],
    vault: PseudonymVault,
    *,
    hash_key: bytes,
) -> Redaction:
    """Apply each span's action (default :data:`DEFAULT_ACTION`); overlaps are merged first.

    mask -> ``<TYPE>``; pseudonymize -> the vault's ``<TYPE_n>``; hash -> ``<TYPE:8 hex>`` (keyed
    HMAC-SHA256 of the normalised value); drop -> removed; allow -> unchanged.
    """
    parts: list[str] = []
    counts: dict[str, int] = {}
    pos = 0
    for entity, start, end in _resolve(len(text), spans):
        action = actions.get(entity, DEFAULT_ACTION)
        if action == "allow":
            continue
        value = text[start:end]
        ptype = placeholder_type(entity)
        if action == "mask":
            replacement = f"<{ptype}>"
        elif action == "pseudonymize":
            replacement = vault.placeholder_for(entity, value)
        elif action == "hash":
            digest = hmac.new(hash_key, f"{ptype}\0{normalise_value(entity, value)}".encode(), hashlib.sha256)
            replacement = f"<{ptype}:{digest.hexdigest()[:8]}>"
        elif action == "drop":
            replacement = ""
        else:
            raise ValueError(f"unknown PII action {action!r} for {entity}")
        parts.append(text[pos:start])
        parts.append(replacement)
        pos = end
        counts[entity] = counts.get(entity, 0) + 1
    parts.append(text[pos:])
    return Redaction("".join(parts), MappingProxyType(counts))


def restore(text: str, vault: PseudonymVault) -> str:
    """Replace every placeholder the vault issued (in any form listed in the module docstring)."""

    def swap(m: re.Match[str]) -> str:
        ptype = m.group("t1") or m.group("t2") or m.group("t3")
        num = m.group("n1") or m.group("n2") or m.group("n3")
        value = vault.value_for(f"<{ptype}_{num}>")
        return str(m.group(0)) if value is None else value

    if len(vault) == 0 or not _may_hold_placeholder(text):
        return text
    return str(_TOLERANT_RE.sub(swap, text))


def issued_in(text: str, vault: PseudonymVault) -> tuple[tuple[str, str], ...]:
    """The placeholders of ``vault`` that ``text`` contains (any tolerant form), canonical, each with
    its value, in order of first appearance."""
    found: dict[str, str] = {}
    if len(vault) == 0 or not _may_hold_placeholder(text):
        return ()
    for m in _TOLERANT_RE.finditer(text):
        placeholder = f"<{m.group('t1') or m.group('t2') or m.group('t3')}_{m.group('n1') or m.group('n2') or m.group('n3')}>"
        value = vault.value_for(placeholder)
        if value is not None:
            found.setdefault(placeholder, value)
    return tuple(found.items())


def placeholder_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every placeholder-shaped token in ``text`` (any tolerant form, issued or
    not): streaming code never cuts inside one, so :func:`restore` sees each one whole."""
    if not _may_hold_placeholder(text):
        return []
    return [(m.start(), m.end()) for m in _TOLERANT_RE.finditer(text)]


def partial_placeholder_suffix_len(text: str) -> int:
    """Length of the trailing fragment of ``text`` that could still grow into a placeholder.

    ``"Hello <PERS"`` -> 5, ``"see [EMAIL_ADDRESS_"`` -> 15, ``"Hi PERSON_1"`` -> 8 (it may become
    ``PERSON_12``), ``"Hello."`` -> 0. Never more than :data:`PLACEHOLDER_MAX_LEN`.
    """
    tail = text[-PLACEHOLDER_MAX_LEN:]
    m = _PARTIAL_RE.search(tail)
    return len(tail) - m.start() if m else 0
