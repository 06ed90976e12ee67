"""The calibrated frustration score, the conversation memo and the generated support conversations.

Runs on the packaged artefacts and the generator in ``training/`` (no ``../shared`` data needed).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from proxy.detectors.emotion import EmotionReading, LinearEmotionClassifier
from proxy.detectors.emotion_conversation import header_value, prior_from_state, prior_state, read_conversation
from proxy.detectors.emotion_frustration import FEATURES, TURN_FEATURES, FrustrationModel
from proxy.detectors.emotion_memo import ConversationMemo, chain_keys
from proxy.policy.sections.tone import Tone
from proxy.stages.tone import select_rules
from training.support_conversations import SEEDS, conversations
from training.support_templates import SPLITS


@pytest.fixture(scope="module")
def clf() -> LinearEmotionClassifier:
    return LinearEmotionClassifier.load()


class CountingClassifier:
    """A plug-in classifier (the ``EmotionClassifier`` protocol) that counts the texts it reads."""

    def __init__(self, inner: LinearEmotionClassifier) -> None:
        self.inner = inner
        self.name = "counting"
        self.read: list[str] = []

    def classify(self, text: str) -> EmotionReading:
        self.read.append(text)
        return self.inner.classify(text)


def _score(clf: LinearEmotionClassifier, *turns: str) -> float:
    return read_conversation(clf, list(turns)).frustration


# ----------------------------------------------------------------------------- the score


def test_header_carries_frustration_whatever_the_label(clf: LinearEmotionClassifier) -> None:
    conv = read_conversation(clf, ["Where is my refund?", "THIRD time asking, where is my REFUND?!!"])
    value = header_value(conv)
    assert f"frustration={conv.frustration:.2f}" in value
    assert conv.current.label not in ("frustration", "anger") or conv.frustration > 0
    assert conv.frustration >= 0.6
    assert len(conv.frustrations) == 2 and conv.frustrations[-1] == conv.frustration


def test_cues_raise_the_score(clf: LinearEmotionClassifier) -> None:
    calm = _score(clf, "where is my refund")
    waiting = _score(clf, "I've been waiting 3 weeks for my refund")
    shouting = _score(clf, "THIRD time asking, where is my REFUND?!!")
    assert calm < waiting < shouting


def test_a_repeated_ask_raises_the_score(clf: LinearEmotionClassifier) -> None:
    repeated = _score(clf, "Hi, where is my parcel?", "Hi, where is my parcel?")
    fresh = _score(clf, "Can I change my address?", "Hi, where is my parcel?")
    assert repeated > fresh


def test_a_resolution_and_politeness_read_calm(clf: LinearEmotionClassifier) -> None:
    assert _score(clf, "My app keeps crashing.", "thanks, that fixed it") < 0.2
    assert _score(clf, "Could you tell me your opening hours please?") < 0.25


def test_sarcasm_around_a_failure_reads_frustrated(clf: LinearEmotionClassifier) -> None:
    assert _score(clf, "Oh great, the app crashed again and deleted my notes. Love it.") >= 0.6


def test_the_calibration_is_monotone_and_bounded() -> None:
    model = FrustrationModel.load()
    xs = [x / 10 for x in range(-20, 21)]
    values = [model.calibrate(x) for x in xs]
    assert values == sorted(values)
    assert all(0.0 <= v <= 1.0 for v in values)
    meta = model.metadata
    assert meta["turn"]["features"] == list(TURN_FEATURES) and meta["conversation"]["features"] == list(FEATURES)


def test_a_model_fitted_on_other_features_is_refused() -> None:
    meta = json.loads(json.dumps(FrustrationModel.load().metadata))
    meta["conversation"]["features"] = meta["conversation"]["features"][:-1]
    with pytest.raises(ValueError, match="retrain"):
        FrustrationModel(meta)


# ----------------------------------------------------------------------------- the memo


def test_a_turn_already_read_is_not_read_again(clf: LinearEmotionClassifier) -> None:
    turns = ["My order hasn't arrived.", "It's been a week.", "Still nothing!", "This is ridiculous.", "Hello??"]
    counting, memo = CountingClassifier(clf), ConversationMemo()
    for k in range(1, len(turns) + 1):
        read_conversation(counting, turns[:k], memo=memo)
    assert counting.read == turns  # each turn read once, although the history was resent 5 times
    cold = read_conversation(clf, turns)
    warm = read_conversation(counting, turns, memo=memo)
    assert counting.read == turns
    assert warm.frustrations == cold.frustrations and warm.trend == cold.trend
    assert warm.current == cold.current and warm.sentiment_shift == cold.sentiment_shift


def test_one_user_is_never_answered_from_another_users_readings(clf: LinearEmotionClassifier) -> None:
    """The memo is scoped (the stage passes tenant and user): the same conversation from another
    user is read afresh, so a fast answer cannot tell anyone what someone else wrote."""
    turns = ["My order hasn't arrived.", "It's been a week."]
    counting, memo = CountingClassifier(clf), ConversationMemo()
    read_conversation(counting, turns, memo=memo, scope="acme\0alice")
    read_conversation(counting, turns, memo=memo, scope="acme\0alice")
    assert counting.read == turns  # the same user: remembered
    read_conversation(counting, turns, memo=memo, scope="acme\0bob")
    read_conversation(counting, turns, memo=memo, scope="other\0alice")
    assert counting.read == turns * 3  # another user, another tenant: read again


def test_the_memo_key_is_the_turn_with_its_history(clf: LinearEmotionClassifier) -> None:
    memo = ConversationMemo()
    a = read_conversation(clf, ["Hi, where is my parcel?", "Hi, where is my parcel?"], memo=memo)
    b = read_conversation(clf, ["Can I change my address?", "Hi, where is my parcel?"], memo=memo)
    assert a.frustration != b.frustration
    assert chain_keys("x", ["a", "b"])[1] != chain_keys("x", ["b", "b"])[1]
    assert chain_keys("x", ["a"]) != chain_keys("y", ["a"])


def test_the_memo_is_bounded(clf: LinearEmotionClassifier) -> None:
    memo = ConversationMemo(size=3)
    for i in range(10):
        read_conversation(clf, [f"order {i} is late"], memo=memo)
    assert len(memo) == 3


def test_prior_turns_keep_their_frustration(clf: LinearEmotionClassifier) -> None:
    first = read_conversation(clf, ["My parcel is late.", "Still nothing after two weeks!!"])
    prior = prior_from_state(json.loads(json.dumps(prior_state(first))))
    assert prior.frustrations == pytest.approx(first.frustrations, abs=1e-4)
    later = read_conversation(clf, ["This is the third time I ask."], prior=prior)
    assert later.frustrations[:2] == pytest.approx(first.frustrations, abs=1e-4)
    assert len(later.turns) == 3


# ----------------------------------------------------------------------------- tone conditions


def _tone(**when: Any) -> Tone:
    return Tone.model_validate({"enabled": True, "rules": [{"name": "r", "when": when, "say": "x"}]})


def test_a_rule_on_the_frustration_range(clf: LinearEmotionClassifier) -> None:
    hot = read_conversation(clf, ["This is the THIRD time I'm asking. My refund STILL hasn't arrived!!!"])
    calm = read_conversation(clf, ["Could you tell me your opening hours please?"])
    rule = _tone(frustration={"min": 0.6})
    assert [r.name for r in select_rules(rule, hot)[0]] == ["r"]
    assert select_rules(rule, calm)[0] == []
    below = _tone(frustration={"max": 0.3})
    assert select_rules(below, hot)[0] == [] and len(select_rules(below, calm)[0]) == 1
    both = _tone(emotion=["joy"], frustration={"min": 0.6})
    assert select_rules(both, hot)[0] == []


# ----------------------------------------------------------------------------- the generated data


def test_the_generator_is_deterministic_and_graded() -> None:
    a, b = list(conversations("train", 20)), list(conversations("train", 20))
    assert a == b
    grades = [m["frustration"] for conv in a for m in conv["messages"] if m["role"] == "user"]
    assert set(grades) <= {0, 1, 2, 3, 4} and len(set(grades)) >= 4
    assert all(1 <= sum(m["role"] == "user" for m in c["messages"]) <= 6 for c in a)
    assert SEEDS["train"] != SEEDS["held_out"]


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for k, v in value.items() if k != "habits")) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def test_the_held_out_split_shares_no_template_or_domain() -> None:
    train, held = _strings(SPLITS["train"]), _strings(SPLITS["held_out"])
    assert train & held == set()
    assert {d["name"] for d in SPLITS["train"]["domains"]}.isdisjoint(d["name"] for d in SPLITS["held_out"]["domains"])


def test_frustration_ranks_held_out_turns(clf: LinearEmotionClassifier) -> None:
    """The target (Spearman >= 0.5) on the held-out split, which no fitting step saw."""
    from scipy.stats import spearmanr

    scores, grades = [], []
    for conv in conversations("held_out", 60):
        seen: list[str] = []
        for m in conv["messages"]:
            if m["role"] == "user":
                seen.append(m["content"])
                scores.append(read_conversation(clf, seen).frustration)
                grades.append(m["frustration"])
    assert spearmanr(scores, grades).statistic >= 0.5


def test_frustration_rising_turn_after_turn_escalates(clf: LinearEmotionClassifier) -> None:
    tone = Tone.model_validate({"enabled": True, "escalation": {"enabled": True, "min_turns": 3}})
    rising = read_conversation(clf, ["My order hasn't arrived.", "I already gave you the number yesterday. It still hasn't arrived.",
                                     "This is the THIRD time I'm asking and it STILL isn't here!!! Useless."])
    assert rising.frustrations[0] < rising.frustrations[1] < rising.frustrations[2]
    assert select_rules(tone, rising)[1] is True
    calm = read_conversation(clf, ["My order hasn't arrived.", "Ok, thanks.", "Could you tell me when it ships please?"])
    assert select_rules(tone, calm)[1] is False


def test_a_high_score_labels_the_turn_frustration(clf: LinearEmotionClassifier) -> None:
    from proxy.detectors.emotion_conversation import FRUSTRATION_LABEL_MIN

    words_only = clf.classify("this is the THIRD time I'm asking!!!")
    conv = read_conversation(clf, ["where is my order?", "this is the THIRD time I'm asking!!!"])
    assert conv.frustration >= FRUSTRATION_LABEL_MIN
    assert conv.current.label == "frustration" and conv.turns[-1] == conv.current
    assert conv.current.intensity >= max(words_only.intensity, conv.frustration) - 1e-4
    calm = read_conversation(clf, ["Could you tell me your opening hours please?"])
    assert calm.current == clf.classify("Could you tell me your opening hours please?")
