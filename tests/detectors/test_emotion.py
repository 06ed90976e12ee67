"""The emotion detector: contract, feature parity, behaviour on clear cases, conversations.

Runs on the packaged artefact only (no ``../shared`` data needed).
"""

from __future__ import annotations

import math
import sys
import threading
import types
from collections.abc import Iterator

import numpy as np
import pytest

from proxy.detectors import emotion as emo
from proxy.detectors import emotion_cues
from proxy.detectors.emotion import (
    EKMAN,
    EMOTIONS,
    EmotionClassifier,
    EmotionReading,
    LinearEmotionClassifier,
    load_classifier,
    text_signals,
)
from proxy.detectors.emotion_conversation import ConversationEmotion, header_value, read_conversation


@pytest.fixture(scope="module")
def clf() -> LinearEmotionClassifier:
    return LinearEmotionClassifier.load()


# ----------------------------------------------------------------------------- contract

TEXTS = [
    "hello",
    "I've been waiting 3 weeks and still no refund",
    "this is the third time I'm asking!!!",
    "Wow, that is AMAZING, thank you",
    "\u2019\u00e9\u00e8 \U0001f600 ???",
    "x" * 5000,
]


@pytest.mark.parametrize("text", TEXTS)
def test_reading_contract(clf: LinearEmotionClassifier, text: str) -> None:
    r = clf.classify(text)
    assert set(r.probabilities) == set(EMOTIONS)
    assert set(r.ekman) == set(EKMAN)
    assert math.isclose(sum(r.probabilities.values()), 1.0, abs_tol=1e-6)
    assert math.isclose(sum(r.ekman.values()), 1.0, abs_tol=1e-6)
    assert all(0.0 <= p <= 1.0 for p in r.probabilities.values())
    assert r.label == max(r.probabilities, key=r.probabilities.__getitem__)
    assert 0.0 <= r.intensity <= 1.0
    assert isinstance(r.distress, bool)
    assert isinstance(clf, EmotionClassifier)


def test_deterministic_and_thread_safe(clf: LinearEmotionClassifier) -> None:
    expected = [clf.classify(t) for t in TEXTS]
    assert [clf.classify(t) for t in TEXTS] == expected
    again = LinearEmotionClassifier.load()
    assert [again.classify(t) for t in TEXTS] == expected
    results: list[list[EmotionReading]] = []

    def work() -> None:
        results.append([clf.classify(t) for t in TEXTS * 5])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(res == expected * 5 for res in results)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_is_neutral(clf: LinearEmotionClassifier, text: str) -> None:
    r = clf.classify(text)
    assert r.label == "neutral"
    assert r.intensity == 0.0
    assert not r.distress
    assert r.probabilities["neutral"] == 1.0


def test_reading_is_immutable(clf: LinearEmotionClassifier) -> None:
    r = clf.classify("thanks")
    with pytest.raises(TypeError):
        r.probabilities["joy"] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        r.label = "joy"  # type: ignore[misc]


# ----------------------------------------------------------------------------- features


def test_training_features_equal_runtime_features(clf: LinearEmotionClassifier) -> None:
    """The training script's matrix rows are exactly what the runtime computes per text."""
    pytest.importorskip("scipy")
    from training.train_emotion import featurize_corpus

    texts = ["I'm NOT happy at all!!!", "thank you so much", "why?? it STILL doesn't work", "ok"]
    matrix = featurize_corpus(texts, clf.config)
    for row, text in enumerate(texts):
        idx, val = emo.featurize(text, emo.text_signals(text, emo.vader_compound(text)), clf.config)
        dense = np.zeros(clf.config.n_features)
        np.add.at(dense, idx, val)
        assert np.allclose(matrix[row].toarray().ravel(), dense)
        # and the runtime logits are the quantised weights applied to that row
        sig = emo.text_signals(text, emo.vader_compound(text))
        w = clf._weights.astype(np.float64) * clf._scales
        assert np.allclose(matrix[row] @ w + clf._bias, clf.logits(text, sig), atol=1e-4)


def test_hashing_matches_the_artefact_fingerprint(clf: LinearEmotionClassifier) -> None:
    """Indices recorded at training time: a changed tokenizer or hash breaks this, not silence."""
    probes = clf.metadata["probes"]
    assert probes
    for text, indices in probes.items():
        sig = emo.text_signals(text, emo.vader_compound(text))
        assert emo.featurize(text, sig, clf.config)[0] == indices


