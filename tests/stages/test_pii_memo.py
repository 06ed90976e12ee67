"""ReplyMemo: bounded, least recently used forgotten first, only hashes of shown text kept."""

from __future__ import annotations

from proxy.privacy.pseudonyms import PseudonymVault
from proxy.stages.pii_memo import ReplyMemo

SCOPE = ("tenant", "user", "config")


def _vault() -> PseudonymVault:
    vault = PseudonymVault()
    vault.placeholder_for("PERSON", "Ann Lee")
    return vault


def test_remembers_the_model_text_and_the_placeholders_it_used() -> None:
    memo = ReplyMemo()
    vault = _vault()
    memo.remember(SCOPE, "Hi Ann Lee", "Hi <PERSON_1>", vault)
    assert memo.get(SCOPE, "Hi Ann Lee") == ("Hi <PERSON_1>", (("<PERSON_1>", "Ann Lee"),))
    assert memo.get(("other", "user", "config"), "Hi Ann Lee") is None
    assert ReplyMemo.confirm((("<PERSON_1>", "Ann Lee"),), vault)
    assert not ReplyMemo.confirm((("<PERSON_1>", "Bob"),), vault)


def test_bounded_least_recently_used_first() -> None:
    memo = ReplyMemo(size=2)
    vault = PseudonymVault()
    memo.remember(SCOPE, "a", "a", vault)
    memo.remember(SCOPE, "b", "b", vault)
    assert memo.get(SCOPE, "a") is not None  # a is now the most recently used
    memo.remember(SCOPE, "c", "c", vault)
    assert len(memo) == 2
    assert memo.get(SCOPE, "b") is None and memo.get(SCOPE, "a") is not None and memo.get(SCOPE, "c") is not None


def test_keys_hold_a_hash_not_the_text() -> None:
    key = ReplyMemo.key(SCOPE, "Hi Ann Lee")
    assert "Hi Ann Lee" not in key and len(key[-1]) == 32
