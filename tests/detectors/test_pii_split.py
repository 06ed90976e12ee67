"""The split-card finder's cheap prechecks never skip a pair the anchored searches would match."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.detectors import pii_split
from proxy.detectors.pii_split import may_end_in_digits, may_start_with_digits, numbers_split_across

#: digits (ASCII, Arabic-Indic, superscript), separators the patterns allow, words and punctuation
_ALPHABET = "0123456789 -.\n,;:!?)(\"'xyzAB_é٣²"
texts = st.text(alphabet=_ALPHABET, max_size=60)


def _searched_only(chunks: list[str]) -> dict[int, list[tuple[str, int, int]]]:
    """The finder as it was before the prechecks: both searches on every pair."""
    found: dict[int, list[tuple[str, int, int]]] = {}
    for i in range(len(chunks) - 1):
        tail = pii_split._TAIL_DIGITS.search(chunks[i])
        head = pii_split._HEAD_DIGITS.search(chunks[i + 1])
        if tail is None or head is None:
            continue
        left = "".join(c for c in tail.group(1) if c.isdigit())
        right = "".join(c for c in head.group(1) if c.isdigit())
        joined = left + right
        if len(left) >= 4 and len(right) >= 4 and 13 <= len(joined) <= 19 and pii_split.luhn_valid(joined) and not (len(left) >= 13 and pii_split.luhn_valid(left)):
            found.setdefault(i, []).append(("CREDIT_CARD", tail.start(1), tail.end(1)))
            found.setdefault(i + 1, []).append(("CREDIT_CARD", head.start(1), head.end(1)))
    return found


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_the_tail_precheck_holds_whenever_the_search_matches(text: str) -> None:
    if pii_split._TAIL_DIGITS.search(text) is not None:
        assert may_end_in_digits(text)


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_the_head_precheck_holds_whenever_the_search_matches(text: str) -> None:
    if pii_split._HEAD_DIGITS.search(text) is not None:
        assert may_start_with_digits(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(texts, st.sampled_from(["my card is 4111 1111", "1111 1111 thanks", "then 4111 1111.", "1111 1111"])), max_size=5))
def test_the_finder_answers_as_the_searches_alone(chunks: list[str]) -> None:
    assert numbers_split_across(chunks) == _searched_only(chunks)


def test_a_card_split_over_two_turns_is_still_found() -> None:
    found = numbers_split_across(["my card is 4111 1111", "1111 1111 is the rest", "Thanks."])
    assert found == {0: [("CREDIT_CARD", 11, 20)], 1: [("CREDIT_CARD", 0, 9)]}


def test_turns_ending_in_words_are_skipped_without_a_search() -> None:
    assert not may_end_in_digits("It was supposed to arrive on Monday.")
    assert not may_end_in_digits("order 12 x")
    assert may_end_in_digits("order 4111 1111)?!")
    assert not may_end_in_digits("order 4111 1111 )?!")  # four characters after the last digit
    assert not may_start_with_digits("x" * 31 + "4111 1111")
