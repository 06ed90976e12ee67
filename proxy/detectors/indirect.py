"""Indirect prompt injection: instructions hidden in text that came from outside the conversation.

Untrusted text is a tool result, a content part the client marks as a document, or a block the
person pasted into their own message ("summarise this e-mail: ..."). :func:`pasted_blocks` finds
the pasted blocks; :class:`IndirectInjectionDetector` reads untrusted text **sentence by
sentence** (pairs of neighbouring sentences too, so a split instruction is still seen), scoring
each with the jailbreak detector's technique and indirect features
(:mod:`proxy.detectors.jailbreak_features`) plus :data:`DOCUMENT_FEATURES` below: orders to
whoever summarises, translates or answers about the text, fake conversation turns, and orders to
pass something on to "the user". A document is as suspicious as its worst sentence. No n-gram
model: the jailbreak model was trained on role prompts and reads ordinary prose as suspicious.

Ordinary imperatives to a human reader ("please reply by Friday", "ignore my previous e-mail, wrong
attachment", "click the button below to confirm") score low: they address no assistant and ask
nothing of a summary. Reasons are feature names only.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from proxy.detectors.jailbreak import heuristic_logit, normalise
from proxy.detectors.jailbreak_features import Feature

__all__ = ["DOCUMENT_FEATURES", "IndirectInjectionDetector", "IndirectVerdict", "pasted_blocks", "pasted_spans", "sentences", "untrusted_text"]


def _f(name: str, triggers: str, weight: float, *alternatives: str) -> Feature:
    return Feature(name, weight, re.compile("|".join(f"(?:{a})" for a in alternatives)), frozenset(triggers.split()))


_AI = r"ai|a\.i\.|assistant|chatbot|chat bot|language model|llm|model|gpt|chatgpt|agent|bot|copilot|claude|gemini|summari[sz]er|system"
_TASK = (
    r"summari[sz]e|summari[sz]ing|summary|translate|translating|translation|answer|answering|respond|responding|reply|replying|"
    r"evaluate|evaluating|review|reviewing|rank|ranking|screen|screening|explain|explaining|analy[sz]e|analy[sz]ing|process|processing|read|reading"
)

DOCUMENT_FEATURES: Final[tuple[Feature, ...]] = (
    _f("orders_the_reader_model",
       "ai assistant chatbot bot model llm gpt chatgpt agent copilot claude gemini summarizer summariser system",
       2.8,
       rf"\b(?:the |any |an? |dear |hey |hi |attention,? |note to (?:the |any )?)(?:{_AI})s?(?: (?:reading|processing|summari[sz]ing|reviewing) (?:this|the))?\b[^.!?\n]{{0,60}}"
       rf"\b(?:must|should|shall|needs? to|is (?:instructed|required|to)|has to|will now|please|always|never|do not|don't|instead)\b",
       rf"^(?:{_AI})s?(?: (?:{_AI})s?)?\s?[,:] ?\w",
       rf"\binstructions? (?:for|to) (?:the |any |all )?(?:{_AI})s?\b",
       rf"\b(?:to|for|dear|hey|attention) (?:the |any |all |every )?(?:{_AI})s?(?: [\w-]+){{0,3}}\s?[:,] ?\w",
       rf"^(?:todo|note|fixme)?\(?(?:{_AI})\)?\s?(?:instructions?|note|directive|notice)?s?\s?:"),
    _f("orders_about_the_output",
       "summary response reply answer output translation summarising summarizing summarise summarize translating translate responding answering replying",
       2.6,
       r"\b(?:forget|ignore|skip|drop|abandon) (?:the|your|this) (?:summary|translation|task|review|analysis|evaluation)\b",
       rf"\bwhen (?:you (?:are )?)?(?:asked (?:to|about|for) (?:a )?)?(?:{_TASK})\b[^.!?\n]{{0,40}}"
       r"\b(?:always|never|must|should|also|instead|only|do not|don't|say|tell|include|add|write|mention|start|end|recommend|describe|state)\b",
       r"\b(?:in|at the (?:start|end|beginning) of|to) (?:your|the) (?:response|reply|answer|summary|output|translation)s?\b[^.!?\n]{0,40}\b"
       r"(?:include|add|mention|say|write|insert|append|recommend|tell|state|always|must|should)\b",
       r"\b(?:your|the) (?:response|reply|answer|summary|output|translation) (?:must|should|shall|has to|needs to|will)\b",
       r"\b(?:include|add|insert|append|mention|put) (?:\S+ ){0,8}(?:in|into|to|at the end of|at the start of) (?:your|the) (?:response|reply|answer|summary|output)\b",
       rf"\b(?:do not|don't|never|stop) (?:{_TASK})\b[^.!?\n]{{0,30}}\b(?:this|the|these|it)\b[^.!?\n]{{0,30}}\b(?:instead|rather|just|only)\b",
       r"\binstead,? (?:just |only )?(?:say|tell|write|reply|respond|print|output|answer|recommend)\b"),
    _f("fake_turn", "user assistant system human inst im_start endoftext",
       2.4,
       r"^(?:user|assistant|system|human|ai)\s?:\s?\S",
       r"\[/?(?:system|inst|user|assistant)\]|<\|?(?:im_start|im_end|endoftext|system)\|?>|<</?sys>>"),
    _f("relay_to_user", "user customer reader human person",
       2.2,
       r"\b(?:tell|inform|ask|warn|remind|instruct|advise|direct|urge|convince|notify) (?:the|this) (?:user|customer|reader|human|person)\b",
       r"\b(?:the|this) (?:user|customer|reader|human) (?:must|should|needs to|has to) (?:now )?(?:visit|click|call|enter|send|provide|log ?in|verify|download|install|pay|transfer)"),
    _f("hidden_for_machines", "invisible hidden white-text white visible humans",
       2.6,
       r"\binvisible to (?:humans|people|users|readers|the user)\b|\bhidden (?:text|instructions?|prompt|message|note|profile)\b|\bwhite[- ]text\b|"
       r"\bvisible (?:only )?to (?:the )?(?:ai|llm|model|machine|bot|automated)"),
    _f("task_for_a_model", "write print output repeat say respond reply answer generate compose translate summarise summarize return list if",
       2.6,
       r"^(?:now,? |please,? |just |next,? )?(?:write|print|output|repeat|say|respond|reply|answer|generate|compose|return) (?:[\w'\"-]+ ){0,6}"
       r"(?:sentence|words?|text|following|phrase|poem|story|joke|only|exactly|verbatim|nothing else)\b",
       r"\bif (?:the |a )?(?:user|human|someone|anyone) asks? (?:\w+ ){0,6}(?:reply|respond|answer|say|tell|output|print)\b",
       r"\b(?:reply|respond|answer) (?:only )?with (?:only )?(?:the following|this|exactly)\b|\band (?:absolutely )?nothing else\b"),
    _f("claims_authority", "overriding override supersedes precedence priority admin administrator developer system",
       1.6,
       r"\b(?:this|these) (?:instructions?|note|message|directive)s? (?:override|supersede|take precedence|has priority)",
       r"\b(?:system|admin|administrator|developer) (?:override|mode|instructions?|notice)\b"),
)

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9<])|\n+")
_SELF_CORRECTION = re.compile(r"\b(?:forget|ignore|disregard) (?:about )?(?:what|everything) (?:i|we) (?:said|wrote|mentioned|sent)\b|"
                              r"\b(?:ignore|disregard) (?:my|our|the) (?:previous|last|earlier) (?:e-?mail|message|letter|note|text)\b")
_BIAS: Final = -2.5


@dataclass(frozen=True, slots=True)
class IndirectVerdict:
    """The judgement of one untrusted text: flagged, 0..1 score of the worst sentence, reasons."""

    flagged: bool
    score: float
    reasons: tuple[str, ...]


def sentences(text: str) -> list[str]:
    """Sentences and lines of ``text`` (kept short: at most 600 characters each)."""
    out = []
    for part in _SENTENCE.split(text):
        part = part.strip()
        while part:
            out.append(part[:600])
            part = part[600:]
    return out


_COMMENT = re.compile(r"^\s*(?:#+|//+|/\*+|\*+/?|<!--|--)\s*|\s*(?:\*/|-->)\s*$", re.M)


def untrusted_text(text: str) -> str:
    """What to read of untrusted text: the string values of JSON (one per line), code comments
    without their markers."""
    stripped = text.strip()
    if stripped[:1] in "{[":
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if data is not None:
            leaves: list[str] = []
            _strings(data, leaves)
            return "\n".join(leaves)
    return _COMMENT.sub("", text)


def _strings(node: object, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for v in node.values():
            _strings(v, out)
    elif isinstance(node, list):
        for v in node:
            _strings(v, out)


def _score(sentence: str) -> tuple[float, list[str]]:
    total, names = heuristic_logit(sentence, source="document")
    if "override_instructions" in names and _SELF_CORRECTION.search(normalise(sentence)):
        names.remove("override_instructions")  # "ignore my previous e-mail": a person correcting themselves
        total -= 3.2 * 1.35
    norm = normalise(sentence)
    words = set(re.findall(r"[a-z_-]+", norm))
    for feat in DOCUMENT_FEATURES:
        if not feat.triggers.isdisjoint(words) and feat.pattern.search(norm):
            total += feat.weight
            names.append(feat.name)
    return total, names


class IndirectInjectionDetector:
    """Score untrusted text for injected instructions. Immutable and thread-safe."""

    def __init__(self, threshold: float = 0.5) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.threshold = threshold

    def check(self, text: str) -> IndirectVerdict:
        """The worst sentence (or pair of neighbouring sentences) decides."""
        parts = sentences(untrusted_text(text))
        best, reasons = -math.inf, ()  # type: tuple[float, tuple[str, ...]]
        windows = parts + [f"{a} {b}" for a, b in pairwise(parts)]
        for window in windows:
            total, names = _score(window)
            if total > best:
                best, reasons = total, tuple(names)
        if best == -math.inf:
            return IndirectVerdict(False, 0.0, ())
        score = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, best + _BIAS))))
        return IndirectVerdict(score >= self.threshold, round(score, 4), reasons)


# --- pasted blocks ---------------------------------------------------------------------------------

_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)|\"\"\"(.*?)(?:\"\"\"|\Z)|'''(.*?)(?:'''|\Z)", re.S)
_QUOTED = re.compile(r"(?:^[ \t]*>.*(?:\n|$))+", re.M)
_RULE = re.compile(r"^[ \t]*(?:-{3,}|={3,}|_{3,}|\*{3,})[ \t]*$", re.M)
_HEADER = re.compile(r"^(?:from|to|subject|date|cc|sent|re|fwd?)\s?:", re.I | re.M)
_INTRO = re.compile(r"^([^\n]{0,200}?):[ \t]*\n", re.S)
#: where a block wrapped in a tag opens and closes, as prompt guides teach: ``<email> ... </email>``,
#: ``[BEGIN TEXT] ... [END TEXT]`` (group 1 or 2: an opening's name; group 3 or 4: a closing's)
_TAG_EDGE = re.compile(
    r"<([A-Za-z][\w.-]{0,39})(?:\s[^<>\n]{0,200})?>|\[(?:BEGIN|START)(?:[ _-]OF)?[ _-]?([A-Z][A-Z ]{0,30})\]"
    r"|</([A-Za-z][\w.-]{0,39})\s*>|\[END(?:[ _-]OF)?[ _-]?([A-Z][A-Z ]{0,30})\]",
    re.I,
)


def _tagged_spans(text: str) -> list[tuple[int, int]]:
    """The insides of tag pairs, each opening matched with the first closing of its name after it,
    openings inside a taken block skipped. One pass over the tags and a bisection per opening: an
    HTML page full of unclosed tags costs what its length does (a backtracking pattern searched to
    the end once per unclosed tag)."""
    openings: list[tuple[str, int, int]] = []
    closings: dict[str, list[tuple[int, int]]] = {}
    for m in _TAG_EDGE.finditer(text):
        name = m.group(1) or m.group(2)
        if name is not None:
            openings.append((name.lower(), m.start(), m.end()))
        else:
            closings.setdefault((m.group(3) or m.group(4)).lower(), []).append((m.start(), m.end()))
    spans: list[tuple[int, int]] = []
    taken = 0
    for name, start, end in openings:
        ends = closings.get(name)
        if start < taken or not ends:
            continue
        i = bisect.bisect_left(ends, (end, end))
        if i < len(ends):
            spans.append((end, ends[i][0]))
            taken = ends[i][1]
    return spans


#: a blank line, then a short last paragraph: a request about the text above it ("Summarise the above.")
_LAST_PARAGRAPH = re.compile(r"\n[ \t]*\n(?=[^\n]*\S[^\n]*\Z)")
#: what a pasted text is called ("this e-mail", "the article above")
_DOC_NOUNS = (r"(?:e-?mails?|messages?|articles?|reviews?|texts?|pages?|passages?|documents?|letters?|posts?|comments?|code|snippets?|"
              r"transcripts?|reports?|paragraphs?|notes?|chats?|threads?|tweets?|descriptions?)")
#: a same-line lead-in names what follows: "Translate this review into Spanish: ..."
_INLINE_INTRO = re.compile(
    rf"^([^\n:]{{0,160}}?\b(?:this|these|the following|below|attached)\b[^\n:]{{0,40}}?\b{_DOC_NOUNS}\b[^\n:]{{0,40}}):[ \t]+(?=\S)",
    re.I,
)
#: a last paragraph that asks about the text before it ("Summarise the above.", "What does this e-mail want?")
_ABOUT_THE_TEXT = re.compile(
    rf"\b(?:above|preceding|summari[sz]e|translate|rephrase|paraphrase|proofread|tl;?dr)\b|\b(?:this|that|these|the)\s+{_DOC_NOUNS}\b",
    re.I,
)


def pasted_spans(text: str, *, min_words: int = 12) -> list[tuple[int, int]]:
    """(start, end) of the parts of a user message that look pasted rather than written to the
    assistant, merged where they overlap: fenced or triple-quoted blocks, blocks in a tag
    (``<email>...</email>``, ``[BEGIN TEXT]...[END TEXT]``), ``>`` quotes, text between ``---``
    rules, e-mail headers and what follows them, and a long body after a short lead-in ending
    with a colon ("Summarise this:") or a first short paragraph, or before a short last paragraph
    that asks about it ("...\n\nSummarise the above."). Parts shorter than ``min_words`` words are ignored."""
    spans: list[tuple[int, int]] = []
    for m in _FENCE.finditer(text):
        g = next(i for i in (1, 2, 3) if m.group(i) is not None)
        spans.append((m.start(g), m.end(g)))
    if "<" in text or "[" in text:
        spans += _tagged_spans(text)
    spans += [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    rules = list(_RULE.finditer(text))
    spans += [(a.end(), b.start()) for a, b in pairwise(rules)]
    header = _HEADER.search(text)
    if header:
        spans.append((header.start(), len(text)))
    # parts too short to count do not stand in the way of the shapes below (an HTML link in a
    # document is no pasted block of its own, but it must not hide the lead-in before it)
    spans = [(a, b) for a, b in spans if len(text[a:b].split()) >= min_words]
    intro = _INTRO.match(text) or _INLINE_INTRO.match(text)
    if intro and len(text) - intro.end() > 2 * intro.end():
        start = len(text) - len(text[intro.end():].lstrip())
        spans.append((start, len(text)))  # a lead-in ending with a colon: everything after it, rules and quotes included
    elif not spans:
        first = text.find("\n\n")
        last = _LAST_PARAGRAPH.search(text.rstrip())
        if first > 0 and len(text[:first].split()) <= 25 and len(text[first:].split()) >= 2 * len(text[:first].split()):
            spans.append((first + 2, len(text)))
        elif (last is not None and len(text[last.end():].split()) <= 25 and _ABOUT_THE_TEXT.search(text, last.end())
              and len(text[:last.start()].split()) >= 2 * len(text[last.end():].split())):
            spans.append((0, last.start()))  # the text first, the request about it last
    spans = [(a, b) for a, b in sorted(spans) if len(text[a:b].split()) >= min_words]
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def pasted_blocks(text: str, *, min_words: int = 12, spans: list[tuple[int, int]] | None = None) -> list[str]:
    """The text of :func:`pasted_spans` (``>`` quote marks removed); ``spans``: what
    ``pasted_spans(text, min_words=min_words)`` returned already, so it is not worked out twice."""
    found = spans if spans is not None else pasted_spans(text, min_words=min_words)
    return [_QUOTE_MARK.sub("", text[a:b]).strip() for a, b in found]


_QUOTE_MARK = re.compile(r"^[ \t]*> ?", re.M)
