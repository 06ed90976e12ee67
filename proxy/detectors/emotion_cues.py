"""The hand-written half of emotion reading: tokens, negation scope, cue lexicons and emphasis.

:func:`text_signals` makes one pass over a turn and returns :class:`TextSignals`: which cue words
fired (negation-aware), which phrase cues fired, ALL-CAPS words, "!"/"?" runs, persistence words
and crisis language. :mod:`proxy.detectors.emotion` turns the ``cues`` into hashed model features
(so training and run time share them) and adds the hand-set offsets of :data:`CUE_PRIORS` for each
category in ``phrases``. :data:`CUE_PHRASES` are both features and priors; :data:`PRIOR_PHRASES` are
priors only and never features, so they can change without retraining the model. Reads only its
argument; writes nothing; no state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]+|[^\w\s]")
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
_SCOPE_END = frozenset(".,;:!?") | {"but", "however", "although", "though"}
_NEGATORS = frozenset({
    "not", "no", "never", "nor", "none", "nothing", "nobody", "neither", "cannot", "without",
    "hardly", "barely", "dont", "doesnt", "didnt", "isnt", "wasnt", "cant", "wont", "aint",
})
_NEG_SCOPE = 3
_CAPS_EXEMPT = frozenset({"OK", "TV", "US", "UK", "USA", "ID", "PC", "AM", "PM", "FAQ", "API", "URL"})

#: Single-word cue lexicons, negation-aware ("not worried" fires ``cue:anxiety:neg``).
CUE_WORDS: Mapping[str, frozenset[str]] = MappingProxyType({
    "frustration": frozenset({
        "ridiculous", "unacceptable", "useless", "pathetic", "annoying", "annoyed", "frustrating",
        "frustrated", "frustration", "tired", "fed", "sick", "hopeless", "incompetent", "joke",
        "nonsense", "waste", "wasted", "seriously", "ugh", "argh", "smh", "broken", "again",
        "still", "ignored", "ignoring", "disappointing", "disappointed", "terrible", "awful",
        "horrible", "worst",
    }),
    "anger": frozenset({
        "furious", "outraged", "livid", "angry", "pissed", "hate", "disgusting", "disgusted",
        "scam", "scammed", "fraud", "liars", "lying", "stupid", "idiot", "idiots", "damn",
        "fuck", "fucking", "wtf", "shit", "rage", "infuriating", "insulting",
    }),
    "confusion": frozenset({
        "confused", "confusing", "confusion", "unclear", "huh", "puzzled", "lost", "baffled",
        "understand", "mean", "means", "explain", "clarify",
    }),
    "anxiety": frozenset({
        "worried", "worry", "worrying", "anxious", "anxiety", "nervous", "scared", "afraid",
        "panic", "panicking", "concerned", "stressed", "stressful", "terrified", "urgent",
        "asap", "emergency", "fear", "frightened", "uneasy",
    }),
    "sadness": frozenset({
        "sad", "depressed", "heartbroken", "lonely", "miserable", "devastated", "crying",
        "cry", "grief", "grieving", "unhappy", "sorry", "upset", "hurt", "lost",
    }),
    "joy": frozenset({
        "great", "awesome", "love", "perfect", "happy", "glad", "excellent", "amazing",
        "wonderful", "fantastic", "brilliant", "excited", "yay", "nice", "good", "lol",
    }),
    "gratitude": frozenset({
        "thanks", "thank", "thx", "ty", "appreciate", "appreciated", "grateful", "cheers",
    }),
})

#: Phrase cues (regular expressions over lower-cased text); the negation is in the phrase itself.
CUE_PHRASES: Mapping[str, tuple[re.Pattern[str], ...]] = MappingProxyType({
    "frustration": tuple(re.compile(p) for p in (
        r"\bstill (?:not|no|nothing|doesn't|don't|isn't|hasn't|haven't|can't|won't|didn't|"
        r"broken|waiting|the same)\b",
        r"\b(?:not|doesn't|don't|didn't|won't|isn't) work(?:ing|s|ed)?\b",
        r"\b(?:third|fourth|fifth|3rd|4th|5th|multiple|several|many|countless|\d+) times?\b",
        r"\bhow many (?:more )?times\b",
        r"\b(?:waiting|waited|wait) (?:for )?(?:over |more than )?(?:\d+|a|an|one|two|three|four|"
        r"five|several|many) (?:minutes|hours|days|weeks|months)\b",
        r"\b(?:weeks|days|months) (?:and|now|later)\b.*\b(?:still|no|nothing)\b",
        r"\b(?:no|nobody|no one) (?:one )?(?:has |have )?(?:helped|responded|replied|answered|"
        r"gotten back)\b",
        r"\b(?:never|haven't|hasn't|didn't) (?:got|gotten|received|heard)\b",
        r"\bkeeps? (?:getting|happening|crashing|failing|breaking|asking|saying)\b",
        r"\b(?:fed up|sick of|tired of|had enough|give up|waste of (?:time|money))\b",
        r"\b(?:yet|once) again\b",
        r"\b(?:broke|broken|crash(?:ed|es|ing)?|fail(?:ed|s|ing)?|stopped working|down)\b.*\bagain\b",
        r"\b(?:want|demand|give me|where is) (?:my|a) (?:money back|refund)\b",
        r"\b(?:is|are|was) (?:a|an absolute|a complete|a total) (?:joke|disgrace|nightmare|mess)\b",
    )),
    "confusion": tuple(re.compile(p) for p in (
        r"\b(?:don't|do not|doesn't|didn't|can't|cannot) (?:understand|get (?:it|what|how|why)|"
        r"figure out|tell|find|see (?:where|how))\b",
        r"\b(?:don't|do not|not sure|no idea) (?:know )?(?:how|what|where|which|why|whether|if)\b",
        r"\bwhat (?:do|does) (?:you|this|that|it) mean\b",
        r"\b(?:which|what) (?:button|one|option|link|page|setting|menu|field)\b",
        r"\b(?:makes?|making) no sense\b",
        r"\b(?:i'm|i am|im) (?:lost|confused|stuck)\b",
        r"\bwhere (?:do|can|should) i\b",
        r"\?\s*\?",
    )),
    "anxiety": tuple(re.compile(p) for p in (
        r"\bwhat if\b",
        r"\b(?:charged|billed|paid|debited|taken) (?:me )?twice\b",
        r"\b(?:afraid|scared|worried) (?:that|of|about)\b",
        r"\b(?:freaking|stressing) out\b",
        r"\b(?:lose|lost|losing) (?:all )?(?:my|our) (?:data|money|files|account|job|work)\b",
    )),
})

_FAILURE = (r"(?:broke|broken|crash(?:ed|es|ing)?|fail(?:ed|s|ing)?|froze|frozen|stopped working|"
            r"(?:not|doesn't|don't|didn't|isn't|won't) work(?:ing|s)?|lost (?:all )?(?:my|our)|"
            r"nothing (?:works|is working|happens)|deleted (?:all )?(?:my|our)|never (?:arrived|came|showed up)|"
            r"charged (?:me )?twice)")

#: Phrase cues that only move the Bedside head (a prior, never a model feature): support-chat
#: language Reddit hardly has. ``sarcasm`` is praise opening a turn or sentence that then names a
#: failure ("Great, another update that broke everything"), or thanks after one ("... Thanks a
#: lot."), unless the turn also says it is fixed.
PRIOR_PHRASES: Mapping[str, tuple[re.Pattern[str], ...]] = MappingProxyType({
    "frustration": tuple(re.compile(p) for p in (
        r"\b(?:second|2nd) time\b",
        r"\bhow hard (?:can|could|is) (?:it|this|that)\b",
        r"\bwhy (?:is|does|must) (?:this|it|everything) (?:so|this|always) (?:hard|complicated|difficult|slow|"
        r"expensive)\b",
        r"\bjust (?:answer|fix it|tell me|give me|do (?:it|your job))\b",
        r"\b(?:ridiculous|unacceptable|useless|pathetic|absurd)\b",
        r"\bthanks for nothing\b",
    )),
    "sarcasm": (
        re.compile(r"(?:^|[.!?]\s+)\W*(?:oh,? )?(?:just )?(?:great|perfect|wonderful|fantastic|brilliant|awesome|"
                   rf"lovely|nice one)\b.*\b{_FAILURE}"),
        re.compile(rf"\b{_FAILURE}\b.*\b(?:thanks a lot|thanks for nothing|great job|well done|good job|nice job)\b"),
    ),
})
_FIXED = re.compile(r"\b(?:fixed|solved|resolved|sorted|restored|behind us|back (?:up|online|to normal)|"
                    r"works? (?:now|again|perfectly|fine)|working (?:now|again))\b")

#: Hand-set logit offsets on the Bedside head per fired phrase cue (not learned; see the docs).
CUE_PRIORS: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "frustration": MappingProxyType({"frustration": 1.2, "neutral": -0.6, "joy": -0.6}),
    "confusion": MappingProxyType({"confusion": 1.2, "neutral": -0.4}),
    "anxiety": MappingProxyType({"anxiety": 1.0, "neutral": -0.4}),
    "sarcasm": MappingProxyType({"frustration": 4.0, "joy": -4.0, "gratitude": -5.0, "neutral": -1.0}),
})

_CRISIS = re.compile(
    r"\b(?:kill(?:ing)? myself|end(?:ing)? (?:it all|my life)|suicid\w*|want(?:ed)? to die|"
    r"wish i (?:was|were) dead|better off dead|self[- ]?harm\w*|hurt(?:ing)? myself|"
    r"cut(?:ting)? myself|no reason to live|don't want to (?:live|be alive|exist)|"
    r"can't go on|take my (?:own )?life|overdose)\b"
)
_PERSISTENCE = re.compile(r"\b(?:still|again|anymore|yet again|every time|always|keeps?)\b")


@dataclass(frozen=True, slots=True)
class TextSignals:
    """What one pass over a text finds besides the hashed n-grams."""

    cues: tuple[str, ...]  # names like "cue:frustration", "phrase:confusion", "emph:caps"
    phrases: frozenset[str]  # phrase-cue categories that fired (CUE_PHRASES and PRIOR_PHRASES)
    caps_words: int
    exclaims: int
    questions: int
    persistence: int
    crisis: bool


def _tokens(lower: str) -> list[str]:
    return _TOKEN.findall(lower)


def _negation_flags(tokens: Sequence[str]) -> list[bool]:
    flags = [False] * len(tokens)
    left = 0
    for i, tok in enumerate(tokens):
        if tok in _SCOPE_END or tok[0] in "!?":
            left = 0
            continue
        if left > 0:
            flags[i] = True
            left -= 1
        bare = tok.replace("'", "")
        if bare in _NEGATORS or tok.endswith("n't"):
            left = _NEG_SCOPE
    return flags


def text_signals(text: str, compound: float) -> TextSignals:
    """Cue, emphasis and crisis signals of ``text`` (``compound`` is its VADER compound score)."""
    norm = text.translate(_APOSTROPHES)
    lower = norm.lower()
    tokens = _tokens(lower)
    negated = _negation_flags(tokens)
    cues: list[str] = []
    for tok, neg in zip(tokens, negated, strict=True):
        for cat, words in CUE_WORDS.items():
            if tok in words:
                cues.append(f"cue:{cat}:neg" if neg else f"cue:{cat}")
    phrases = {cat for cat, pats in CUE_PHRASES.items() if any(p.search(lower) for p in pats)}
    cues.extend(f"phrase:{cat}" for cat in sorted(phrases))  # features: only the trained lexicon
    priors = {cat for cat, pats in PRIOR_PHRASES.items() if any(p.search(lower) for p in pats)}
    if "sarcasm" in priors and _FIXED.search(lower):
        priors.discard("sarcasm")
    caps = sum(1 for w in _CAPS_WORD.findall(norm) if w not in _CAPS_EXEMPT)
    exclaims = norm.count("!")
    questions = norm.count("?")
    persistence = len(_PERSISTENCE.findall(lower))
    if caps and caps * 3 >= max(1, sum(1 for t in tokens if t[0].isalpha())):
        cues.append("emph:shouting")
    cues.extend(("emph:caps",) * min(caps, 3))
    if exclaims >= 2:
        cues.append("emph:exclaims")
    if questions >= 2:
        cues.append("emph:questions")
    if "!" in norm and "?" in norm:
        cues.append("emph:interrobang")
    if _ELONGATED.search(lower):
        cues.append("emph:elongated")
    cues.extend(("emph:persistence",) * min(persistence, 2))
    bins = (-0.6, -0.25, -0.05, 0.05, 0.25, 0.6)
    cues.append(f"vader:{sum(1 for b in bins if compound > b)}")
    crisis = bool(_CRISIS.search(lower))
    return TextSignals(tuple(cues), frozenset(phrases | priors), caps, exclaims, questions,
                       persistence, crisis)
