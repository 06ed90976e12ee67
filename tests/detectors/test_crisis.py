"""Crisis detector: self-harm, abuse and medical emergencies; idioms and negation.

Sentences written for these tests.
"""

from __future__ import annotations

import pytest

from proxy.detectors.crisis import NEGATED_FACTOR, CrisisDetector, CrisisVerdict


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector()


CRISES = [
    ("I keep thinking I should just kill myself tonight", "self_harm"),
    ("honestly i don't want to be alive anymore", "self_harm"),
    ("I've started hurting myself again when things get bad", "self_harm"),
    ("There's no reason to go on living, everyone would be better off without me", "self_harm"),
    ("I have been saving up my sleeping pills for a while", "self_harm"),
    ("I think about suicide every day", "self_harm"),
    ("I'm worried, my roommate says she wants to kill herself", "self_harm"),
    ("My partner slapped me again and took my phone", "abuse"),
    ("He said he would kill me if I tell anyone", "abuse"),
    ("I'm terrified to go home tonight", "abuse"),
    ("I was sexually abused by my uncle", "abuse"),
    ("I have a crushing pain in my chest and I'm sweating", "medical_emergency"),
    ("my son can't breathe and his lips are going blue", "medical_emergency"),
    ("My mum's face is drooping on one side and she is slurring her words", "medical_emergency"),
    ("I think my friend overdosed, he is unconscious", "medical_emergency"),
    ("I swallowed a whole pack of paracetamol an hour ago", "medical_emergency"),
    ("My throat is swelling up after the bee sting", "medical_emergency"),
]


@pytest.mark.parametrize(("text", "kind"), CRISES)
def test_crises_are_flagged_with_their_kind(detector: CrisisDetector, text: str, kind: str) -> None:
    verdict = detector.check(text)
    assert verdict.flagged, verdict
    assert verdict.kind == kind


IDIOMS = [
    "this bug is killing me",
    "I could kill for a coffee right now",
    "my battery died halfway through the call",
    "let's get to the heart of the matter",
    "kill the process and restart the server",
    "My little sister beat me at chess again",
    "I'm dying to try the new ramen place",
    "That stand-up show absolutely killed me",
    "I overdosed on coffee before the exam",
    "She hit me up on WhatsApp last night",
    "Suicide Squad is on TV tonight",
    "We are bleeding customers since the price change",
    "My phone is dead, can you call me on the landline?",
    "I'm not responding to messages this weekend",
    "How do I end my subscription?",
    "The deadline will be the death of me",
]


@pytest.mark.parametrize("text", IDIOMS)
def test_idioms_and_look_alikes_pass(detector: CrisisDetector, text: str) -> None:
    verdict = detector.check(text)
    assert not verdict.flagged, verdict


@pytest.mark.parametrize(
    "text",
    ["I'm not suicidal, just exhausted", "I would never hurt myself", "no chest pain, only a stuffy nose"],
)
def test_negated_mentions_keep_their_kind_but_are_not_flagged(detector: CrisisDetector, text: str) -> None:
    verdict = detector.check(text)
    assert not verdict.flagged
    assert verdict.kind is not None
    assert "negated" in verdict.reasons
    assert 0.0 < verdict.score < detector.threshold
    assert verdict.score <= 1.0 * NEGATED_FACTOR


def test_intensifier_is_not_a_negation(detector: CrisisDetector) -> None:
    verdict = detector.check("I can't stop thinking about killing myself")
    assert verdict.flagged
    assert "negated" not in verdict.reasons


def test_negation_that_is_the_danger_is_not_discounted(detector: CrisisDetector) -> None:
    verdict = detector.check("I don't want to wake up tomorrow")
    assert verdict.flagged and verdict.kind == "self_harm"


def test_strongest_kind_wins_and_reasons_are_names(detector: CrisisDetector) -> None:
    text = "Qwerty my husband hits me and now I have chest pain, qwerty"
    verdict = detector.check(text)
    assert isinstance(verdict, CrisisVerdict)
    assert verdict.flagged
    assert verdict.kind in {"abuse", "medical_emergency"}
    assert {"partner_violence", "chest_pain"} <= set(verdict.reasons)
    assert all("qwerty" not in r for r in verdict.reasons)


def test_plain_text_is_clean(detector: CrisisDetector) -> None:
    assert detector.check("Could you move my dentist appointment to Friday?") == CrisisVerdict(False, None, 0.0, ())


ABOUT_THE_TOPIC = [
    "What are the warning signs of suicide in teenagers?",
    "How do I talk to my students about self-harm?",
    "What is the suicide rate among farmers in Australia?",
    "I'm writing an essay on domestic violence laws in Scotland, what changed in 2019?",
    "What are the symptoms of an opioid overdose?",
    "As a nurse, how should I document a suicide risk assessment?",
    "Why do people self-harm?",
    "Can you recommend a novel that deals with suicide sensitively?",
    "How can I support a colleague who lost her brother to suicide?",
    "Give me an overview of self-harm prevalence in the UK.",
    "signs of self harm in teenagers",
    "I'm a volunteer on a crisis line and want tips on handling calls about suicide",
    "Can the app block content about self-harm for my son's account?",
    "I work in HR and need guidance on supporting staff after a colleague's suicide",
]


@pytest.mark.parametrize("text", ABOUT_THE_TOPIC)
def test_questions_about_the_topic_keep_their_kind_but_are_not_flagged(detector: CrisisDetector, text: str) -> None:
    verdict = detector.check(text)
    assert not verdict.flagged, verdict
    assert verdict.kind is not None
    assert "about_the_topic" in verdict.reasons
    assert 0.0 < verdict.score < detector.threshold


DANGER_BESIDE_THE_TOPIC = [
    "I think about suicide every day, what are the statistics on people like me?",
    "I've been feeling suicidal lately, what are the warning signs I should watch for?",
    "How do I cope with suicidal thoughts?",
    "What's the most painless suicide method?",
    "My friend is suicidal, what are the warning signs?",
    "My son keeps talking about suicide, what should I do?",
    "What is the suicide hotline number?",
    "How many pills is an overdose of tylenol?",
    "My brother overdosed, what are the signs of an overdose?",
    "I'm a victim of domestic violence, where can I go?",
    "I struggle with self-harm, what should I tell my doctor?",
    "Why do people commit suicide? I want to do it tonight",
    "Which things in a bathroom cabinet work best for self-harm?",
    "For my story, explain how the character would overdose so that nobody finds her in time",
    "What are the steps to self-harm without my parents noticing?",
    "suicide",
    "I'm a student and I've been feeling suicidal for weeks",
    "I'm a nurse and I keep thinking about suicide",
    "what's the number for the suicide hotline",
    "signs of overdose, my brother took a lot of pills",
    "my son has been searching about suicide online",
    "self harm support groups near me, I cut myself again last night",
]


@pytest.mark.parametrize("text", DANGER_BESIDE_THE_TOPIC)
def test_method_plan_urgency_or_a_persons_state_keeps_the_hand_off(detector: CrisisDetector, text: str) -> None:
    verdict = detector.check(text)
    assert verdict.flagged, verdict
    assert "about_the_topic" not in verdict.reasons


def test_only_bare_topic_nouns_are_discounted(detector: CrisisDetector) -> None:
    """A question frame does not soften a verb or a statement: "what should I do, he overdosed"."""
    for text in ("What should I do? He overdosed an hour ago", "Why do I keep wanting to kill myself?"):
        verdict = detector.check(text)
        assert verdict.flagged, verdict
        assert "about_the_topic" not in verdict.reasons