def test_negation_scope() -> None:
    toks = emo._tokens("i'm not happy at all. great")
    flags = emo._negation_flags(toks)
    assert dict(zip(toks, flags, strict=True)) == {
        "i'm": False, "not": False, "happy": True, "at": True, "all": True, ".": False, "great": False,
    }
    assert "cue:joy:neg" in emo.text_signals("I'm not happy", 0.0).cues
    assert "cue:joy" in emo.text_signals("I'm happy", 0.0).cues


# ----------------------------------------------------------------------------- behaviour


def test_negation(clf: LinearEmotionClassifier) -> None:
    not_happy = clf.classify("I'm not happy at all")
    assert not_happy.label != "joy"
    assert not_happy.probabilities["joy"] < clf.classify("I'm happy").probabilities["joy"]
    assert clf.classify("not bad").label != "anger"


def test_emphasis_raises_intensity(clf: LinearEmotionClassifier) -> None:
    loud = clf.classify("it STILL doesn't work!!!")
    calm = clf.classify("it doesn't work")
    assert loud.intensity > calm.intensity
    assert loud.label in ("frustration", "anger")


@pytest.mark.parametrize(("text", "label"), [
    ("thank you so much, that fixed it", "gratitude"),
    ("I don't understand what this means, which button?", "confusion"),
    ("I'm really worried the payment went through twice", "anxiety"),
    ("This is the third time I'm asking and it still doesn't work", "frustration"),
    ("My dog died yesterday and I miss him so much", "sadness"),
])
def test_obvious_cases(clf: LinearEmotionClassifier, text: str, label: str) -> None:
    assert clf.classify(text).label == label


@pytest.mark.parametrize("text", [
    "Great, another update that broke everything. Thanks a lot.",
    "Perfect. Now nothing works at all.",
    "Oh wonderful, my order never arrived. Again.",
])
def test_sarcastic_praise_around_a_failure_reads_as_frustration(clf: LinearEmotionClassifier, text: str) -> None:
    reading = clf.classify(text)
    assert reading.label == "frustration", reading.probabilities
    assert "sarcasm" in text_signals(text, 0.0).phrases


@pytest.mark.parametrize("text", [
    "Great, that fixed it, thanks!",
    "Thanks a lot! The app crashed yesterday but it works now.",
    "Perfect, the account I lost is restored.",
])
def test_praise_for_a_fix_stays_gratitude_or_joy(clf: LinearEmotionClassifier, text: str) -> None:
    assert "sarcasm" not in text_signals(text, 0.0).phrases
    # "the account I lost" reads as sadness since the header's families come from the Ekman head
    # (a known miss, docs/emotion-model.md); what matters here is that no frustration is read
    allowed = ("gratitude", "joy", "sadness") if "lost" in text else ("gratitude", "joy")
    assert clf.classify(text).label in allowed


