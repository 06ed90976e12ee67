"""Denied topics: declared per policy, compiled once into fast, explainable matchers.

A :class:`TopicSpec` names a topic and says how to recognise it:

* ``keywords`` are plain phrases ("investment advice"). Matching is case-insensitive, on word
  boundaries, and tolerant of inflection: each word also matches its usual English endings
  ("diagnose" matches "diagnosed", "diagnosing"; "study" matches "studies"), and words may be
  separated by spaces or hyphens. A keyword match weighs :data:`KEYWORD_WEIGHT`.
* ``patterns`` are regular expressions (case-insensitive) for the shapes of a request
  ("should I take ... mg"). A pattern match weighs :data:`PATTERN_WEIGHT`. A pattern may name
  itself with a leading regex comment, ``(?#dose_question)...``; the name is its evidence label.
* ``exceptions`` are phrases (compiled like keywords) whose spans cancel any overlapping match:
  "diagnose my laptop" is not medical, "out of stock" is not finance.

A topic's score is ``1 - prod(1 - w)`` over its distinct matching keywords/patterns; topics scoring
at least ``min_score`` are reported, strongest first. Speed: each keyword/pattern carries literal
strings of which any match must contain one (derived from the parsed regex), checked with a plain
substring test first, so ordinary text rarely runs a regex at all. :attr:`TopicHit.evidence` lists *which spec
entries* matched (the policy's own words, never the user's text), so every decision is explainable.

Built-in specs (:data:`BUILTIN_TOPICS`, usable by name through :func:`builtin_topic`):
``medical_diagnosis``, ``legal_advice``, ``financial_advice``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Python >= 3.11 keeps the regex parser here; it is used only to pre-compute substring gates.
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any, Final

__all__ = [
    "BUILTIN_TOPICS",
    "KEYWORD_WEIGHT",
    "PATTERN_WEIGHT",
    "TopicHit",
    "TopicMatcher",
    "TopicSpec",
    "builtin_topic",
    "phrase_regex",
    "resolve_topics",
]

KEYWORD_WEIGHT: Final = 0.6
PATTERN_WEIGHT: Final = 0.8


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic an operator wants to recognise (and usually deny)."""

    name: str
    keywords: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class TopicHit:
    """One topic found in a text: its name, a 0..1 score and the spec entries that matched."""

    name: str
    score: float
    evidence: tuple[str, ...] = ()


_VOWELS = "aeiou"


def _word_regex(word: str) -> str:
    """A regex for one word and its common inflections (no stemming library, no downloads)."""
    w = word.lower()
    if not w.isalpha() or len(w) < 3:
        return re.escape(w)
    if w.endswith("ies") and len(w) > 4:
        return re.escape(w[:-3]) + r"(?:y|ies|ied|ying)"
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        return _word_regex(w[:-1]) if not w.endswith("es") else re.escape(w[:-2]) + r"(?:e|es|ed|ing)?"
    if w.endswith("e"):
        return re.escape(w[:-1]) + r"(?:e|es|ed|ing|er|ers|ement|ements)?"
    if w.endswith("y") and w[-2] not in _VOWELS:
        return re.escape(w[:-1]) + r"(?:y|ies|ied|ying|ier)"
    if w.endswith(("s", "x", "z", "ch", "sh")):
        return re.escape(w) + r"(?:es|ed|ing|er|ers)?"
    double = w[-1] if (w[-1] not in _VOWELS + "wy" and w[-2] in _VOWELS and w[-3] not in _VOWELS) else ""
    return re.escape(w) + rf"(?:s|ed|ing|er|ers|ment|ments{'|' + double + 'ed|' + double + 'ing' if double else ''})?"


def phrase_regex(phrase: str) -> str:
    """Compile a keyword phrase to an inflection-tolerant, word-bounded regex source."""
    words = re.findall(r"[\w']+", phrase)
    if not words:
        raise ValueError("empty keyword")
    return r"(?<!\w)" + r"[\s\-]+".join(_word_regex(w) for w in words) + r"(?!\w)"


def _required(items: Any) -> frozenset[str] | None:
    """Literal strings of which every match must contain one (None when none can be proven).

    Walks the parsed regex: literal runs of 3+ characters in sequence, groups and mandatory
    repeats are followed; an alternation requires one of its branches' requirements. Used only
    as a cheap substring pre-check, so "None" (always run the regex) is the safe answer.
    """
    best: frozenset[str] | None = None

    def consider(cand: frozenset[str] | None) -> None:
        nonlocal best
        if cand and (best is None or min(map(len, cand)) > min(map(len, best))):
            best = cand

    run: list[str] = []
    for op, arg in [*list(items), (None, None)]:
        if op is _sre.LITERAL:
            run.append(chr(arg).lower())
            continue
        if len(run) >= 3:
            consider(frozenset(["".join(run)]))
        run = []
        if op is _sre.SUBPATTERN:
            consider(_required(arg[-1]))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and arg[0] >= 1:
            consider(_required(arg[2]))
        elif op is _sre.BRANCH:
            reqs = [_required(branch) for branch in arg[1]]
            if all(reqs):
                consider(frozenset().union(*reqs))  # type: ignore[arg-type]
    return best


