"""What a check compiles to, and the interface every check module has.

A check module exposes ``compile(rule, policy) -> Check | None``: ``rule`` is the policy's entry
(:class:`~proxy.policy.sections.rails.InputRail` or :class:`~proxy.policy.sections.rails.OutputRail`),
``policy`` the resolved policy (persona, microcopy). ``None`` means the check has nothing to do
for this policy (e.g. no phrases, no disclosure). Modules import their guardrails-ai validator
inside ``compile``; :func:`proxy.checks.registry.compile_check` calls
:func:`~proxy.rails.guardrails_setup.prepare_rails` first.

Three kinds of check:

* :class:`InputCheck`: a validator run over the request's texts from some ``sources``;
* :class:`SpanCheck`: an output check acting on spans of the reply in the hold-back window, with a
  cheap ``regex`` mirror that also finds *partial* matches at the end of the pending text;
* :class:`PrefixCheck`: the required disclosure, a check on the first characters of a reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from proxy.rails.text import OVERLAP_WORDS, word_cut, word_list, word_spans

__all__ = ["Check", "CheckModule", "InputCheck", "PrefixCheck", "SpanCheck", "user_only"]


@dataclass(frozen=True, slots=True)
class InputCheck:
    """One compiled input rail: the validator and the sources of text it reads."""

    check: str
    action: str
    sources: frozenset[str]
    validator: Any
    #: per-category actions (``harmful_request``, ``moderation``): a failure's first reason is
    #: ``<check>:<category>``; a category not named here takes ``action``
    actions: Mapping[str, str] = field(default_factory=dict)
    #: an async judge called by the stage instead of ``validator`` (``moderation``: network I/O)
    remote: Any = None
    #: read only the person's own words of a user message, not the blocks pasted into it (which
    #: the check reads separately as ``pasted``): ``jailbreak``
    own_words: bool = False
    #: costs milliseconds per text (``harmful_request`` with ``model: encoder``): the input-rails
    #: stage runs a policy holding such a check in a worker thread, never on the event loop
    off_loop: bool = False

    def action_for(self, reasons: Sequence[str]) -> str:
        """The action for a failure with these reasons."""
        if self.actions and reasons and ":" in reasons[0]:
            return self.actions.get(reasons[0].split(":", 1)[1], self.action)
        return self.action


def user_only(rule: Any) -> frozenset[str]:
    """The sources of a check that judges the person's own words: ``user`` if the rule names it."""
    return frozenset({"user"} & set(rule.sources))


def _no_replacement(_reason: str) -> str:
    return ""


#: the last run of word characters before the end (only non-word characters after it)
_LAST_WORD = re.compile(r"(\w+)\W*\Z")
_APOSTROPHES = ("'", "’")


@dataclass(frozen=True, slots=True)
class SpanCheck:
    """One compiled output rail that works on spans (everything but the disclosure)."""

    check: str
    action: str
    validator: Any
    #: the system message of a reask, naming the problem
    correction: str
    #: ``regex`` mirror of what the validator matches, for partial matches at the end of the text
    partial: Any = None
    #: characters past a complete match's end within which it may still grow
    tail: int = 0
    #: spans allowed before a span fails (over_empathy); None: every span fails
    limit: int | None = None
    replacement: Callable[[str], str] = _no_replacement
    #: whether tool-call arguments are checked too
    tools: bool = True
    #: the persona prompt's word-sequence prefixes (system_prompt_leak)
    prefixes: frozenset[tuple[str, ...]] = frozenset()
    shingles: frozenset[tuple[str, ...]] = frozenset()
    #: the first words of ``shingles``: only a run starting with one of them can be a shingle
    #: (empty: every run is looked up)
    shingle_starts: frozenset[str] = frozenset()
    #: the words ``prefixes`` end with (every word of the prompt): a text whose last word is none
    #: of them holds nothing for the prompt
    prefix_ends: frozenset[str] = frozenset()
    #: where a match may still be in progress, when the ``regex`` mirror cannot say it (a complete
    #: phone number the next digit group would extend): ``pii_leak``
    in_progress: Callable[[str], int] | None = None

    def hold_from(self, text: str, final: bool) -> int:
        """The earliest index that must stay held because a match may still form there."""
        start = len(text)
        if final:
            return start
        if self.in_progress is not None:
            start = self.in_progress(text)
        elif self.partial is not None:
            for m in self.partial.finditer(text, partial=True):
                if m.start() == m.end():
                    continue
                if m.partial or len(text) - m.end() < max(self.tail, 1):
                    start = min(start, m.start())
                    break
        if self.prefixes:
            boundary = word_cut(text)
            last = _LAST_WORD.search(text, 0, boundary)
            if last is None or (last.group(1).lower() not in self.prefix_ends and text[last.start() - 1 : last.start()] not in _APOSTROPHES):
                return start  # no word, or a last word no run of the prompt ends with (an apostrophe before it: read whole)
            words = [w for w in word_spans(text) if w[2] <= boundary]  # an unfinished last word is held anyway
            for k in range(min(OVERLAP_WORDS - 1, len(words)), 0, -1):
                if tuple(w for w, _, _ in words[-k:]) in self.prefixes:
                    start = min(start, words[-k][1])
                    break
        return start

    def spans(self, text: str, mirrored: bool | None = None) -> list[tuple[int, int, str]]:
        """The validator's failing spans; the validator runs only when the cheap mirror (or, for a
        prompt leak, a run of prompt words) says a complete match is present. ``mirrored``: what
        the mirror would say, when the caller already knows (:attr:`OutputRules.trigger`)."""
        maybe = mirrored if mirrored is not None else (self.partial is None or self.partial.search(text) is not None)
        if not maybe and self.shingles:
            words = word_list(text)
            starts = self.shingle_starts
            maybe = len(words) >= OVERLAP_WORDS and any(
                tuple(words[i : i + OVERLAP_WORDS]) in self.shingles for i in range(len(words) - OVERLAP_WORDS + 1) if not starts or words[i] in starts
            )
        if not maybe:
            return []
        result = self.validator.validate(text, {})
        return [(s.start, s.end, s.reason) for s in (getattr(result, "error_spans", None) or ())]


@dataclass(frozen=True, slots=True)
class PrefixCheck:
    """The required disclosure: ``text`` must be within the first ``need`` characters of a reply."""

    check: str
    action: str
    text: str
    validator: Any
    need: int
    every_turn: bool


Check = InputCheck | SpanCheck | PrefixCheck


class CheckModule(Protocol):
    """A check module: ``compile(rule, policy)`` builds the check for one policy version."""

    def compile(self, rule: Any, policy: Any) -> Check | None: ...
