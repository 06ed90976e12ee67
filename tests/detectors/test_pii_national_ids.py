"""NATIONAL_ID: numbers after their name in many languages, numbers by validated format, the
business numbers and look-alikes left alone, and the entity through the whole engine."""

from __future__ import annotations

import pytest

from proxy.detectors import pii_national_formats as formats
from proxy.detectors.pii_engine import AnalyzerHandle
from proxy.detectors.pii_national_ids import national_id_spans
from proxy.policy.sections.pii import KNOWN_PII_ENTITIES


def ids(text: str) -> list[str]:
    return sorted({text[s:e] for s, e, _ in national_id_spans(text)})


@pytest.mark.parametrize(
    ("check", "valid", "one_digit_off"),
    [
        # published specimen numbers of each scheme
        (formats._es_dni, "12345678Z", "12345679Z"),
        (formats._br_cpf, "52998224725", "52998224735"),
        (formats._cn_resident, "11010519491231002X", "11010519491231003X"),
        (formats._za_id, "8001015009087", "8001015009088"),
        (formats._tr_kimlik, "10000000146", "10000000156"),
        (formats._fr_nir, "255081416802538", "255081416802539"),
        (formats._ean13, "7569217076985", "7569217076986"),
        (formats._sg_nric, "S1234567D", "S1234568D"),
        (formats._fi_hetu, "131052-308T", "131052-309T"),
        (formats._se_personnummer, "8112189876", "8112189877"),
        (formats._cl_rut, "123456785", "123456786"),
        (formats._tw_national, "A123456789", "A123456788"),
        (formats._th_citizen, "1101700207030", "1101700207031"),
        (formats._ro_cnp, "1800101221144", "1800101221145"),
        (formats._ar_cuil, "20123456786", "20123456787"),
    ],
)
def test_each_check_accepts_the_specimen_and_refuses_a_changed_digit(check, valid: str, one_digit_off: str) -> None:
    assert check(valid)
    assert not check(one_digit_off)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("the clinic wants my PESEL, it is 44051401458", "44051401458"),
        ("Sozialversicherungsnummer: 1237 010180", "1237 010180"),
        ("NI number AB 48 29 61 C for payroll", "AB 48 29 61 C"),
        ('{"aadhaar_no": "3675 9834 6015", "plan": "gold"}', "3675 9834 6015"),
        ("pan no is ABCPE1234F, kyc pending", "ABCPE1234F"),
        ("fødselsnummer 01017012345 (ny kunde)", "01017012345"),
        ("Q: what's your tax file number?\nA: 123 456 782", "123 456 782"),
        ("My passport number is K7733261, expiring in May", "K7733261"),
        ("BSN: 111222333\nNaam: J. de Vries", "111222333"),
        ("numéro de sécurité sociale 1 85 05 78 006 084 36", "1 85 05 78 006 084 36"),
        ("rodné číslo 736028/5163", "736028/5163"),
    ],
)
def test_a_number_after_its_name_is_found(text: str, value: str) -> None:
    assert value in ids(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Spain: 48213095N on the contract", "48213095N"),
        ("cpf 529.982.247-25 no cadastro", "529.982.247-25"),
        ("resident card 11010519491231002X", "11010519491231002X"),
        ("AHV 756.9217.0769.85", "756.9217.0769.85"),
        ("listed as S9123457B in the roster", "S9123457B"),
        ("codice FRRLSN85M12F205P allegato", "FRRLSN85M12F205P"),
    ],
)
def test_a_number_in_a_validated_format_is_found_without_its_name(text: str, value: str) -> None:
    assert ids(text) == [value]