def _gate(source: str) -> frozenset[str] | None:
    try:
        return _required(_parser.parse(source, re.IGNORECASE))
    except Exception:  # noqa: BLE001 - an optimisation only; never fail compilation over it
        return None


_NAMED = re.compile(r"^\(\?#([^)]*)\)")


@dataclass(frozen=True, slots=True)
class _Entry:
    label: str
    weight: float
    regex: re.Pattern[str]
    gate: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    name: str
    entries: tuple[_Entry, ...]
    exceptions: re.Pattern[str] | None


def _compile(spec: TopicSpec) -> _Compiled:
    if not spec.keywords and not spec.patterns:
        raise ValueError(f"topic {spec.name!r} has neither keywords nor patterns")
    entries = []
    for k in spec.keywords:
        src = phrase_regex(k)
        entries.append(_Entry(k, KEYWORD_WEIGHT, re.compile(src, re.IGNORECASE), _gate(src)))
    for i, p in enumerate(spec.patterns):
        named = _NAMED.match(p)
        label = named[1].strip() if named else f"pattern_{i}"
        try:
            regex = re.compile(p, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"topic {spec.name!r}: bad pattern: {exc}") from exc
        entries.append(_Entry(label, PATTERN_WEIGHT, regex, _gate(p)))
    exc_re = None
    if spec.exceptions:
        exc_re = re.compile("|".join(phrase_regex(e) for e in spec.exceptions), re.IGNORECASE)
    return _Compiled(spec.name, tuple(entries), exc_re)


class TopicMatcher:
    """Match texts against a fixed set of topic specs. Immutable and thread-safe."""

    def __init__(self, topics: Sequence[TopicSpec], *, min_score: float = 0.5) -> None:
        names = [t.name for t in topics]
        if len(set(names)) != len(names):
            raise ValueError("duplicate topic names")
        self._topics = tuple(_compile(t) for t in topics)
        self.min_score = min_score

    @property
    def names(self) -> tuple[str, ...]:
        """The topic names this matcher knows, in declaration order."""
        return tuple(t.name for t in self._topics)

    def match(self, text: str) -> list[TopicHit]:
        """Topics found in ``text`` with score >= ``min_score``, strongest first."""
        hits = []
        low = text.lower()
        for topic in self._topics:
            blocked: list[tuple[int, int]] | None = None
            miss = 1.0
            evidence = []
            for entry in topic.entries:
                if entry.gate is not None and not any(g in low for g in entry.gate):
                    continue
                for m in entry.regex.finditer(text):
                    if blocked is None:
                        exc = topic.exceptions
                        blocked = [e.span() for e in exc.finditer(text)] if exc else []
                    if not any(m.start() < end and start < m.end() for start, end in blocked):
                        miss *= 1.0 - entry.weight
                        evidence.append(entry.label)
                        break
            score = round(1.0 - miss, 3)
            if evidence and score >= self.min_score:
                hits.append(TopicHit(topic.name, score, tuple(evidence)))
        hits.sort(key=lambda h: -h.score)
        return hits


_DOSE = r"(?:\d+(?:\.\d+)? ?(?:mg|mcg|µg|ml|g|iu|units?|milligrams?|tablets?|pills?|capsules?)\b|dose|dosage)"
_MED = (
    r"(?:medication|meds|medicine|antibiotics?|ibuprofen|paracetamol|acetaminophen|tylenol|aspirin|"
    r"insulin|metformin|statins?|antidepressants?|sertraline|prozac|xanax|codeine|steroids?|"
    r"prednisone|melatonin|vitamin \w+|the pill|birth control|painkillers?)"
)

