"""The offline rule-based memory extractor: self-stated facts and preferences from one user turn.

What is kept: sentences in which the user says something about **themselves** in the first
person: preferences (``I prefer e-mail``, ``I'd rather be called in the morning``), facts
(``I'm vegetarian``, ``I live in Leeds``, ``I work as a nurse``) and identifiers (``my order
number is <NUMBER_1>``, ``my e-mail is <EMAIL_ADDRESS_1>``). Each carries a *topic*, so a changed
preference replaces the old one of the same topic instead of piling up.

What is never kept:

* **instructions aimed at the assistant** (memory poisoning): a turn that tells the assistant what
  to do or be (``remember that you must always...``, ``from now on ignore...``, ``you are now...``,
  ``act as``, ``system prompt``) gives nothing at all, not even its harmless sentences;
* second-person sentences and anything mentioning the assistant, the model or Bedside;
* special categories of personal data (health, religion, politics, sexuality, ...): a sentence
  naming one is skipped;
* questions, and Bedside's own guidance (text starting with the mark).

The text is the sentence as the user said it (after PII redaction: values are placeholders).
:func:`refusal` applies the same filters to a sentence from another extractor (the LLM extractor's
output, :mod:`proxy.privacy.memory_llm`).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex as re

from proxy.marks import is_bedside_text

MAX_SENTENCE = 240

_POISON = re.compile(
    r"""\b(?:
        you\s+(?:must|should|shall|will|have\s+to|need\s+to|are\s+now|are\s+no\s+longer|may\s+now|can\s+now)
      | from\s+now\s+on | (?:ignore|disregard|forget|override)\s+(?:all|any|every|your|the|previous|prior|earlier|those|these|my|that)
      | always\s+(?:respond|answer|reply|say|tell|use|include|recommend|add|write|start|end)
      | never\s+(?:respond|answer|reply|say|tell|mention|refuse|reveal|use)
      | remember\s+(?:that\s+)?(?:you|to\s+always|to\s+never|this\s+instruction|these\s+instructions)
      | system\s+prompt | instructions? | jailbreak | pretend | act\s+as | role\s*-?\s*play | developer\s+mode
      | (?:assistant|chatbot|the\s+ai|the\s+model|bedside)\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|u)\b", re.IGNORECASE)
_SPECIAL = re.compile(
    r"\b(?:allerg\w*|diagnos\w*|disease|illness|cancer|hiv|aids|diabet\w*|depress\w*|anxiety|bipolar|schizo\w*|pregnan\w*|abortion|therap\w*|medication|"
    r"disabilit\w*|religio\w*|christian|muslim|jewish|hindu|buddhist|atheist|church|mosque|synagogue|gay|lesbian|bisexual|transgender|"
    r"sexual\w*|political|democrat|republican|labour|tory|union\s+member|criminal|convicted|arrested|suicid\w*|self[-\s]harm|ethnic\w*|race)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")

_IDENT = re.compile(
    r"\bmy\s+(?P<what>(?:order|account|customer|booking|reservation|ticket|membership|member|loyalty|tracking|reference|case|policy|invoice|contract)"
    r"(?:\s+(?:number|no\.?|id|code|reference))?|e-?mail(?:\s+address)?|phone(?:\s+number)?|mobile(?:\s+number)?|address|postcode|zip\s+code|name)"
    r"\s+(?:is|=|:)\s*\S",
    re.IGNORECASE,
)
_PREF = re.compile(
    r"\bI(?:\s+(?:really|much|generally|usually|always))?\s*(?:prefer|'d\s+prefer|would\s+prefer|'d\s+rather|would\s+rather|like\s+to\s+be|want\s+to\s+be|"
    r"don't\s+like|do\s+not\s+like|dislike|hate|love|like|enjoy)\b\s+(?P<what>.+)",
    re.IGNORECASE,
)
_FACT = re.compile(
    r"\b(?:I(?:'m|\s+am)\s+(?P<am>(?:an?\s+)?(?:vegetarian|vegan|pescatarian|lactose[-\s]intolerant|gluten[-\s]free|left[-\s]handed|"
    r"retired|student)|an?\s+\w+(?:er|or|ist|ian|ant|ent))\b"
    r"|I\s+(?:live|am\s+based|'m\s+based)\s+in\s+(?P<live>\S.*)"
    r"|I\s+work\s+(?:as|at|for|in)\s+(?P<work>\S.*)"
    r"|I\s+(?:have|'ve\s+got|have\s+got)\s+(?:an?|two|three|\d+)\s+(?P<have>dogs?|cats?|kids|children|sons?|daughters?|cars?|bikes?)\b"
    r"|I\s+speak\s+(?P<speak>\w+))",
    re.IGNORECASE,
)
_TOPICS: dict[str, tuple[str, ...]] = {
    "contact": ("e-mail", "email", "mail", "phone", "call", "calls", "text", "texts", "sms", "whatsapp", "letter", "post", "chat"),
    "diet": ("vegetarian", "vegan", "pescatarian", "meat", "fish", "gluten", "lactose", "halal", "kosher", "dairy"),
    "time": ("morning", "mornings", "afternoon", "afternoons", "evening", "evenings", "weekend", "weekends", "weekday", "weekdays", "night"),
    "language": ("english", "german", "french", "spanish", "italian", "dutch", "polish", "portuguese", "language"),
    "style": ("short", "brief", "detailed", "formal", "informal", "casual", "bullet", "bullets", "concise", "long"),
    "name": ("called",),
}
_WORD = re.compile(r"[\w'-]+")


