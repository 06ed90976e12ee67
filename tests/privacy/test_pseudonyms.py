"""Redaction actions, stable pseudonyms across turns, the vault store, restore and streaming splits."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.detectors.pii import PiiSpan
from proxy.privacy.pseudonyms import (
    PLACEHOLDER_MAX_LEN,
    PLACEHOLDER_RE,
    PseudonymVault,
    issued_in,
    partial_placeholder_suffix_len,
    redact,
    restore,
)

KEY = b"test-hash-key"
TEXT = "Ines Calloway <ines.c@example.com> paid with 4111 1111 1111 1111."
SPANS = (
    PiiSpan("PERSON", 0, 13, 0.9),
    PiiSpan("EMAIL_ADDRESS", 15, 33, 1.0),
    PiiSpan("CREDIT_CARD", 45, 64, 1.0),
)


def test_pseudonymize_is_the_default() -> None:
    vault = PseudonymVault()
    out = redact(TEXT, SPANS, {}, vault, hash_key=KEY)
    assert out.text == "<PERSON_1> <<EMAIL_ADDRESS_1>> paid with <CREDIT_CARD_1>."
    assert dict(out.counts) == {"PERSON": 1, "EMAIL_ADDRESS": 1, "CREDIT_CARD": 1}


def test_mask_drop_allow() -> None:
    actions = {"PERSON": "allow", "EMAIL_ADDRESS": "mask", "CREDIT_CARD": "drop"}
    out = redact(TEXT, SPANS, actions, PseudonymVault(), hash_key=KEY)  # type: ignore[arg-type]
    assert out.text == "Ines Calloway <<EMAIL_ADDRESS>> paid with ."
    assert dict(out.counts) == {"EMAIL_ADDRESS": 1, "CREDIT_CARD": 1}


def test_hash_is_keyed_and_stable() -> None:
    spans = (PiiSpan("EMAIL_ADDRESS", 0, 18, 1.0),)
    a = redact("ines.c@example.com", spans, {"EMAIL_ADDRESS": "hash"}, PseudonymVault(), hash_key=KEY)
    b = redact("INES.C@example.com", spans, {"EMAIL_ADDRESS": "hash"}, PseudonymVault(), hash_key=KEY)
    c = redact("ines.c@example.com", spans, {"EMAIL_ADDRESS": "hash"}, PseudonymVault(), hash_key=b"other")
    assert re.fullmatch(r"<EMAIL_ADDRESS:[0-9a-f]{8}>", a.text)
    assert a.text == b.text != c.text


def test_unknown_action_fails_closed() -> None:
    with pytest.raises(ValueError):
        redact(TEXT, SPANS, {"PERSON": "shout"}, PseudonymVault(), hash_key=KEY)  # type: ignore[dict-item]


def test_span_outside_text_fails_closed() -> None:
    with pytest.raises(ValueError):
        redact("short", (PiiSpan("PERSON", 2, 40, 0.9),), {}, PseudonymVault(), hash_key=KEY)


def test_overlapping_spans_are_merged() -> None:
    text = "Ring Pia Lund at 555-777-1212 now"
    spans = (PiiSpan("PERSON", 5, 13, 0.85), PiiSpan("LOCATION", 9, 13, 0.6), PiiSpan("PHONE_NUMBER", 17, 29, 0.7))
    out = redact(text, spans, {}, PseudonymVault(), hash_key=KEY)
    assert out.text == "Ring <PERSON_1> at <PHONE_NUMBER_1> now"
    assert dict(out.counts) == {"PERSON": 1, "PHONE_NUMBER": 1}


def test_numbering_follows_first_appearance_per_type() -> None:
    vault = PseudonymVault()
    turn1 = "Ada Brook and Cy Moss"
    r1 = redact(turn1, (PiiSpan("PERSON", 0, 9, 0.9), PiiSpan("PERSON", 14, 21, 0.9)), {}, vault, hash_key=KEY)
    turn2 = "Cy Moss wrote to ada@example.com; Ada Brook agreed"
    spans2 = (PiiSpan("PERSON", 0, 7, 0.9), PiiSpan("EMAIL_ADDRESS", 17, 32, 1.0), PiiSpan("PERSON", 34, 43, 0.9))
    r2 = redact(turn2, spans2, {}, vault, hash_key=KEY)
    assert r1.text == "<PERSON_1> and <PERSON_2>"
    assert r2.text == "<PERSON_2> wrote to <EMAIL_ADDRESS_1>; <PERSON_1> agreed"
    other = redact(turn1, (PiiSpan("PERSON", 14, 21, 0.9),), {}, PseudonymVault(), hash_key=KEY)
    assert other.text == "Ada Brook and <PERSON_1>"


def test_issued_in_lists_the_vaults_placeholders_a_text_uses() -> None:
    vault = PseudonymVault()
    vault.placeholder_for("PERSON", "Ada Brook")
    vault.placeholder_for("EMAIL_ADDRESS", "ada@example.com")
    assert issued_in("Hi [ PERSON 1 ], mail <EMAIL_ADDRESS_1>, not <PERSON_2> or FOO_1", vault) == (("<PERSON_1>", "Ada Brook"), ("<EMAIL_ADDRESS_1>", "ada@example.com"))
    assert issued_in("nothing", PseudonymVault()) == ()


def test_value_normalisation() -> None:
    vault = PseudonymVault()
    assert vault.placeholder_for("EMAIL_ADDRESS", "Ines.C@Example.com") == vault.placeholder_for("EMAIL_ADDRESS", " ines.c@example.com ")
    assert vault.placeholder_for("CREDIT_CARD", "4111 1111 1111 1111") == vault.placeholder_for("CREDIT_CARD", "4111-1111-1111-1111")
    assert vault.placeholder_for("PERSON", "Ines  Calloway") == vault.placeholder_for("PERSON", "Ines Calloway")
    assert vault.placeholder_for("PERSON", "ines calloway") == "<PERSON_2>"  # names keep their case
    assert vault.placeholder_for("custom id!", "x") == "<CUSTOM_ID_1>"


def test_vault_is_thread_safe() -> None:
    vault = PseudonymVault()
    names = [f"Person{i}" for i in range(50)]
    barrier = threading.Barrier(8)

    def work() -> list[str]:
        barrier.wait()
        return [vault.placeholder_for("PERSON", n) for n in names]

    results: list[list[str]] = []
    threads = [threading.Thread(target=lambda: results.append(work())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == results[0] for r in results)
    assert sorted(results[0], key=lambda p: int(p[8:-1])) == [f"<PERSON_{i}>" for i in range(1, 51)]


def test_state_round_trip() -> None:
    vault = PseudonymVault()
    vault.placeholder_for("PERSON", "Noor Hale")
    vault.placeholder_for("EMAIL_ADDRESS", "noor@example.com")
    copy = PseudonymVault.from_state(vault.export_state())
    assert copy.value_for("<PERSON_1>") == "Noor Hale"
    assert copy.placeholder_for("PERSON", "Noor Hale") == "<PERSON_1>"
    assert copy.placeholder_for("PERSON", "Eli Vance") == "<PERSON_2>"


def test_no_values_in_repr() -> None:
    vault = PseudonymVault()
    vault.placeholder_for("PERSON", "Ines Calloway")
    vault.placeholder_for("EMAIL_ADDRESS", "ines.c@example.com")
    for obj in (vault,):
        assert "Ines" not in repr(obj) and "example.com" not in repr(obj) and "Ines" not in str(obj)


@pytest.fixture
def vault() -> PseudonymVault:
    v = PseudonymVault()
    v.placeholder_for("PERSON", "Ines Calloway")
    v.placeholder_for("EMAIL_ADDRESS", "ines.c@example.com")
    return v


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Hello <PERSON_1>!", "Hello Ines Calloway!"),
        ("Mail <EMAIL_ADDRESS_1>.", "Mail ines.c@example.com."),
        ("Hello < PERSON_1 >!", "Hello Ines Calloway!"),
        ("Hello <PERSON 1>!", "Hello Ines Calloway!"),
        ("Hello [PERSON_1]!", "Hello Ines Calloway!"),
        ("Hello PERSON_1, welcome", "Hello Ines Calloway, welcome"),
        ("Hello <PERSON_2> and <PERSON>", "Hello <PERSON_2> and <PERSON>"),  # unknown: unchanged
        ("FOO_PERSON_1 and PERSON_12", "FOO_PERSON_1 and PERSON_12"),
        ("Hello <person_1>", "Hello <person_1>"),  # lower case is not accepted
        ("<EMAIL_ADDRESS:ab12cd34>", "<EMAIL_ADDRESS:ab12cd34>"),
    ],
)
def test_restore_forms(vault: PseudonymVault, reply: str, expected: str) -> None:
    assert restore(reply, vault) == expected


def test_redact_then_restore_round_trip() -> None:
    vault = PseudonymVault()
    red = redact(TEXT, SPANS, {}, vault, hash_key=KEY)
    assert PLACEHOLDER_RE.findall(red.text)
    assert restore(red.text, vault) == TEXT


def _stream(chunks: list[str], vault: PseudonymVault) -> Iterator[str]:
    """What a streaming writer does: restore all but the possibly-incomplete tail."""
    buffer = ""
    for chunk in chunks:
        buffer += chunk
        keep = partial_placeholder_suffix_len(buffer)
        ready, buffer = buffer[: len(buffer) - keep], buffer[len(buffer) - keep :]
        yield restore(ready, vault)
    yield restore(buffer, vault)


@pytest.mark.parametrize(
    "reply",
    [
        "Dear <PERSON_1>, we wrote to <EMAIL_ADDRESS_1> today.",
        "Dear [PERSON 1], done. PERSON_1 confirmed.",
        "<PERSON_1><EMAIL_ADDRESS_1>",
    ],
)
def test_restore_across_every_split(vault: PseudonymVault, reply: str) -> None:
    expected = restore(reply, vault)
    assert "Ines Calloway" in expected
    for i in range(len(reply) + 1):
        for j in range(i, len(reply) + 1):
            chunks = [reply[:i], reply[i:j], reply[j:]]
            assert "".join(_stream(chunks, vault)) == expected, (i, j)


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("Hello <", 1),
        ("Hello <PERS", 5),
        ("Hello <PERSON_1", 9),
        ("Hello [EMAIL_ADDRESS_", 15),
        ("Hi PERSON_1", 8),
        ("Hello <PERSON_1>", 0),
        ("Hello.", 0),
        ("a <b", 0),
        ("", 0),
    ],
)
def test_partial_suffix_len(text: str, n: int) -> None:
    assert partial_placeholder_suffix_len(text) == n


def test_partial_suffix_is_bounded() -> None:
    assert partial_placeholder_suffix_len("Hi <" + "A" * 30) == 31
    assert partial_placeholder_suffix_len("Hi <" + "A" * 200) == 0  # too long to be a placeholder
    for n in range(120):
        assert partial_placeholder_suffix_len("x <" + "B_" * n) <= PLACEHOLDER_MAX_LEN


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>[] _PERSONEMAIL019zq.\n٣")), max_size=40))
def test_the_prose_shortcut_never_hides_a_placeholder(text: str) -> None:
    """Text the tolerant pattern finds a placeholder in is never taken for prose (skipped unscanned)."""
    from proxy.privacy.pseudonyms import _TOLERANT_RE, _may_hold_placeholder

    if _TOLERANT_RE.search(text) is not None:
        assert _may_hold_placeholder(text)


def test_prose_without_placeholders_is_returned_as_it_is() -> None:
    vault = PseudonymVault()
    ph = vault.placeholder_for("PERSON", "Ines Calloway")
    prose = "Your order shipped yesterday and should arrive by Friday; I can send the tracking link."
    assert restore(prose, vault) == prose and issued_in(prose, vault) == ()
    for form in (ph, ph.replace("_", " "), "[PERSON_1]", "[ PERSON 1 ]", "PERSON_1"):
        assert restore(f"Hello {form}, see you", vault) == "Hello Ines Calloway, see you"
