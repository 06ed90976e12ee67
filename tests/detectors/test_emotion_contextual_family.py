"""The contextual reader's header label: blend with the default reader, then the family step (the
Ekman head decides the family, the Bedside head splits it), then the support-phrase priors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from proxy.detectors import emotion as emo
from proxy.detectors.emotion_contextual import combine, cue_offsets
from proxy.detectors.emotion_contextual_build import artefact_files

NO_CUES = np.zeros(len(emo.EMOTIONS))


def _dist(labels: tuple[str, ...], **mass: float) -> np.ndarray:
    p = np.array([mass.get(k, 0.01) for k in labels], dtype=np.float64)
    return p / p.sum()


def test_without_the_family_step_the_bedside_head_decides() -> None:
    bedside = _dist(emo.EMOTIONS, neutral=0.6, sadness=0.3)
    ekman = _dist(emo.EKMAN, sadness=0.9)
    out, ek = combine(bedside, ekman, NO_CUES, None, 0.0, None)
    assert emo.EMOTIONS[int(np.argmax(out))] == "neutral"
    assert np.allclose(ek, ekman)


def test_the_family_step_lets_the_ekman_head_decide_the_family() -> None:
    bedside = _dist(emo.EMOTIONS, neutral=0.6, sadness=0.3)
    out, _ = combine(bedside, _dist(emo.EKMAN, sadness=0.9), NO_CUES, None, 0.0, 0.25)
    assert emo.EMOTIONS[int(np.argmax(out))] == "sadness"
    assert abs(out.sum() - 1.0) < 1e-9


def test_the_bedside_head_splits_a_family() -> None:
    ekman = _dist(emo.EKMAN, joy=0.9)
    thanks, _ = combine(_dist(emo.EMOTIONS, gratitude=0.5, joy=0.2), ekman, NO_CUES, None, 0.0, 0.25)
    happy, _ = combine(_dist(emo.EMOTIONS, gratitude=0.2, joy=0.5), ekman, NO_CUES, None, 0.0, 0.25)
    assert emo.EMOTIONS[int(np.argmax(thanks))] == "gratitude"
    assert emo.EMOTIONS[int(np.argmax(happy))] == "joy"


def test_the_default_reading_is_blended_into_both_heads() -> None:
    default = emo.EmotionReading("anger", emo._frozen(emo.EMOTIONS, _dist(emo.EMOTIONS, anger=0.9)), 0.8, False,
                                 emo._frozen(emo.EKMAN, _dist(emo.EKMAN, anger=0.9)))
    bedside, ekman = _dist(emo.EMOTIONS, neutral=0.9), _dist(emo.EKMAN, neutral=0.9)
    alone, _ = combine(bedside, ekman, NO_CUES, default, 0.0, 0.25)
    mixed, ek = combine(bedside, ekman, NO_CUES, default, 0.6, 0.25)
    anger = emo.EMOTIONS.index("anger")
    assert mixed[anger] > alone[anger]
    assert ek[emo.EKMAN.index("anger")] > ekman[emo.EKMAN.index("anger")]


def test_support_phrase_priors_still_shift_the_reading() -> None:
    sig = emo.text_signals("this is the third time I'm asking", emo.vader_compound("this is the third time I'm asking"))
    offsets = cue_offsets(sig.phrases)
    assert offsets.any()
    flat = np.full(len(emo.EMOTIONS), 1 / len(emo.EMOTIONS))
    ekman = np.full(len(emo.EKMAN), 1 / len(emo.EKMAN))
    out, _ = combine(flat, ekman, offsets, None, 0.0, 0.25)
    assert out[emo.EMOTIONS.index("frustration")] > out[emo.EMOTIONS.index("joy")]


@pytest.mark.parametrize("beta", [0.0, 0.25, 0.5, 0.75])
def test_bedside_from_families_accepts_a_prior_beta(beta: float) -> None:
    out = emo.bedside_from_families(_dist(emo.EKMAN, surprise=0.3, neutral=0.5), _dist(emo.EMOTIONS, neutral=0.5))
    other = emo.bedside_from_families(_dist(emo.EKMAN, surprise=0.3, neutral=0.5), _dist(emo.EMOTIONS, neutral=0.5), beta)
    assert abs(other.sum() - 1.0) < 1e-9
    assert np.allclose(out, other) == (beta == emo.FAMILY_PRIOR_BETA)


def test_the_shipped_choice_was_made_on_the_held_out_slice_of_train() -> None:
    from training.choose_contextual_blend import MAX_DEFAULT_WEIGHT, choose

    meta = json.loads(artefact_files()[1].read_text())
    blend = meta["blend"]
    assert blend["chosen_on"].startswith("held-out slice of train")
    key = f"{blend['default_reader_weight']:.1f}/" + (f"{blend['family_prior_beta']:.2f}" if blend["family_step"] else "off")
    allowed = [v["top_label_balanced_ekman6"] for k, v in blend["grid"].items()
               if float(k.split("/")[0]) <= MAX_DEFAULT_WEIGHT]
    assert blend["grid"][key]["top_label_balanced_ekman6"] == max(allowed)
    assert choose(blend["grid"], MAX_DEFAULT_WEIGHT) == (blend["default_reader_weight"], blend["family_prior_beta"])


def test_the_choice_rule_caps_the_default_readers_weight() -> None:
    from training.choose_contextual_blend import choose

    grid = {"0.0/off": {"top_label_balanced_ekman6": 0.60}, "0.0/0.25": {"top_label_balanced_ekman6": 0.70},
            "0.3/0.50": {"top_label_balanced_ekman6": 0.71}, "0.4/0.50": {"top_label_balanced_ekman6": 0.71}}
    assert choose(grid, 0.0) == (0.0, 0.25)
    assert choose(grid, 0.8) == (0.3, 0.5)  # a tie goes to the smaller weight

