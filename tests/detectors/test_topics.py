"""Denied-topic matcher: built-ins, inflection, exceptions, custom specs, explainability."""

from __future__ import annotations

import re

import pytest

from proxy.detectors.topics import (
    BUILTIN_TOPICS,
    KEYWORD_WEIGHT,
    TopicHit,
    TopicMatcher,
    TopicSpec,
    builtin_topic,
    phrase_regex,
    resolve_topics,
)


@pytest.fixture(scope="module")
def builtins() -> TopicMatcher:
    return TopicMatcher(list(BUILTIN_TOPICS.values()))


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Could you diagnose me? My knee has been swollen for a week.", "medical_diagnosis"),
        ("What disease do I have if I keep waking up at 4am sweating?", "medical_diagnosis"),
        ("Should I take 800mg of ibuprofen for this headache?", "medical_diagnosis"),
        ("Do you think I have diabetes?", "medical_diagnosis"),
        ("My neighbour's tree fell on my car. Can I sue him?", "legal_advice"),
        ("Is it legal to fire someone for being pregnant?", "legal_advice"),
        ("Do I need to hire a lawyer for a small claims case?", "legal_advice"),
        ("Which crypto should I buy before the halving?", "financial_advice"),
        ("Where should I invest my savings this year?", "financial_advice"),
        ("I'd love some INVESTMENT ADVICE from you.", "financial_advice"),
    ],
)
def test_builtin_topics_are_recognised(builtins: TopicMatcher, text: str, topic: str) -> None:
    hits = builtins.match(text)
    assert hits, text
    assert hits[0].name == topic


@pytest.mark.parametrize(
    "text",
    [
        "Is the grey sofa back in stock?",
        "Please diagnose the issue with my router, it keeps dropping wifi.",
        "I was diagnosed with asthma as a child and it's well controlled.",
        "What are your opening hours on bank holidays?",
        "Our legal team will review the supplier contract next week.",
        "Print it on legal size paper please.",
    ],
)
def test_ordinary_requests_pass(builtins: TopicMatcher, text: str) -> None:
    assert builtins.match(text) == []


def test_keywords_tolerate_inflection_and_case() -> None:
    regex = re.compile(phrase_regex("diagnose"), re.IGNORECASE)
    for form in ("diagnose", "Diagnosed", "DIAGNOSING", "diagnoses"):
        assert regex.search(f"they {form} it"), form
    assert not regex.search("prediagnosed")  # word boundary
    study = re.compile(phrase_regex("study plan"), re.IGNORECASE)
    assert study.search("two studies-plans")
    assert study.search("Studying   plan")


def test_custom_spec_with_named_pattern_and_exception() -> None:
    spec = TopicSpec(
        name="competitors",
        keywords=("acme widgets", "globex"),
        patterns=(r"(?#compare_request)\bcompare (?:you|your \w+) (?:to|with)\b",),
        exceptions=("globex street",),
    )
    matcher = TopicMatcher([spec])
    assert matcher.match("Is Acme Widget better than you?") == [TopicHit("competitors", KEYWORD_WEIGHT, ("acme widgets",))]
    hit = matcher.match("Can you compare your prices with Globex?")[0]
    assert hit.evidence == ("globex", "compare_request")
    assert hit.score == pytest.approx(1 - (1 - 0.6) * (1 - 0.8), abs=1e-3)
    assert matcher.match("Our shop is on Globex Street.") == []


def test_min_score_filters_weak_hits() -> None:
    spec = TopicSpec(name="weather", keywords=("forecast",))
    assert TopicMatcher([spec], min_score=0.7).match("what's the forecast?") == []
    assert TopicMatcher([spec], min_score=0.5).match("what's the forecast?")


def test_bad_specs_are_rejected() -> None:
    with pytest.raises(ValueError):
        TopicMatcher([TopicSpec(name="empty", keywords=())])
    with pytest.raises(ValueError):
        TopicMatcher([TopicSpec(name="broken", keywords=(), patterns=("(unclosed",))])
    with pytest.raises(ValueError):
        TopicMatcher([builtin_topic("legal_advice"), builtin_topic("legal_advice")])
    with pytest.raises(KeyError):
        builtin_topic("astrology")


def test_resolve_mixes_names_and_specs() -> None:
    spec = TopicSpec(name="x", keywords=("xylophone",))
    assert resolve_topics(["legal_advice", spec]) == (BUILTIN_TOPICS["legal_advice"], spec)


def test_evidence_is_policy_text_not_user_text(builtins: TopicMatcher) -> None:
    hits = builtins.match("Plumbus question: which stocks should I buy, plumbus?")
    assert hits and all("plumbus" not in e.lower() for h in hits for e in h.evidence)
