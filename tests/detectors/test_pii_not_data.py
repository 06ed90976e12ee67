"""Spans that are the message's shape, not someone's data (``proxy/detectors/pii_not_data.py``):
hand-made results in, what is left out; and the lower-case gazetteer's English words."""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_not_data import drop_not_data
from proxy.detectors.pii_recognizers import PersonHeuristicRecognizer, name_stop_words, name_words
from proxy.stages.pii_fields import address_value, identifier_key, person_value


def at(text: str, entity: str, value: str, score: float = 0.85) -> RecognizerResult:
    start = text.index(value)
    return RecognizerResult(entity, start, start + len(value), score, recognition_metadata={})


def kept(text: str, results: list[RecognizerResult]) -> list[tuple[str, str]]:
    return [(r.entity_type, text[r.start : r.end]) for r in drop_not_data(text, results)]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ('{"shelf_loc": "B2", "qty": 4}', "PERSON", "shelf_loc"),  # a JSON key
        ('{"unit": "kg", "Halden": 3}', "LOCATION", "Halden"),  # any JSON key, even a capitalised one
        ("cook_time = 40", "PERSON", "time"),  # joined to an identifier
        ("Serves: 4\nRest: 10 minutes", "PERSON", "Rest"),  # a form label
        ("Lot 7731\nBest before 2027", "PERSON", "Lot 7731"),  # a digit in a name
        ("Hello Billing Team, the invoice is wrong", "PERSON", "Billing"),  # a team after it
        ("Thanks,\nCustomer Accounts", "PERSON", "Customer Accounts"),  # a department
        ("Firmware version 2.10.4.1 bricked the fan controller", "IP_ADDRESS", "2.10.4.1"),
        ("Ticket KX-2041-339812 is still open", "PHONE_NUMBER", "2041-339812"),  # part of a code
        ("my booking reference is 4471 220931, can you check", "PHONE_NUMBER", "4471 220931"),
    ],
)
def test_the_message_shape_is_not_data(text: str, entity: str, value: str) -> None:
    assert kept(text, [at(text, entity, value)]) == []


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("Anna: hi, is the clinic open?", "PERSON", "Anna"),  # a chat transcript's speaker
        ('{"note": "ask Teodora Vukovic"}', "PERSON", "Teodora Vukovic"),  # a value, not a key
        ("Ask Teodora about the Dell XPS", "PERSON", "Teodora"),
        ("My server's IP is 10.4.2.1 since the firmware update", "IP_ADDRESS", "10.4.2.1"),  # a network word
        ("Call me on 0161 496 0734 about order 7781", "PHONE_NUMBER", "0161 496 0734"),
        ("order 7781, my mobile is 07700 900 461", "PHONE_NUMBER", "07700 900 461"),
    ],
)
def test_data_stays_data(text: str, entity: str, value: str) -> None:
    assert kept(text, [at(text, entity, value)]) == [(entity, value)]


def test_a_person_with_a_surname_that_is_a_team_word_stays_a_person() -> None:
    text = "Ruperto Sales rang about the refund"
    assert kept(text, [at(text, "PERSON", "Ruperto Sales")]) == [("PERSON", "Ruperto Sales")]
    text = "HTTP 429 Too Many Requests again"  # "Many" is in the gazetteer, and a word first
    assert kept(text, [at(text, "PERSON", "Many Requests")]) == []


def test_an_ner_person_that_starts_with_a_house_number_is_an_address() -> None:
    text = "Post it to 27/4 Quarry Laneway please"
    assert kept(text, [at(text, "PERSON", "27/4 Quarry Laneway")]) == [("STREET_ADDRESS", "27/4 Quarry Laneway")]
    text = "Post it to 12 Office Lane please"  # judged as an address, not as a team
    assert kept(text, [at(text, "PERSON", "12 Office Lane")]) == [("STREET_ADDRESS", "12 Office Lane")]


def test_a_name_read_across_line_breaks_is_judged_line_by_line() -> None:
    text = "Teodora Vukovic\n14 Rue des Lilas"
    assert kept(text, [RecognizerResult("PERSON", 0, 18, 0.85)]) == [("PERSON", "Teodora Vukovic")]
    text = "Dispatch\nOperations"
    assert kept(text, [RecognizerResult("PERSON", 0, len(text), 0.85)]) == [("PERSON", "Dispatch")]  # "Operations" is a team word
    text = "name,shift\nIlse Brandt,early\nTeodora Vukovic,late"
    start = text.index("early\n") + 6
    assert kept(text, [RecognizerResult("PERSON", text.index("Ilse"), text.index(",early"), 0.85), RecognizerResult("PERSON", start - 6, start + 15, 0.85)]) == [
        ("PERSON", "Ilse Brandt"),
        ("PERSON", "early"),
        ("PERSON", "Teodora Vukovic"),
    ]


def test_a_csv_name_read_with_its_number_keeps_the_name() -> None:
    text = "guest,table\nTeodora van der Berg,4,vegan"
    start = text.index("Teodora")
    assert kept(text, [RecognizerResult("PERSON", start, text.index(",vegan"), 0.85)]) == [("PERSON", "Teodora van der Berg")]


def test_capitals_without_a_name_are_a_notice_but_capitals_in_a_sentence_may_be_a_name() -> None:
    text = "OFFICE CLOSED\nBack on Monday"
    assert kept(text, [at(text, "PERSON", "OFFICE CLOSED")]) == []
    text = "my passport says KANYA SRISUK not Kanya"
    assert kept(text, [at(text, "PERSON", "KANYA SRISUK")]) == [("PERSON", "KANYA SRISUK")]


def test_lower_case_gazetteer_words_are_read_as_words() -> None:
    assert {"ran", "min", "temple"} <= name_words() and "many" in name_stop_words()
    rec = PersonHeuristicRecognizer()
    found = lambda text: [text[r.start : r.end] for r in rec.analyze(text, ["PERSON"])]  # noqa: E731
    assert found("we ran out of milk, back in 5 min") == []
    assert found("ask for teodora at the desk") == ["teodora"]  # a name that is no English word still counts
    assert found("Many thanks for the quick reply") == []


def test_json_field_names() -> None:
    assert identifier_key("sku") and identifier_key("order_ref") and identifier_key("prep-min")
    assert not identifier_key("Teodora Vukovic") and not identifier_key("alice")  # a map keyed by a first name
    assert person_value("given", "Teodora") and person_value("passengerName", "VUKOVIC/TEODORA MS") and person_value("first_name", "ilse")
    assert not person_value("given", "teodora")  # a field without "name" needs a capital first
    assert not person_value("product_name", "Aero Lamp") and not person_value("customer", "ACME-22") and not person_value("sku", "Teodora")
    assert person_value("name", "Teodora Vukovic", {"name": 1, "email": 2}) and not person_value("name", "Aero Lamp", {"name": 1, "price": 2})
    assert person_value("Nachname", "Vukovic") and person_value("author", "Ffion Ames") and not person_value("author", "unknown")
    assert address_value("postcode", "IV2 4DW") and address_value("deliveryAddress", "4 Quay St") and not address_value("email_address", "a@b.c") and not address_value("zip", "")
