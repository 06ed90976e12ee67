"""Values a form's label names (``proxy/detectors/pii_fields_text.py``): the label decides."""

from __future__ import annotations

from proxy.detectors.pii_fields_text import LabelledFieldRecognizer


def found(text: str) -> list[tuple[str, str]]:
    return [(r.entity_type, text[r.start : r.end]) for r in LabelledFieldRecognizer().analyze(text, ["PERSON", "STREET_ADDRESS"])]


def test_person_and_address_labels_in_several_languages() -> None:
    text = "Příjmení: Novotná\nJméno: Zdeňka\nAdresa: Lidická 41, 602 00 Brno\nPSČ stays\nOddělení: sklad"
    assert found(text) == [("PERSON", "Novotná"), ("PERSON", "Zdeňka"), ("STREET_ADDRESS", "Lidická 41, 602 00 Brno")]
    assert found('postcode: "EH3 9QG"') == [("STREET_ADDRESS", "EH3 9QG")]
    assert found("reviewer = Anouk de Vries") == [("PERSON", "Anouk de Vries")]


def test_a_label_that_may_name_a_thing_needs_a_name_written_like_one() -> None:
    assert found("Name: lemon drizzle\nServes: 8") == []
    assert found("Name: Lemon Drizzle Cake 2") == []  # a digit: no name
    assert found("Name: Ilse Brandt") == [("PERSON", "Ilse Brandt")]
    assert found("Nachname: brandt") == [("PERSON", "brandt")]  # a surname's label needs no capital


def test_the_recipient_after_an_address_label_is_left_to_the_name_rules() -> None:
    assert found("Delivery address: Ilse Brandt\n4 Quay St") == []
    assert found("Delivery address: Quay Street Mill") == [("STREET_ADDRESS", "Quay Street Mill")]