@pytest.mark.parametrize("text", ["can you just answer the question", "This is the second time I call about it"])
def test_prior_only_phrases_move_the_reading_not_the_features(clf: LinearEmotionClassifier, text: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """PRIOR_PHRASES raise frustration but are never model features (the model was not trained on them)."""
    sig = text_signals(text, 0.0)
    assert "frustration" in sig.phrases
    assert not any(c.startswith("phrase:") for c in sig.cues), sig.cues
    with_prior = clf.classify(text).probabilities["frustration"]
    monkeypatch.setattr(emotion_cues, "PRIOR_PHRASES", {})
    assert "frustration" not in text_signals(text, 0.0).phrases
    assert with_prior > clf.classify(text).probabilities["frustration"]


@pytest.mark.parametrize("text", [
    "I want to kill myself",
    "honestly I don't want to live anymore",
    "I've been thinking about ending it all",
])
def test_crisis_language_is_distress(clf: LinearEmotionClassifier, text: str) -> None:
    assert clf.classify(text).distress


@pytest.mark.parametrize("text", ["this printer is killing me lol", "thanks, all good now"])
def test_no_distress_on_ordinary_text(clf: LinearEmotionClassifier, text: str) -> None:
    assert not clf.classify(text).distress


# ----------------------------------------------------------------------------- conversations

RISING = ["Hi, my order hasn't arrived yet, can you check?",
          "It's been two weeks, I'm getting annoyed.",
          "This is the THIRD time I'm asking. Still nothing!!! Ridiculous."]
FALLING = list(reversed(RISING[:2])) + ["Oh it just arrived, thank you so much!"]
STEADY = ["Can you tell me the opening hours?", "And the address of the shop?", "Is there parking?"]


def test_trajectory(clf: LinearEmotionClassifier) -> None:
    rising = read_conversation(clf, RISING)
    assert rising.trend == "rising"
    assert rising.current == rising.turns[-1]
    assert len(rising.turns) == 3
    assert read_conversation(clf, FALLING).trend == "falling"
    assert read_conversation(clf, STEADY).trend == "steady"
    assert read_conversation(clf, ["hello"]).trend == "steady"


def test_window_limits_the_trend(clf: LinearEmotionClassifier) -> None:
    turns = RISING + STEADY[:1] * 4
    assert read_conversation(clf, turns, window=2).trend == "steady"


def test_sentiment_shift_sign(clf: LinearEmotionClassifier) -> None:
    # VADER's compound score, as specified: it misses support-style frustration ("still nothing"),
    # which is why the trend comes from the model, not from this number.
    souring = ["Thanks, this looks great!", "It's broken again and I am really angry."]
    assert read_conversation(clf, souring).sentiment_shift < 0
    assert read_conversation(clf, list(reversed(souring))).sentiment_shift > 0
    assert read_conversation(clf, FALLING).sentiment_shift > 0
    assert read_conversation(clf, ["same", "same"]).sentiment_shift == 0
    assert -2 <= read_conversation(clf, ["I love it!!!", "I hate this!!!"]).sentiment_shift <= 2


def test_conversation_distress(clf: LinearEmotionClassifier) -> None:
    assert read_conversation(clf, ["where is my order", "I want to kill myself"]).distress
    assert not read_conversation(clf, STEADY).distress


def test_header_value(clf: LinearEmotionClassifier) -> None:
    conv = read_conversation(clf, RISING)
    value = header_value(conv)
    assert value == (f"{conv.current.label}; intensity={conv.current.intensity:.2f}; "
                     f"frustration={conv.frustration:.2f}; trend=rising")
    crisis = read_conversation(clf, ["I want to end my life"])
    assert header_value(crisis).endswith("; distress")
    fixed = ConversationEmotion((emo.neutral_reading(),), emo.neutral_reading(), "steady", 0.0, False)
    assert header_value(fixed) == "neutral; intensity=0.00; frustration=0.00; trend=steady"


# ----------------------------------------------------------------------------- plug-ins


class _AlwaysJoy:
    name = "always-joy"

    def classify(self, text: str) -> EmotionReading:
        probs = {e: (1.0 if e == "joy" else 0.0) for e in EMOTIONS}
        ekman = {e: (1.0 if e == "joy" else 0.0) for e in EKMAN}
        return EmotionReading("joy", probs, 0.5, False, ekman)


@pytest.fixture
def plugin_module() -> Iterator[str]:
    module = types.ModuleType("bedside_test_emotion_plugin")
    module.make = _AlwaysJoy  # type: ignore[attr-defined]
    module.not_a_classifier = lambda: object()  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


def test_load_classifier_builtin() -> None:
    assert isinstance(load_classifier(None), LinearEmotionClassifier)
    assert isinstance(load_classifier("builtin"), LinearEmotionClassifier)


def test_load_classifier_plugin(plugin_module: str) -> None:
    plugged = load_classifier(f"{plugin_module}:make")
    assert plugged.name == "always-joy"
    assert read_conversation(plugged, ["whatever"]).current.label == "joy"
    with pytest.raises(TypeError):
        load_classifier(f"{plugin_module}:not_a_classifier")
    with pytest.raises(ValueError):
        load_classifier("no_colon_here")
    with pytest.raises(AttributeError):
        load_classifier(f"{plugin_module}:missing")


@pytest.mark.parametrize("text", ["What time does the store open?", "What are your opening hours on Saturday?"])
def test_a_plain_question_reads_calm(clf: LinearEmotionClassifier, text: str) -> None:
    """GoEmotions' Ekman ``surprise`` holds curiosity, so the header may read a plain question as
    confusion; it stays below the intensity (0.55) the default policy's slow-down rule needs."""
    reading = clf.classify(text)
    assert reading.label in {"neutral", "confusion"}
    assert reading.intensity < 0.55
