"""The output scan's two shortcuts give what the long way gives, for any text: the policy's one
``trigger`` search says a mirror matches exactly when one of the rules' mirrors does, and a prompt
leak check whose text's last word ends no run of the prompt holds what reading every word holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.checks.base import SpanCheck
from proxy.checks.output_rails import compile_output_rails
from proxy.policy import PolicyStore
from proxy.rails.text import OVERLAP_WORDS, word_cut, word_spans

ROOT = Path(__file__).resolve().parents[2]
POLICIES = PolicyStore(ROOT / "policies").current.policies
DEFAULT = compile_output_rails(POLICIES["default"])
LEAK = next(r for r in DEFAULT.rules if r.check == "system_prompt_leak")

PROMPT_WORDS = [w for w, _, _ in word_spans(POLICIES["default"].persona.system_prompt or "")]
PIECES = st.one_of(
    st.sampled_from(PROMPT_WORDS),
    st.sampled_from([w.capitalize() for w in PROMPT_WORDS]),
    st.sampled_from(["calm", "down", "as", "an", "AI", "language", "model", "my", "instructions", "are", "it's", "rock'n", "’", "'", "x1", "ünï"]),
    st.sampled_from([" ", "  ", ", ", ". ", "\n", "'", "’", "-", "(", ")", ""]),
)
TEXTS = st.lists(PIECES, max_size=16).map("".join)


def _hold_reading_every_word(check: SpanCheck, text: str) -> int:
    """``SpanCheck.hold_from`` as it read the prompt runs before the last-word shortcut."""
    start = len(text)
    if check.partial is not None:
        for m in check.partial.finditer(text, partial=True):
            if m.start() == m.end():
                continue
            if m.partial or len(text) - m.end() < max(check.tail, 1):
                start = min(start, m.start())
                break
    boundary = word_cut(text)
    words = [w for w in word_spans(text) if w[2] <= boundary]
    for k in range(min(OVERLAP_WORDS - 1, len(words)), 0, -1):
        if tuple(w for w, _, _ in words[-k:]) in check.prefixes:
            start = min(start, words[-k][1])
            break
    return start


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_the_last_word_shortcut_holds_what_reading_every_word_holds(text: str) -> None:
    assert LEAK.hold_from(text, False) == _hold_reading_every_word(LEAK, text)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_one_trigger_search_answers_for_every_mirror(text: str) -> None:
    for name, policy in POLICIES.items():
        rules = compile_output_rails(policy)
        if rules.trigger is None:
            continue
        expected = any(r.partial.search(text) is not None for r in rules.rules)
        assert (rules.trigger.search(text) is not None) == expected, name


def test_the_example_policies_have_a_trigger_unless_their_mirrors_differ_in_flags() -> None:
    found: dict[str, Any] = {name: compile_output_rails(p).trigger for name, p in POLICIES.items()}
    assert found["default"] is not None
    assert found["healthcare-intake"] is None  # pii_leak's mirror is case-sensitive, the phrases' are not