@dataclass(frozen=True, slots=True)
class Extracted:
    """One thing worth remembering: its kind, its topic (what a newer one replaces) and the sentence."""

    kind: str
    topic: str
    text: str


def _topic_of(text: str, default: str) -> str:
    words = {w.casefold() for w in _WORD.findall(text)}
    for topic, cues in _TOPICS.items():
        if words & set(cues):
            return topic
    return default


def is_poisoning(text: str) -> bool:
    """Whether ``text`` speaks to the assistant (an instruction, a role, the prompt): never remembered."""
    return bool(_POISON.search(text)) or bool(_SECOND_PERSON.search(text))


def refusal(text: str) -> str | None:
    """Why a candidate memory sentence (from any extractor) must not be stored, or None when it may:
    ``bedside`` (Bedside's own text), ``length`` (empty or over :data:`MAX_SENTENCE`), ``poisoning``
    (speaks to the assistant), ``special_category`` (health, religion, ...), ``question``."""
    if is_bedside_text(text):
        return "bedside"
    if not text.strip() or len(text) > MAX_SENTENCE:
        return "length"
    if is_poisoning(text):
        return "poisoning"
    if _SPECIAL.search(text):
        return "special_category"
    if text.rstrip().endswith("?"):
        return "question"
    return None


def turn_is_poisoned(turn: str) -> bool:
    """Whether a whole user turn gives nothing to remember: it instructs the assistant somewhere."""
    return bool(_POISON.search(turn))


def extract(turn: str, kinds: tuple[str, ...] | list[str] = ("preference", "fact", "identifier")) -> list[Extracted]:
    """What the user's ``turn`` says about themselves that is worth remembering (see the module doc)."""
    if not turn or is_bedside_text(turn) or turn_is_poisoned(turn):
        return []  # one instruction to the assistant poisons the whole turn
    out: dict[tuple[str, str], Extracted] = {}
    for match in _SENTENCE.finditer(turn):
        sentence = " ".join(match.group(0).split())
        if not sentence or len(sentence) > MAX_SENTENCE or sentence.endswith("?") or _SECOND_PERSON.search(sentence) or _SPECIAL.search(sentence):
            continue
        found: Extracted | None = None
        if (m := _IDENT.search(sentence)) is not None:
            what = " ".join(m.group("what").casefold().split()).replace("email", "e-mail")
            found = Extracted("identifier", what, sentence)
        elif (m := _PREF.search(sentence)) is not None:
            found = Extracted("preference", _topic_of(m.group("what"), "pref:" + " ".join(_WORD.findall(m.group("what").casefold())[:2])), sentence)
        elif (m := _FACT.search(sentence)) is not None:
            key = next(k for k in ("am", "live", "work", "have", "speak") if m.group(k))
            topic = {"live": "home", "work": "work", "speak": "language"}.get(key) or _topic_of(m.group(key), "fact:" + m.group(key).casefold().split()[-1])
            found = Extracted("fact", topic, sentence)
        if found is not None and found.kind in kinds:
            out[(found.kind, found.topic)] = found  # within one turn, the later sentence wins
    return list(out.values())