BUILTIN_TOPICS: Final[dict[str, TopicSpec]] = {
    "medical_diagnosis": TopicSpec(
        name="medical_diagnosis",
        description="Asking to be diagnosed, what illness one has, or what dose of a drug to take.",
        keywords=("diagnose me", "medical diagnosis", "self diagnose", "what illness do I have",
                  "what disease do I have", "what condition do I have"),
        patterns=(
            r"(?#diagnose_request)\bdiagnos\w* (?:me|my (?:\w+ )?(?:symptoms?|rash|pain|condition|lump|mole|cough)|what i have)\b",
            r"(?#which_illness_question)\bwhat (?:illness|disease|condition|infection|disorder|virus) (?:do|might|could|would) i (?:have|have got)\b",
            r"(?#do_i_have_condition)\bdo (?:you think )?i (?:have|have got) (?:a |an )?(?:cancer|diabetes|covid|the flu|flu|an? infection|tumou?r|"
            r"an? std|an? sti|adhd|autism|depression|dementia|an? ulcer|\w+itis|\w+oma)\b",
            r"(?#should_i_take_dose)\bshould i (?:take|double|increase|reduce|lower|stop taking|start taking|skip)\b.{0,40}?(?:" + _DOSE + "|" + _MED + ")",
            r"(?#how_much_to_take)\b(?:how (?:much|many)|what (?:dose|dosage|amount)) (?:of )?(?:\w+ ){0,3}(?:" + _DOSE + r"|should i take)\b",
            r"(?#whats_wrong_with_me)\bwhat(?:'s| is) wrong with (?:me|my (?:\w+ ){0,2}(?:body|skin|stomach|heart|head|leg|arm|back|eyes?|chest|"
            r"throat|baby|child))\b",
            r"(?#is_this_serious_condition)\b(?:is|could) (?:this|it|my \w+) (?:be )?(?:cancer|cancerous|a tumou?r|melanoma|an infection|malignant|an? std)\b",
            r"(?#symptoms_meaning)\bwhat do (?:these|my) symptoms (?:mean|indicate|suggest)\b",
        ),
        exceptions=("diagnose my car", "diagnose my laptop", "diagnose my computer", "diagnose the bug",
                    "diagnose the issue", "diagnose the error", "diagnose the network",
                    "diagnose the problem with my app", "error diagnosis", "diagnostic code"),
    ),
    "legal_advice": TopicSpec(
        name="legal_advice",
        description="Asking for legal advice: suing, rights, liability, whether something is legal.",
        keywords=("legal advice", "press charges", "file a lawsuit", "my legal rights", "custody battle",
                  "file for divorce", "file for bankruptcy"),
        patterns=(
            r"(?#can_i_sue)\b(?:can|should|could) i (?:sue|press charges|take (?:them|him|her|my \w+) to court|file (?:a )?(?:lawsuit|suit|legal claim))\b",
            r"(?#is_it_legal)\bis (?:it|this|that) (?:legal|illegal|against the law|lawful|unlawful) (?:to|for|if)\b",
            r"(?#do_i_have_a_case)\b(?:do|would) i have a (?:case|claim|legal case|strong case)\b",
            r"(?#am_i_liable)\bam i (?:liable|legally (?:required|obliged|obligated|responsible|allowed))\b",
            r"(?#what_are_my_rights)\bwhat are my (?:legal )?rights\b",
            r"(?#need_a_lawyer)\b(?:should i|do i need to) (?:hire|get|talk to|call) a (?:lawyer|solicitor|attorney)\b",
            r"(?#break_contract)\bhow (?:do|can) i (?:get out of|break|terminate) (?:my|a|the) (?:lease|contract|tenancy)\b",
            r"(?#can_they_legally)\bcan (?:my|the) (?:landlord|employer|boss|company) (?:legally )?(?:evict|fire|sue|withhold)\b",
        ),
        exceptions=("legal tender", "legal pad", "legal size", "legal paper"),
    ),
    "financial_advice": TopicSpec(
        name="financial_advice",
        description="Asking for investment advice: which stocks or coins to buy, where to invest.",
        keywords=("investment advice", "financial advice", "stock tips", "stock picks",
                  "portfolio allocation"),
        patterns=(
            r"(?#which_to_buy)\b(?:which|what) (?:stocks?|shares|crypto(?:currenc(?:y|ies))?|coins?|etfs?|funds?|index funds?|tokens?) (?:should|"
            r"would|do you (?:recommend|suggest)|to|are best to) (?:i )?(?:buy|invest|pick|sell|hold|get)",
            r"(?#should_i_buy_asset)\bshould i (?:buy|sell|invest in|short|hold|dump) (?:\w+ ){0,3}(?:stocks?|shares|bitcoin|btc|ethereum|eth|"
            r"crypto\w*|etfs?|bonds|options|gold|index funds?|\$[a-z]{1,5})\b",
            r"(?#where_to_invest)\bwhere should i (?:invest|put) (?:my )?(?:money|savings|pension|401k|isa|cash)\b",
            r"(?#market_timing)\bis (?:now )?(?:it )?(?:a )?good time to (?:buy|sell|invest)\b",
            r"(?#price_prediction)\b(?:will|is) (?:\w+ )?(?:stock|share price|bitcoin|crypto|the market) (?:going to )?(?:go up|go down|rise|fall|"
            r"crash|moon|recover)\b",
            r"(?#how_to_invest)\bhow should i (?:invest|allocate)\b",
            r"(?#best_to_buy)\bbest (?:stocks?|crypto\w*|investments?|etfs?|shares) to (?:buy|invest in|hold)\b",
        ),
        exceptions=("in stock", "out of stock", "stock level", "stock photo", "back in stock"),
    ),
}


def builtin_topic(name: str) -> TopicSpec:
    """A built-in topic spec by name (KeyError lists the known names)."""
    try:
        return BUILTIN_TOPICS[name]
    except KeyError:
        raise KeyError(f"unknown built-in topic {name!r}; known: {sorted(BUILTIN_TOPICS)}") from None


def resolve_topics(items: Iterable[str | TopicSpec]) -> tuple[TopicSpec, ...]:
    """Turn a mix of built-in names and specs into specs (what a policy file would declare)."""
    return tuple(builtin_topic(i) if isinstance(i, str) else i for i in items)
