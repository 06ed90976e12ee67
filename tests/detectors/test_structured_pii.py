"""The one definition of structured PII, and the three users that must agree on it: the reply mask
(``OutputScanner``), the ``pii_leak`` rail (``find_structured_pii``) and the handoff scrub."""

from __future__ import annotations

import pytest

from proxy.detectors import structured_pii
from proxy.detectors.structured_pii import Match, find, iban_valid, ip_valid, luhn_valid, phone_valid, scrub, valid
from proxy.rails.patterns import PII_PATTERNS, find_structured_pii, scrub_structured_pii
from proxy.stages.pii_output import OUTPUT_ENTITIES, OutputScanner

FOUND = [
    ("write to ann.lee+x@mail.example.co.uk now", "EMAIL_ADDRESS", "ann.lee+x@mail.example.co.uk"),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN DE89370400440532013000.", "IBAN_CODE", "DE89370400440532013000"),
    ("card 4111 1111 1111 1111 ok", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("card 4111-1111-1111-1111.", "CREDIT_CARD", "4111-1111-1111-1111"),
    ("from 203.0.113.7 today", "IP_ADDRESS", "203.0.113.7"),
    ("from 2001:db8::8a2e:370:7334 today", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    ("ssn 123-45-6789.", "US_SSN", "123-45-6789"),
    ("call +1 415 555 0199 now", "PHONE_NUMBER", "+1 415 555 0199"),
    ("call (415) 555-0199 now", "PHONE_NUMBER", "(415) 555-0199"),
    ("call 415.555.0199 now", "PHONE_NUMBER", "415.555.0199"),
    ("call 06 12 34 56 78 now", "PHONE_NUMBER", "06 12 34 56 78"),
    ("call +44 20 7946 0958.", "PHONE_NUMBER", "+44 20 7946 0958"),
]

NOT_FOUND = [
    "card 4111 1111 1111 1112 (Luhn fails)",
    "IBAN GB82 WEST 1234 5698 7654 33 (mod 97 fails)",
    "ssn 000-12-3456, 666-12-3456, 912-12-3456, 123-00-4567, 123-45-0000",
    "localhost 127.0.0.1 and 0.0.0.0 and ::1",
    "version 1.2.3 on 2024-01-15 at 10:30",
    "short 123 456 789 (nine digits, no plus)",
    "order 12 345 (too few digits)",
    "not an address: ann@localhost",
]


@pytest.mark.parametrize(("text", "entity", "value"), FOUND)
def test_finds_each_shape(text: str, entity: str, value: str) -> None:
    got = find(text)
    assert [(m.entity, text[m.start : m.end]) for m in got] == [(entity, value)]


@pytest.mark.parametrize("text", NOT_FOUND)
def test_rejects_invalid_values(text: str) -> None:
    assert find(text) == []


def test_validators() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert luhn_valid("٤١١١١١١١١١١١١١١١")  # any decimal digits
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("GB82 WEST")  # too short
    assert phone_valid("+33 6 12 34 56") and not phone_valid("6 12 34 56")  # 9 digits: only with +
    assert phone_valid("415 555 0199") and not phone_valid("415 555 01999 12")
    assert ip_valid("8.8.8.8") and not ip_valid("127.0.0.1") and not ip_valid("::") and not ip_valid("1:2")
    assert valid("EMAIL_ADDRESS", "a@b.co") and valid("US_SSN", "123-45-6789")


def test_overlap_goes_to_the_earlier_entity_and_results_are_sorted() -> None:
    text = "IBAN GB82WEST12345698765432, call 415 555 0199, mail a@b.example"
    got = find(text)
    assert [m.entity for m in got] == ["IBAN_CODE", "PHONE_NUMBER", "EMAIL_ADDRESS"]
    assert got == sorted(got, key=lambda m: m.start)


def test_entities_and_allow_limit_what_is_found() -> None:
    text = "Mail support@acme.example or ann@x.example, call 415 555 0199."
    assert [m.entity for m in find(text, ["PHONE_NUMBER"])] == ["PHONE_NUMBER"]
    got = find(text, allow=[" SUPPORT@acme.example "])
    assert [text[m.start : m.end] for m in got] == ["ann@x.example", "415 555 0199"]


def test_scrub_replaces_each_value_with_its_type() -> None:
    assert scrub("Email me at a@b.example or call +1 415 555 0199.") == "Email me at <EMAIL_ADDRESS> or call <PHONE_NUMBER>."
    assert scrub("nothing here") == "nothing here"


TEXTS = [text for text, _, _ in FOUND] + NOT_FOUND + [
    "Reach me at ann@example.com or 415-555-0199; card 4111 1111 1111 1111, ssn 123-45-6789.",
    "Meeting 9:30, room 12, ext 123 4567 890 12",
    "Call 555 0199 or 12 34 56 78 90 12",
    "Server fe80::1ff:fe23:4567:890a and 10.0.0.1",
]


@pytest.mark.parametrize("text", TEXTS)
def test_reply_mask_rail_and_handoff_scrub_agree(text: str) -> None:
    """The three users of structured PII find the same values of the same types."""
    scanner = [(m.entity, m.start, m.end) for m in OutputScanner().find(text)]
    rail = list(find_structured_pii(text))
    assert scanner == rail == [(m.entity, m.start, m.end) for m in find(text)]
    assert scrub_structured_pii(text) == scrub(text)


def test_one_set_of_patterns() -> None:
    assert PII_PATTERNS is structured_pii.PATTERNS
    assert OUTPUT_ENTITIES == structured_pii.ENTITIES
    assert {e for e, _ in PII_PATTERNS} == set(OUTPUT_ENTITIES)


def test_match_holds_no_text() -> None:
    assert Match("US_SSN", 1, 2) == Match("US_SSN", 1, 2)
    assert not hasattr(Match("US_SSN", 1, 2), "__dict__")


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("call +1 415 555 0100 10.0.0.7 now", [("PHONE_NUMBER", "+1 415 555 0100"), ("IP_ADDRESS", "10.0.0.7")]),
        ("call +1 415 555 0100 12345", [("PHONE_NUMBER", "+1 415 555 0100")]),
        ("ip 10.0.0.7 then 415 555 0100", [("IP_ADDRESS", "10.0.0.7"), ("PHONE_NUMBER", "415 555 0100")]),
    ],
)
def test_phone_followed_directly_by_digits_or_an_ip(text: str, values: list[tuple[str, str]]) -> None:
    assert [(m.entity, text[m.start : m.end]) for m in find(text)] == values
