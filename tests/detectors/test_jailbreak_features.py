"""The jailbreak feature table: well-formed, and importable without the detector."""

from __future__ import annotations

from proxy.detectors import jailbreak
from proxy.detectors.jailbreak_features import CASED_FEATURES, FEATURES, INDIRECT_FEATURES


def test_names_are_unique_and_triggers_are_tokens() -> None:
    every = FEATURES + CASED_FEATURES + INDIRECT_FEATURES
    assert len({f.name for f in every}) == len(every)
    for feat in every:
        assert feat.triggers, feat.name
        assert all(jailbreak.TOKEN.fullmatch(t) for t in feat.triggers if t.islower()), feat.name


def test_detector_reexports_the_table() -> None:
    assert jailbreak.FEATURES is FEATURES and jailbreak.CASED_FEATURES is CASED_FEATURES and jailbreak.INDIRECT_FEATURES is INDIRECT_FEATURES
