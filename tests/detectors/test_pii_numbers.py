"""The cued number recognizers on their own (no analyzer): phone shapes, SSN and card after cues."""

from __future__ import annotations

from proxy.detectors.pii_numbers import CardNumberRecognizer, PhoneShapeRecognizer, SsnCueRecognizer
from proxy.detectors.pii_recognizer_base import BEDSIDE_SOURCE


def found(recognizer: object, text: str, entity: str) -> list[str]:
    results = recognizer.analyze(text, [entity])  # type: ignore[attr-defined]
    assert all(r.recognition_metadata["source"] == BEDSIDE_SOURCE for r in results)
    return sorted({text[r.start : r.end] for r in results})  # duplicates are merged by the engine


def test_phone_shapes_and_cues() -> None:
    phone = PhoneShapeRecognizer()
    assert found(phone, "ring (555) 010-4477 today", "PHONE_NUMBER") == ["(555) 010-4477"]
    assert found(phone, "my mobile: 78 651 450", "PHONE_NUMBER") == ["78 651 450"]
    assert found(phone, "on 2024-01-15 we met", "PHONE_NUMBER") == []
    assert found(phone, "ring (555) 010-4477", "EMAIL_ADDRESS") == []


def test_ssn_after_a_cue_with_valid_parts_only() -> None:
    ssn = SsnCueRecognizer()
    assert found(ssn, "SSN 123 45 6789", "US_SSN") == ["123 45 6789"]
    assert found(ssn, "social security number: 123456789", "US_SSN") == ["123456789"]
    assert found(ssn, "SSN 666-45-6789 or 123-00-6789", "US_SSN") == []
    assert found(ssn, "ref 123-45-6789", "US_SSN") == []  # no cue


def test_card_after_a_cue_even_when_luhn_fails() -> None:
    card = CardNumberRecognizer()
    assert found(card, "my visa is 4111 1111 1111 1112", "CREDIT_CARD") == ["4111 1111 1111 1112"]
    assert found(card, "order 4111 1111 1111 1112", "CREDIT_CARD") == []


def test_phone_stops_before_an_ip_address_or_more_digits() -> None:
    phone = PhoneShapeRecognizer()
    assert found(phone, "call +1 415 555 0100 10.0.0.7 now", "PHONE_NUMBER") == ["+1 415 555 0100"]
    assert found(phone, "call 415-555-0100.", "PHONE_NUMBER") == ["415-555-0100"]


def test_phone_words_of_other_languages_and_scripts() -> None:
    phone = PhoneShapeRecognizer()
    assert found(phone, "Handy: 0151 2345 6789", "PHONE_NUMBER") == ["0151 2345 6789"]
    assert found(phone, '{"celular": "310 555 0144"}', "PHONE_NUMBER") == ["310 555 0144"]
    assert found(phone, "τηλ. 694 555 0133", "PHONE_NUMBER") == ["694 555 0133"]
    assert found(phone, "联系手机：139 5555 0123", "PHONE_NUMBER") == ["139 5555 0123"]
    # short words only as whole words: not inside "graph" or "php"
    assert found(phone, "graph 12345678 nodes, php 7.4.33 build 20231104", "PHONE_NUMBER") == []


def test_a_luhn_valid_card_before_a_particle_of_a_script_without_spaces() -> None:
    card = CardNumberRecognizer()
    assert found(card, "고객: 4002 1765 3829 1046이요.", "CREDIT_CARD") == ["4002 1765 3829 1046"]
    assert found(card, "卡号4111111111111111。", "CREDIT_CARD") == ["4111111111111111"]
    assert found(card, "ref 4111 1111 1111 1112 (fails Luhn, no card word)", "CREDIT_CARD") == []


def test_the_gate_for_phone_words_abroad_opens_for_whole_words_only() -> None:
    from proxy.detectors.pii_numbers import _phone_word_abroad_in

    assert not _phone_word_abroad_in("my mobile is broken, the cellular plan too")  # mobil, cel inside words
    assert _phone_word_abroad_in("Handy: 0151 2345 6789")
    assert _phone_word_abroad_in("τηλ. 694 555 0133")
    assert _phone_word_abroad_in("联系手机：139 5555 0123")
