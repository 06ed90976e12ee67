"""The reply side of the PII stage: restore pseudonyms and catch PII the model writes itself.

Both run as one hold-back processor (:class:`ReplyProcessor`, see ``proxy.pipeline.holdback``) on
the reply's text and, separately, on each tool call's arguments. The processor works on the *raw*
reply (placeholders not yet restored): it releases the start of the pending text and keeps the
tail raw, so restored values are never re-examined and are never mistaken for PII the model made up.

Where it cuts (``safe_cut``): it holds back only text that could still become something, never
a fixed span. The cut is the latest position that

* is not later than the start of a value still being written
  (:func:`proxy.detectors.structured_pii.in_progress_from`: a partial e-mail, phone, card, IBAN, SSN
  or IP address reaching the end of ``pending``, or a complete one the next characters could
  still extend), nor than a fragment that could still become a placeholder
  (``partial_placeholder_suffix_len``);
* is not inside a detected value or a placeholder-shaped token (``placeholder_spans``);
* follows a boundary character (anything that cannot be part of a value or a placeholder's
  bracket: a space, ``,``, ``"``, ``;`` ...), so the released part ends a token and the held
  part starts one: every pattern's look-behind reads the same character in both, and the
  unfinished last token is held.

So prose is released word by word as it arrives ("I understand " goes out at once), and a value
split across chunks is complete in ``pending`` before any of it is released: streaming and
non-streaming replies come out identical (``tests/stages/test_stream_equivalence.py`` checks it
for random chunkings). If no boundary turns up within ``MAX_HOLD`` characters (a very long
unbroken token), the cut falls back to any position outside detected values and values in
progress, so time to first token stays bounded.

Output detection is regex-only (:mod:`proxy.detectors.structured_pii`, the definition the
``pii_leak`` rail and the handoff scrub use too: e-mail, phone, card with Luhn, IBAN with mod 97,
SSN, IPv4/IPv6), never the NER model: it runs on every chunk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from proxy.detectors import structured_pii
from proxy.detectors.structured_pii import Match as OutputMatch
from proxy.pipeline.holdback import WindowResult
from proxy.privacy.pseudonyms import PLACEHOLDER_MAX_LEN, PseudonymVault, partial_placeholder_suffix_len, placeholder_spans, restore

__all__ = ["MAX_HOLD", "OUTPUT_ENTITIES", "OutputMatch", "OutputScanner", "ReplyProcessor"]

#: Held characters beyond which the cut no longer waits for a boundary character.
MAX_HOLD = 256
#: Entities the output scanner knows, in priority order (earlier wins an overlap).
OUTPUT_ENTITIES: tuple[str, ...] = structured_pii.ENTITIES
#: Characters after which no cut is made: they can be part of a value (``._%+-@:``, word
#: characters) or open a placeholder (``<``, ``[``).
_NO_CUT_AFTER = frozenset("_.%+-@:<[")


class OutputScanner:
    """Finds structured PII in reply text (:mod:`proxy.detectors.structured_pii`, no NER).

    ``entities`` limits the types looked for; ``allow`` lists values never reported (compared
    stripped and case-insensitively, e.g. the company's support address).
    """

    def __init__(self, entities: Iterable[str] = OUTPUT_ENTITIES, allow: Iterable[str] = ()) -> None:
        wanted = set(entities)
        self.entities = tuple(e for e in OUTPUT_ENTITIES if e in wanted)
        self._wanted = frozenset(self.entities)  # as in_progress_from reads it, built once
        self._allow = tuple(allow)

    def find(self, text: str) -> list[OutputMatch]:
        """Non-overlapping matches sorted by start; on overlap the earlier entity of OUTPUT_ENTITIES wins."""
        return structured_pii.find(text, self.entities, self._allow)

    def in_progress_from(self, text: str) -> int:
        """The earliest index of ``text`` where a value of these entities may still be being written."""
        return structured_pii.in_progress_from(text, self._wanted)


class ReplyProcessor:
    """A hold-back processor: restore the vault's placeholders and mask model-made PII.

    ``vault`` None: no restoring. ``scanner`` None: no output detection. ``mask`` False: detected
    values are only counted (``allow`` in the policy, or shadow mode). ``json_escape``: restored
    values are escaped for a JSON string (tool-call arguments). ``on_detect(entity)`` is called once
    per detected value (the stage records counts; values are never passed on).
    """

    def __init__(
        self,
        *,
        vault: PseudonymVault | None,
        scanner: OutputScanner | None,
        mask: bool,
        json_escape: bool = False,
        on_detect: Callable[[str], None] | None = None,
    ) -> None:
        self._vault = _JsonEscapedVault(vault) if vault is not None and json_escape else vault
        self._scanner = scanner
        self._mask = mask
        self._on_detect = on_detect

    def __call__(self, pending: str, final: bool) -> WindowResult:
        matches = self._scanner.find(pending) if self._scanner is not None else []
        cut = len(pending) if final else self.safe_cut(pending, matches)
        if cut == 0:
            return WindowResult(pending, hold=len(pending))
        out: list[str] = []
        pos = 0
        for m in matches:
            if m.end > cut:
                break
            out.append(self._restore(pending[pos : m.start]))
            if self._on_detect is not None:
                self._on_detect(m.entity)
            out.append(f"<{m.entity}>" if self._mask else pending[m.start : m.end])
            pos = m.end
        out.append(self._restore(pending[pos:cut]))
        held = pending[cut:]
        return WindowResult("".join(out) + held, hold=len(held))

    def _restore(self, text: str) -> str:
        return restore(text, self._vault) if self._vault is not None and text else text

    def safe_cut(self, pending: str, matches: list[OutputMatch]) -> int:
        """How many leading characters of ``pending`` may be released now (see module docstring)."""
        hold = len(pending)
        if self._scanner is not None:
            hold = self._scanner.in_progress_from(pending)
        if self._vault is not None:
            hold = min(hold, len(pending) - partial_placeholder_suffix_len(pending))
        spans = [(m.start, m.end) for m in matches]
        if self._vault is not None:
            spans += placeholder_spans(pending)
        cut = _settle(pending, hold, spans, boundary=True)
        if len(pending) - cut > MAX_HOLD:  # a very long unbroken token: any position outside values
            cut = max(cut, _settle(pending, min(hold, len(pending) - PLACEHOLDER_MAX_LEN), spans, boundary=False))
        return cut


def _settle(pending: str, cut: int, spans: list[tuple[int, int]], *, boundary: bool) -> int:
    """The latest position at or before ``cut`` outside every span (and after a boundary character)."""
    moved = True
    while moved and cut > 0:
        moved = False
        if boundary:
            while cut > 0 and (pending[cut - 1].isalnum() or pending[cut - 1] in _NO_CUT_AFTER):
                cut -= 1
        for s, e in spans:
            if s < cut < e:
                cut, moved = s, True
    return max(cut, 0)


class _JsonEscapedVault(PseudonymVault):
    """A read-only view of a vault whose values come out escaped for a JSON string."""

    def __init__(self, inner: PseudonymVault) -> None:
        super().__init__()
        self._inner = inner

    def __len__(self) -> int:
        return len(self._inner)

    def value_for(self, placeholder: str) -> str | None:
        value = self._inner.value_for(placeholder)
        return None if value is None else json.dumps(value, ensure_ascii=False)[1:-1]