@pytest.mark.parametrize(
    "text",
    [
        "Order ID number: 48213095",
        "company tax number 48-2130957",
        "order #2363 1234 5679 shipped",
        "운송장번호: 2363 1234 5679",  # a waybill number that passes Aadhaar's check: Aadhaar only after its name
        "Company PAN: AABCT1332L",  # a company's PAN (its fourth letter)
        'assert SSN_RE.match("000-00-0000")  # placeholder',
        "UK NINO: QQ 12 34 56 C (the documented example)",
        "Invoice no. 529.982.247-25",
        "Ref. 48213095N",
        "Ticket ID: 88812345",
        "tracking number 1Z999AA10123456784",
        "the pan is hot, 4821395 degrees",
        "sin(x) = 0.8414709",
        "RUN_ID=20231104 in CI",
        "Version 2.14.3, build 20231104, commit a1b2c3d4e5f6",
        "ISBN 978-3-16-148410-0 and VIN 1HGCM82633A004352",
        "Call 0412 345 678 before 2025-01-31",
        "An SSN has the form AAA-GG-SSSS and a NINO two letters, six digits, one letter.",
        "The spreadsheet has 48213095 rows and 73519264 cells.",
    ],
)
def test_business_numbers_and_look_alikes_are_not_national_ids(text: str) -> None:
    assert ids(text) == []


def test_a_short_name_that_is_a_word_needs_capitals_or_a_following_is(text: str = "sin 527 183 404") -> None:
    assert ids(text) == []
    assert ids("SIN 527 183 404") == ["527 183 404"]
    assert ids("my sin is 527 183 404") == ["527 183 404"]


def test_the_engine_finds_national_id_over_a_phone_reading(ner_handle: AnalyzerHandle) -> None:
    text = "Hello, my aadhaar number is 3675 9834 6015, please link it to the account."
    found = [(r.entity_type, text[r.start : r.end]) for r in ner_handle.analyze(text, ["NATIONAL_ID", "PHONE_NUMBER"])]
    assert found == [("NATIONAL_ID", "3675 9834 6015")]


def test_the_policy_schema_knows_exactly_what_the_engine_finds(ner_handle: AnalyzerHandle) -> None:
    assert ner_handle.supported_entities == KNOWN_PII_ENTITIES


def test_a_us_social_security_number_is_left_to_us_ssn(ner_handle: AnalyzerHandle) -> None:
    text = "My social security number is 078-05-1120; my Spanish social security no. is 28/12345678/40."
    assert ids(text) == ["28/12345678/40"]
    found = [(r.entity_type, text[r.start : r.end]) for r in ner_handle.analyze(text, ["US_SSN", "NATIONAL_ID"])]
    assert found == [("US_SSN", "078-05-1120"), ("NATIONAL_ID", "28/12345678/40")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # the value answers a line that names the number (a transcript)
        ("Agent: Could you read me your PPS number?\nCaller: Sure. 8473629WA\nAgent: thanks", "8473629WA"),
        ("Klerk: Proszę o numer PESEL.\nKlient: 44051401458.", "44051401458"),
        # a few words after the name in one sentence
        ("my BSN for the insurance form would be 111222333 I think", "111222333"),
        # an inflected name, a name in a script written without spaces
        ("Personnummeret hennes er 811218-9876", "811218-9876"),
        ("请填写身份证号码：110105194912310021", "110105194912310021"),
    ],
)
def test_a_number_the_text_names_less_directly_is_found(text: str, value: str) -> None:
    assert value in ids(text)


@pytest.mark.parametrize(
    "text",
    [
        "Customer ID: 48213095N",  # a business's number for a person
        "Member no. 529.982.247-25",
        "Agent: What is your order number?\nCaller: 44051401458",  # the line before names no national number
        "I lost my passport. The hotel booking is 4455667788, can you help?",  # another sentence
        "the pan is hot, 4821395 degrees",
    ],
)
def test_a_number_near_a_name_that_does_not_name_it_is_not_a_national_id(text: str) -> None:
    assert ids(text) == []


def test_a_speaker_label_is_not_a_business_word() -> None:
    assert ids("Agent: your DNI please\nCustomer: 48213095N") == ["48213095N"]
