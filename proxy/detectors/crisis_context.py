"""When a crisis word is a topic, not a statement of danger: "what are the warning signs of suicide?".

The crisis rail hands a conversation to a person. That is right for "I think about suicide every
day" and wrong for a parent asking how to talk to a teenager about suicide, a nurse asking about
overdose risk, or a student writing an essay on domestic violence: they get the hand-off text
instead of an answer. Bare topic nouns ("suicide", "suicidal", "self-harm", "domestic violence",
"overdose") are therefore discounted (:data:`ABOUT_FACTOR`, below the default threshold) when the
sentence is plainly *about* the topic and nothing in the message says the writer or someone with
them is in danger. The kind stays set, so the tone stage's distress rule still answers with care
and says how to reach help.

Written from the kinds of questions people ask (information, study, fiction, helping others,
professional duty), not from any evaluation row. Safety decides the trade-offs: any sign of
method, plan, urgency, the writer's own state or someone's present state keeps the full weight, so
"I've been researching suicide methods" and "my friend is suicidal, what are the warning signs"
are still handed off. Verbs ("overdosed", "is overdosing") and every other crisis pattern are
never discounted.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["ABOUT_FACTOR", "about_the_topic", "is_topic_noun"]

#: The weight of a topic noun in a sentence about the topic: 0.8 -> 0.4, under the 0.5 threshold.
ABOUT_FACTOR: Final = 0.5

_TOPIC_NOUN = re.compile(r"suicid(?:e|al)|self[- ]?harm(?:ing)?|domestic (?:violence|abuse)|overdose")

#: What makes a sentence about the topic: study and information, fiction, helping someone, a duty.
_ABOUT: Final = re.compile(
    r"\b(?:statistics|stats|rates?|research|studies|study|history|historical|prevalence|prevention|"
    r"awareness|stigma|myths?|facts|causes|risk factors|warning signs|definition|define|meaning|"
    r"documentary|essay|article|report|presentation|lecture|course|curriculum|module|training|"
    r"workshop|policy|policies|protocol|guidelines|campaign|charity|charities|podcast|newsletter|"
    r"novel|story|character|film|movie|book|series|episode|song|lyrics|poem|screenplay|"
    r"survivors|bereaved|postvention|loss survivors|signs of|signs that|support groups?|guidance|"
    r"(?:content|posts?|videos?|images|material|materials|websites?|media) "
    r"(?:about|on|related to|promoting|encouraging|that (?:promotes?|encourages?)))\b"
    r"|^(?:what|why|how common|how often|how prevalent|is it true|explain|describe|define|"
    r"tell me about|summari[sz]e|give me an overview)\b"
    r"|\b(?:help\w*|support\w*|talk to|talk with|speak to|speak with|respond to|reach out to|comfort|"
    r"check on|look out for)\b(?: \w+){0,4} (?:who|whose|with|about|after|through)\b"
    r"|\b(?:as|i'?m|i am|i work as) an? (?:nurse|teacher|counsel+or|therapist|doctor|gp|social worker|moderator|manager|"
    r"parent|volunteer|chaplain|pharmacist|paramedic|coach|youth worker|hr \w+|researcher|student|journalist|writer)\b"
    r"|\bi work (?:in|for|at) (?:hr|a school|a hospital|a pharmacy|a charity|a helpline|a crisis line|social care|mental health|"
    r"safeguarding|education|nursing)\b|\btips (?:on|for|about)\b"
)

#: Words between "I" and a topic noun that make it the writer's own state ("I've been feeling
#: suicidal", "I think about suicide", "I struggle with self-harm"), not their task ("I need to write
#: an essay about suicide", "I document a suicide risk assessment").
_STATE_WORDS: Final = (
    r"(?:am|was|have|had|been|be|feel|felt|feeling|keep|kept|think|thought|thinking|get|got|getting|"
    r"want|wanted|wanna|really|so|very|just|still|always|often|sometimes|constantly|again|about|of|"
    r"tried|try|trying|considered|considering|contemplated|contemplating|attempted|struggle|struggled|"
    r"struggling|with|cope|coping|deal|dealing|a|an|victim|survivor|suffer|suffered|suffering|from|"
    r"going|through|being|started|starting|stop|quit|relapsed|fighting|battling|like|suicidal)"
)

#: What keeps the full weight: method or means, plans, urgency, the writer's own state, or someone
#: else's present state. Searched in the whole message, not only the sentence.
_DANGER: Final = re.compile(
    r"\b(?:methods?|painless|quickest|quick way|easiest|least painful|lethal|fatal|dose|doses|"
    r"how many|how much|tonight|right now|at the moment|currently|goodbye|note|bridge|rope|"
    r"gun|pills|best|objects?|items?|things? to|tools?|used? for|"
    r"steps?|step by step|instructions?|without being|without anyone|so no one|unnoticed|undetected|"
    r"hide|hiding|hidden)\b"
    r"|\b(?:to|would|will|could|can|should|might|i'?ll|i'?d) (?:overdose|self[- ]?harm)\b"
    r"|\b(?:call|text|ring|reach|need|find|give me|what'?s|what is|number (?:for|of)) (?:[\w']+ ){0,3}?(?:hotline|helpline|lifeline|crisis line)\b"
    r"|\b(?:suicide|crisis) (?:hotline|helpline|lifeline)\b"
    r"|\b(?:how|ways?|best|easiest|should i|want to|wanna|going to|gonna|i'?ll|i will|plan(?:ning)? to)"
    r"(?: \w+){0,2} (?:commit|attempt|do it|go through with)\b"
    r"|\b(?:i|i'm|im|i've|ive|i'd|me)\b(?: " + _STATE_WORDS + r"){0,4} (?:suicid\w*|self[- ]?harm\w*|overdos\w*|abused|abusive)"
    r"|\bmy (?:own )?(?:suicid|overdose|self[- ]?harm|attempt|abuser)"
    r"|\b(?:feel|feeling|felt|been|am|was)(?: \w+){0,2} suicidal"
    r"|\b(?:he|she|they|someone|somebody|my \w+)(?:'s|'re| is| are| has| have| was| were| just| keeps?)"
    r"(?: \w+){0,3} (?:suicid\w*|self[- ]?harm\w*|overdos\w*|abus\w*|hurting|cutting)"
    r"|\b(?:mentions?|mentioned|talks? about|talking about|talked about|threaten(?:s|ed|ing)?|jok(?:e|es|ed|ing) about|"
    r"writes? about|wrote about|searching|searched|googling|googled)(?: \w+){0,2} (?:suicid|self[- ]?harm|overdos|killing)"
)
_SENTENCE_END = re.compile(r"[.!?\n]")


def is_topic_noun(matched: str) -> bool:
    """Whether a pattern matched a bare topic noun (the only matches this module may discount)."""
    return _TOPIC_NOUN.fullmatch(matched) is not None


def about_the_topic(norm: str, start: int) -> bool:
    """Whether the sentence of ``norm`` around ``start`` is about the topic and the message shows no
    danger. ``norm`` is the crisis detector's lower-cased, space-normalised text."""
    if _DANGER.search(norm):
        return False
    begin = max((m.end() for m in _SENTENCE_END.finditer(norm, 0, start)), default=0)
    end_match = _SENTENCE_END.search(norm, start)
    sentence = norm[begin : end_match.end() if end_match else len(norm)].strip()
    return _ABOUT.search(sentence) is not None
