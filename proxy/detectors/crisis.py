"""Crisis and distress detection: self-harm, abuse at home, medical emergencies.

Hand-written, explainable patterns (no model, no downloads). Each pattern has a *kind*, a reason
name and a weight in 0..1; the verdict reports the strongest kind and the reasons that fired
(names only, never the text). The idea is to catch first-person, present-tense statements of
danger and to leave the idioms alone: "this bug is killing me", "I could kill for a coffee",
"my battery died", "the heart of the matter", "kill the process", "my brother beat me at chess".

Negation policy (decided here, tested in ``tests/detectors/test_crisis.py``):

* A pattern marked *negatable* ("suicidal", "kill myself", "self-harm", "chest pain"...) that is
  governed by a negation within the three words before it ("I'm **not** suicidal", "I would
  **never** hurt myself", "**no** chest pain") keeps its kind but its weight is multiplied by
  :data:`NEGATED_FACTOR` (0.4) and the reason ``negated`` is added. At the default threshold such a
  message is **not flagged**, but ``kind`` and ``score`` stay set so the tone stage can still answer
  with care: a person who brings up suicide unprompted deserves a gentle check-in, not an alarm.
* Intensifiers are not negations: "I **can't stop** thinking about killing myself" is flagged.
* Expressions whose negation *is* the danger ("I don't want to live", "I can't go on", "no reason to
  live") are written as their own patterns and are never discounted.
* Talk about someone else in danger ("my friend wants to kill herself") is flagged too, with the
  reason ``third_party``: the user may need resources to help them.
* A bare topic noun ("suicide", "self-harm", "domestic violence", "overdose") in a sentence that
  is *about* the topic ("what are the warning signs of suicide?", "how do I talk to my students
  about self-harm?") is discounted like a negation, with the reason ``about_the_topic``, unless the
  message shows method, plan, urgency, the writer's own state or someone's present state
  (:mod:`proxy.detectors.crisis_context`). Such a question gets an answer given with care (the
  tone stage's distress rule), not the hand-off text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from proxy.detectors.crisis_context import ABOUT_FACTOR, about_the_topic, is_topic_noun

__all__ = ["NEGATED_FACTOR", "CrisisDetector", "CrisisKind", "CrisisVerdict"]

CrisisKind = Literal["self_harm", "abuse", "medical_emergency"]
NEGATED_FACTOR: Final = 0.4


@dataclass(frozen=True, slots=True)
class CrisisVerdict:
    """Whether the text signals a crisis, which kind, how strongly, and which patterns fired."""

    flagged: bool
    kind: str | None  # "self_harm" | "abuse" | "medical_emergency"
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Pattern:
    kind: CrisisKind
    reason: str
    weight: float
    negatable: bool
    triggers: str  # space-separated words of which one must occur for the regex to run
    regex: str


_PARTNER = (
    r"(?:husband|wife|partner|boyfriend|girlfriend|bf|gf|fianc[eé]e?|spouse|ex|dad|father|"
    r"stepdad|stepfather|mum|mom|mother|stepmom|stepmother|parents?|uncle|brother|sister|son|"
    r"daughter|carer|caregiver|landlord|roommate|flatmate)"
)
_VIOLENT = (
    r"(?:hits?|hitting|beats?|beating|beat up|punch(?:es|ed|ing)?|kick(?:s|ed|ing)?|chok(?:es|ed|ing)|"
    r"strangl(?:es|ed|ing)|slap(?:s|ped|ping)?|shov(?:es|ed|ing)|push(?:es|ed) me|burn(?:s|ed)|"
    r"rap(?:es|ed|ing)|abus(?:es|ed|ing)|hurts?|hurting|threaten(?:s|ed|ing)?|attack(?:s|ed))"
)
_NOT_GAME = (
    r"(?! up\b)(?! (?:at|in|on) (?:\w+ )?(?:chess|cards|games?|tennis|golf|football|poker|the game|mario|fifa|"
    r"scrabble|monopoly|it|this|that|sports?|race|quiz|trivia))"
)
_DRUGS = (
    r"(?:pills|tablets|meds|medication|medicine|painkillers|sleeping pills|paracetamol|"
    r"acetaminophen|tylenol|ibuprofen|aspirin|insulin|opioids?|oxy\w*|fentanyl|heroin|xanax|"
    r"benzos?|antidepressants|my prescription)"
)

_DRUG_WORDS = (
    "pills tablets meds medication medicine painkillers paracetamol acetaminophen tylenol ibuprofen "
    "aspirin insulin opioid opioids fentanyl heroin xanax benzo benzos antidepressants prescription "
    "oxy oxycodone oxycontin"
)

_PATTERNS: Final[tuple[_Pattern, ...]] = (
    # --- self-harm / suicide -----------------------------------------------------------------
    _Pattern("self_harm", "suicide_mention", 0.8, True,
             "suicide suicidal",
             r"\bsuicid(?:e|al)\b(?! (?:squad|doors?|bomb\w*|king|note app|mission|run|pact movie))"),
    _Pattern("self_harm", "kill_self", 0.9, True,
             "myself self life unalive",
             r"\b(?:kill(?:ing)?|end(?:ing)?|tak(?:e|ing)) (?:my ?self|my (?:own )?life)\b"
             r"|\bunalive (?:my ?self)\b|\bhang(?:ing)? my ?self\b"),
    _Pattern("self_harm", "self_injury", 0.8, True,
             "self selfharm myself",
             r"\bself[- ]?harm(?:ing)?\b|\b(?:cut|cutting|burn|burning|hurt|hurting|harm|harming|"
             r"starv(?:e|ing)) my ?self\b(?! (?:on|with|while|when|by accident|accidentally|shaving|cooking))"),
    _Pattern("self_harm", "wish_dead", 0.85, False,
             "die dead born wake live alive exist living disappear end without",
             r"\b(?:want|wanna|wanted|going|ready|wish(?:ed)?|like) (?:to )?(?:die|be dead)\b(?! (?:of|from) (?:embarrass|laugh|shame|cringe))"
             r"|\bwish (?:i|i'd) (?:was|were|had) (?:dead|never been born|not born)|\bwish i (?:could )?(?:never|not) wake up"
             r"|\bbetter off (?:dead|without me)\b|\bno (?:reason|point) (?:to|in) (?:live|living|being alive|going on)\b"
             r"|\b(?:don't|dont|do not) want to (?:live|be alive|exist|wake up|be here anymore)\b"
             r"|\bnot worth living\b|\bend it all\b|\bdisappear forever\b"),
    _Pattern("self_harm", "hopelessness", 0.55, False,
             "go anymore more miss notice care burden",
             r"\b(?:can't|cant|cannot|can not) (?:go on|take (?:it|this|much more) any ?more|do this any ?more)\b"
             r"|\b(?:no one|nobody) would (?:miss|notice|care) (?:me|if i)"
             r"|\b(?:i'm|i am) a burden to (?:everyone|my family|them)"),
    _Pattern("self_harm", "plan_or_means", 0.95, True,
             "myself life end jump overdose note letter stockpile stockpiling stockpiled saving saved save",
             r"\b(?:plan|planning|planned|going) to (?:kill my ?self|end (?:it|my life)|jump|overdose)\b"
             r"|\b(?:suicide|goodbye) (?:note|letter)\b"
             r"|\bjump (?:off|from) (?:a|the|this) (?:bridge|building|roof|cliff|balcony)\b"
             r"|\b(?:stockpil|sav)(?:e|ed|ing) (?:up )?(?:my )?" + _DRUGS),
    _Pattern("self_harm", "third_party", 0.8, False,
             "himself herself themselves themself suicidal",
             r"\b(?:kill(?:ing)?|hurt(?:ing)?|harm(?:ing)?|cut(?:ting)?) (?:him|her|them)sel(?:f|ves)\b"
             r"|\b(?:he|she|they)(?:'s|'re| is| are) suicidal\b"),
    # --- abuse / violence at home ------------------------------------------------------------
    _Pattern("abuse", "partner_violence", 0.85, False,
             "hits hit hitting beats beat beating punches punched punching punch kick kicks kicked kicking chokes choked choking strangles strangled "
             "strangling slaps slapped slap shoves shoved pushes pushed burns burned rapes raped raping abuses abused abusing hurts hurt hurting "
             "threatens threatened threatening attacks attacked",
             rf"\b(?:my|our) {_PARTNER} (?:\w+ ){{0,2}}{_VIOLENT} (?:me|us|my (?:mum|mom|mother|kids?|children|sister|brother))\b{_NOT_GAME}"
             r"|\b(?:he|she) (?:keeps |always |often |sometimes |still )?"
             r"(?:hits|hit|beats|beat|chokes|choked|strangled|slaps|slapped|punched|kicked|rapes|raped|abuses|abused) me\b" + _NOT_GAME),
    _Pattern("abuse", "domestic_abuse_mention", 0.75, True,
             "domestic abused assaulted molested raped",
             r"\bdomestic (?:violence|abuse)\b|\b(?:being|been|was|am|i'm) (?:physically |sexually |emotionally )?abused\b"
             r"|\b(?:sexually )?(?:assaulted|molested|raped) me\b|\b(?:i was|i've been|i got) (?:raped|molested|sexually assaulted)\b"),
    _Pattern("abuse", "threat_to_life", 0.9, False,
             "kill",
             r"\b(?:threaten(?:s|ed|ing)?|going|said he(?:'d| would)|said she(?:'d| would)|swore) (?:to )?kill (?:me|us|my)\b"
             r"|\b(?:he|she|they)(?:'ll| will) kill me\b(?! if (?:i|they) (?:find out|see|knew|learn))"),
    _Pattern("abuse", "unsafe_at_home", 0.75, True,
             "safe scared afraid terrified locked let",
             r"\b(?:not|don't feel|do not feel) safe (?:at|in my) (?:home|house|flat|apartment)\b"
             r"|\b(?:scared|afraid|terrified) (?:to go|of going) home\b"
             r"|\b(?:scared|afraid|terrified) of my " + _PARTNER + r"\b"
             r"|\blocked me (?:in|out of the house)\b|\bwon't let me (?:leave|see my|call|have my phone)"),
    # --- medical emergencies -----------------------------------------------------------------
    _Pattern("medical_emergency", "chest_pain", 0.8, True,
             "chest",
             r"\bchest (?:pain|pains|tightness|pressure)\b|\b(?:pain|tightness|pressure|crushing) in my chest\b"
             r"|\bmy chest (?:hurts|is (?:tight|hurting|killing me))"),
    _Pattern("medical_emergency", "breathing_difficulty", 0.85, True,
             "breathe breath breathing lips blue",
             r"\b(?:can't|cant|cannot|can not|can't really|struggling to|hard to|unable to|barely) (?:breathe|catch (?:my|his|her) breath)\b"
             r"|\b(?:difficulty|trouble) breathing\b|\bshort(?:ness)? of breath\b|\bnot breathing\b"
             r"|\b(?:lips|face) (?:are |is |turning |went )?blue\b"),
    _Pattern("medical_emergency", "overdose", 0.9, True,
             "overdose overdosed overdosing swallowed " + _DRUG_WORDS,
             r"\boverdos(?:e|ed|ing)\b(?! on (?:coffee|caffeine|sugar|netflix|tv|chocolate|work|anime|memes|carbs|sun))"
             r"|\b(?:took|taken|swallowed|ate|had) "
             r"(?:too many|a (?:lot|bunch|handful) of|\d+|all (?:of )?(?:my|the|his|her)|a whole (?:bottle|pack) of) " + _DRUGS
             + r"|\bswallowed (?:bleach|poison|detergent|batteries|a battery|antifreeze|cleaning)"),
    _Pattern("medical_emergency", "stroke_signs", 0.85, True,
             "drooping droopy slurred slurring sudden suddenly numb paralysed paralyzed limp headache stroke",
             r"\b(?:face|mouth|smile) (?:is )?(?:drooping|droopy)\b|\bslurr(?:ed|ing) (?:speech|(?:my|his|her|their) words)\b"
             r"|\b(?:sudden|suddenly) (?:numbness|weakness|confusion|(?:can't|cannot) (?:see|speak|talk|move))"
             r"|\b(?:one side|left side|right side|arm|leg) (?:of (?:my|his|her) (?:body|face) )?(?:is |went |has gone )?(?:numb|paraly[sz]ed|limp)\b"
             r"|\bworst headache of (?:my|his|her) life\b|\bhaving a stroke\b"),
    _Pattern("medical_emergency", "unresponsive", 0.9, False,
             "unconscious unresponsive wake breathing responding",
             r"\b(?:unconscious|unresponsive|won't wake up|will not wake up|isn't waking up|passed out and)\b"
             r"|\bnot (?:breathing|responding)\b(?! (?:to (?:emails?|messages?|texts?|calls?|requests?)))"),
    _Pattern("medical_emergency", "severe_bleeding", 0.85, True,
             "bleeding blood",
             r"\b(?:bleeding|blood) (?:heavily|a lot|everywhere|won't stop|will not stop|that won't stop)\b"
             r"|\b(?:heavy|severe|uncontrollable|uncontrolled) bleeding\b|\bcoughing up blood\b|\bvomiting blood\b"),
    _Pattern("medical_emergency", "anaphylaxis", 0.9, True,
             "anaphylaxis anaphylactic throat swelling",
             r"\banaphyla\w+|\bthroat (?:is |feels )?(?:closing|swelling|swollen shut)\b|\b(?:tongue|lips|face) (?:is |are )?swelling up\b"),
    _Pattern("medical_emergency", "acute_event", 0.8, True,
             "heart seizure fit stroke seizing convulsing collapsed",
             r"\b(?:i'm|i am|i think i'm|he's|she's|he is|she is|someone is|my \w+ is) having (?:a )?(?:heart attack|seizure|fit|stroke)\b"
             r"|\b(?:having|had) a seizure\b|\bis (?:seizing|convulsing)\b|\bhe collapsed\b|\bshe collapsed\b|\bi collapsed\b"),
)

_COMPILED: Final = tuple(
    (frozenset(p.triggers.split()), re.compile(p.regex), p) for p in _PATTERNS
)
_WORD = re.compile(r"[a-z]+")
_NEGATION_BEFORE = re.compile(
    r"(?:\bnot|\bnever|n't|\bno longer|\bno|\bnor|\bwithout|\bdenies|\bdenied)(?: \w+){0,2} ?$"
)
_INTENSIFIER_BEFORE = re.compile(
    r"(?:can't|cannot|couldn't|can not|won't) stop(?: \w+){0,2} ?$|\bnot sure\b.{0,30}$|\bdon't know\b.{0,30}$"
)
_TABLE = str.maketrans({"\u2019": "'", "\u2018": "'"})


class CrisisDetector:
    """Find signs that the person writing may be in danger. Stateless and thread-safe."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def check(self, text: str) -> CrisisVerdict:
        """Return the strongest crisis kind found in ``text`` (or none)."""
        norm = " ".join(text.translate(_TABLE).split()).lower()
        words = set(_WORD.findall(norm))
        best: dict[str, float] = {}
        reasons: list[str] = []
        negated_any = False
        about_any = False
        for triggers, regex, pat in _COMPILED:
            if triggers.isdisjoint(words):
                continue
            for match in regex.finditer(norm):
                weight = self._weigh(pat, norm, match.start())
                negated_any |= weight < pat.weight
                if weight == pat.weight and is_topic_noun(match.group()) and about_the_topic(norm, match.start()):
                    weight *= ABOUT_FACTOR
                    about_any = True
                if weight > best.get(pat.kind, 0.0):
                    best[pat.kind] = weight
                if pat.reason not in reasons:
                    reasons.append(pat.reason)
        if not best:
            return CrisisVerdict(False, None, 0.0, ())
        kind = max(best, key=lambda k: best[k])
        score = best[kind]
        if negated_any and score < self.threshold:
            reasons.append("negated")
        if about_any and score < self.threshold:
            reasons.append("about_the_topic")
        return CrisisVerdict(score >= self.threshold, kind, round(score, 3), tuple(reasons))

    @staticmethod
    def _weigh(pat: _Pattern, norm: str, start: int) -> float:
        """The pattern's weight, discounted when a negation governs it."""
        weight = pat.weight
        if pat.negatable:
            before = norm[max(0, start - 40) : start]
            if _NEGATION_BEFORE.search(before) and not _INTENSIFIER_BEFORE.search(before):
                weight *= NEGATED_FACTOR
        return weight
