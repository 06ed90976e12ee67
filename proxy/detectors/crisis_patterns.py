"""The crisis detector's patterns: a kind, a reason name, a weight in 0..1, whether a negation
softens it, the trigger words one of which must occur for the pattern to run, and the pattern.

:data:`PATTERNS` holds the first table (statements that name the danger); :mod:`proxy.detectors.
crisis_signs` adds the signs people give without naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["PARTNER", "PATTERNS", "CrisisKind", "Pattern"]

CrisisKind = Literal["self_harm", "abuse", "medical_emergency"]


@dataclass(frozen=True, slots=True)
class Pattern:
    """One crisis pattern (see the module docstring)."""

    kind: CrisisKind
    reason: str
    weight: float
    negatable: bool
    #: space-separated words of which one must occur for the regex to run; groups joined by " + "
    #: must each have one ("won + longer anymore": "won't" and one of the two;
    #: :func:`proxy.detectors.trigger_words.parse_triggers`)
    triggers: str
    regex: str


PARTNER = (
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

PATTERNS: Final[tuple[Pattern, ...]] = (
    # --- self-harm / suicide -----------------------------------------------------------------
    Pattern("self_harm", "suicide_mention", 0.8, True,
             "suicide suicidal",
             r"\bsuicid(?:e|al)\b(?! (?:squad|doors?|bomb\w*|king|note app|mission|run|pact movie))"),
    Pattern("self_harm", "kill_self", 0.9, True,
             "myself self life unalive",
             r"\b(?:kill(?:ing)?|end(?:ing)?|tak(?:e|ing)) (?:my ?self|my (?:own )?life)\b"
             r"|\bunalive (?:my ?self)\b|\bhang(?:ing)? my ?self\b"),
    Pattern("self_harm", "self_injury", 0.8, True,
             "self selfharm myself",
             r"\bself[- ]?harm(?:ing)?\b|\b(?:cut|cutting|burn|burning|hurt|hurting|harm|harming|"
             r"starv(?:e|ing)) my ?self\b(?! (?:on|with|while|when|by accident|accidentally|shaving|cooking))"),
    Pattern("self_harm", "wish_dead", 0.85, False,
             "die dead born wake live alive exist living disappear end without",
             r"\b(?:want|wanna|wanted|going|ready|wish(?:ed)?|like) (?:to )?(?:die|be dead)\b(?! (?:of|from) (?:embarrass|laugh|shame|cringe))"
             r"|\bwish (?:i|i'd) (?:was|were|had) (?:dead|never been born|not born)|\bwish i (?:could )?(?:never|not) wake up"
             r"|\bbetter off (?:dead|without me)\b|\bno (?:reason|point) (?:to|in) (?:live|living|being alive|going on)\b"
             r"|\b(?:don't|dont|do not) want to (?:live|be alive|exist|wake up|be here anymore)\b"
             r"|\bnot worth living\b|\bend it all\b|\bdisappear forever\b"),
    Pattern("self_harm", "hopelessness", 0.55, False,
             "go anymore more miss notice care burden",
             r"\b(?:can't|cant|cannot|can not) (?:go on|take (?:it|this|much more) any ?more|do this any ?more)\b"
             r"|\b(?:no one|nobody) would (?:miss|notice|care) (?:me|if i)"
             r"|\b(?:i'm|i am) a burden to (?:everyone|my family|them)"),
    Pattern("self_harm", "plan_or_means", 0.95, True,
             "myself life end jump overdose note letter stockpile stockpiling stockpiled saving saved save",
             r"\b(?:plan|planning|planned|going) to (?:kill my ?self|end (?:it|my life)|jump|overdose)\b"
             r"|\b(?:suicide|goodbye) (?:note|letter)\b"
             r"|\bjump (?:off|from) (?:a|the|this) (?:bridge|building|roof|cliff|balcony)\b"
             r"|\b(?:stockpil|sav)(?:e|ed|ing) (?:up )?(?:my )?" + _DRUGS),
    Pattern("self_harm", "third_party", 0.8, False,
             "himself herself themselves themself suicidal",
             r"\b(?:kill(?:ing)?|hurt(?:ing)?|harm(?:ing)?|cut(?:ting)?) (?:him|her|them)sel(?:f|ves)\b"
             r"|\b(?:he|she|they)(?:'s|'re| is| are) suicidal\b"),
    # --- abuse / violence at home ------------------------------------------------------------
    Pattern("abuse", "partner_violence", 0.85, False,
             "hits hit hitting beats beat beating punches punched punching punch kick kicks kicked kicking chokes choked choking strangles strangled "
             "strangling slaps slapped slap shoves shoved pushes pushed burns burned rapes raped raping abuses abused abusing hurts hurt hurting "
             "threatens threatened threatening attacks attacked",
             rf"\b(?:my|our) {PARTNER} (?:\w+ ){{0,2}}{_VIOLENT} (?:me|us|my (?:mum|mom|mother|kids?|children|sister|brother))\b{_NOT_GAME}"
             r"|\b(?:he|she) (?:keeps |always |often |sometimes |still )?"
             r"(?:hits|hit|beats|beat|chokes|choked|strangled|slaps|slapped|punched|kicked|rapes|raped|abuses|abused) me\b" + _NOT_GAME),
    Pattern("abuse", "domestic_abuse_mention", 0.75, True,
             "domestic abused assaulted molested raped",
             r"\bdomestic (?:violence|abuse)\b|\b(?:being|been|was|am|i'm) (?:physically |sexually |emotionally )?abused\b"
             r"|\b(?:sexually )?(?:assaulted|molested|raped) me\b|\b(?:i was|i've been|i got) (?:raped|molested|sexually assaulted)\b"),
    Pattern("abuse", "threat_to_life", 0.9, False,
             "kill",
             r"\b(?:threaten(?:s|ed|ing)?|going|said he(?:'d| would)|said she(?:'d| would)|swore) (?:to )?kill (?:me|us|my)\b"
             r"|\b(?:he|she|they)(?:'ll| will) kill me\b(?! if (?:i|they) (?:find out|see|knew|learn))"),
    Pattern("abuse", "unsafe_at_home", 0.75, True,
             "safe scared afraid terrified locked won wont",
             r"\b(?:not|don't feel|do not feel) safe (?:at|in my) (?:home|house|flat|apartment)\b"
             r"|\b(?:scared|afraid|terrified) (?:to go|of going) home\b"
             r"|\b(?:scared|afraid|terrified) of my " + PARTNER + r"\b"
             r"|\blocked me (?:in|out of the house)\b|\bwon't let me (?:leave|see my|call|have my phone)"),
    # --- medical emergencies -----------------------------------------------------------------
    Pattern("medical_emergency", "chest_pain", 0.8, True,
             "chest",
             r"\bchest (?:pain|pains|tightness|pressure)\b|\b(?:pain|tightness|pressure|crushing) in my chest\b"
             r"|\bmy chest (?:hurts|is (?:tight|hurting|killing me))"),
    Pattern("medical_emergency", "breathing_difficulty", 0.85, True,
             "breathe breath breathing lips blue",
             r"\b(?:can't|cant|cannot|can not|can't really|struggling to|hard to|unable to|barely) (?:breathe|catch (?:my|his|her) breath)\b"
             r"|\b(?:difficulty|trouble) breathing\b|\bshort(?:ness)? of breath\b|\bnot breathing\b"
             r"|\b(?:lips|face) (?:are |is |turning |went )?blue\b"),
    Pattern("medical_emergency", "overdose", 0.9, True,
             "overdose overdosed overdosing swallowed " + _DRUG_WORDS,
             r"\boverdos(?:e|ed|ing)\b(?! on (?:coffee|caffeine|sugar|netflix|tv|chocolate|work|anime|memes|carbs|sun))"
             r"|\b(?:took|taken|swallowed|ate|had) "
             r"(?:too many|a (?:lot|bunch|handful) of|\d+|all (?:of )?(?:my|the|his|her)|a whole (?:bottle|pack) of) " + _DRUGS
             + r"|\bswallowed (?:bleach|poison|detergent|batteries|a battery|antifreeze|cleaning)"),
    Pattern("medical_emergency", "stroke_signs", 0.85, True,
             "drooping droopy slurred slurring sudden suddenly numb paralysed paralyzed limp headache stroke",
             r"\b(?:face|mouth|smile) (?:is )?(?:drooping|droopy)\b|\bslurr(?:ed|ing) (?:speech|(?:my|his|her|their) words)\b"
             r"|\b(?:sudden|suddenly) (?:numbness|weakness|confusion|(?:can't|cannot) (?:see|speak|talk|move))"
             r"|\b(?:one side|left side|right side|arm|leg) (?:of (?:my|his|her) (?:body|face) )?(?:is |went |has gone )?(?:numb|paraly[sz]ed|limp)\b"
             r"|\bworst headache of (?:my|his|her) life\b|\bhaving a stroke\b"),
    Pattern("medical_emergency", "unresponsive", 0.9, False,
             "unconscious unresponsive wake breathing responding",
             r"\b(?:unconscious|unresponsive|won't wake up|will not wake up|isn't waking up|passed out and)\b"
             r"|\bnot (?:breathing|responding)\b(?! (?:to (?:emails?|messages?|texts?|calls?|requests?)))"),
    Pattern("medical_emergency", "severe_bleeding", 0.85, True,
             "bleeding blood",
             r"\b(?:bleeding|blood) (?:heavily|a lot|everywhere|won't stop|will not stop|that won't stop)\b"
             r"|\b(?:heavy|severe|uncontrollable|uncontrolled) bleeding\b|\bcoughing up blood\b|\bvomiting blood\b"),
    Pattern("medical_emergency", "anaphylaxis", 0.9, True,
             "anaphylaxis anaphylactic throat swelling",
             r"\banaphyla\w+|\bthroat (?:is |feels )?(?:closing|swelling|swollen shut)\b|\b(?:tongue|lips|face) (?:is |are )?swelling up\b"),
    Pattern("medical_emergency", "acute_event", 0.8, True,
             "heart seizure fit stroke seizing convulsing collapsed",
             r"\b(?:i'm|i am|i think i'm|he's|she's|he is|she is|someone is|my \w+ is) having (?:a )?(?:heart attack|seizure|fit|stroke)\b"
             r"|\b(?:having|had) a seizure\b|\bis (?:seizing|convulsing)\b|\bhe collapsed\b|\bshe collapsed\b|\bi collapsed\b"),
)
