"""Bedside's style-matched training data for the harmful-request model: every phrasing style carries
harmful and benign tasks alike, so style alone cannot predict the label."""

from __future__ import annotations

from training.harm_generators import STYLES, styled_requests


def _style_of(text: str) -> str | None:
    for style in STYLES:
        head, _, tail = style.partition("{t}")
        if text.startswith(head) and text.endswith(tail):
            return style
    return None


def test_styles_are_shared_by_both_labels() -> None:
    harmful, benign = styled_requests()
    styles_h = {_style_of(r.text) for r in harmful} - {None}
    styles_b = {_style_of(r.text) for r in benign} - {None}
    assert len(styles_h) >= 0.9 * len(STYLES) and len(styles_b) >= 0.9 * len(STYLES)
    assert len(styles_h & styles_b) >= 0.9 * len(STYLES)


def test_rows_are_labelled_deterministic_and_distinct() -> None:
    harmful, benign = styled_requests()
    assert all(r.label == 1 and r.category for r in harmful) and all(r.label == 0 and not r.category for r in benign)
    assert {r.source for r in harmful} == {"own_styled_harmful"} and {r.source for r in benign} == {"own_styled_benign"}
    texts = [r.text for r in harmful + benign]
    assert len(texts) == len(set(texts))
    assert [r.text for r in styled_requests()[0]] == [r.text for r in harmful]
    assert 0.7 < len(benign) / len(harmful) < 1.3  # neither label dominates
