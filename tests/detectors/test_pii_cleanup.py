"""Clean-up of Presidio's results without an analyzer: hand-made results in, cleaned results out."""

from __future__ import annotations

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_cleanup import clean, drop_false_positives, resolve_overlaps
from proxy.detectors.pii_recognizers import BEDSIDE_SOURCE


def r(entity: str, start: int, end: int, score: float = 0.85, source: str | None = None) -> RecognizerResult:
    meta = {"source": source} if source else {}
    return RecognizerResult(entity, start, end, score, recognition_metadata=meta)


def spans(text: str, results: list[RecognizerResult]) -> list[tuple[str, str]]:
    return [(x.entity_type, text[x.start : x.end]) for x in results]


def test_ner_hits_on_payment_terms_and_common_nouns_are_dropped() -> None:
    text = "Pay by Visa. Discipline matters."
    out = drop_false_positives(text, [r("ORGANIZATION", 7, 11), r("PERSON", 13, 23), r("PERSON", 0, 0)])
    assert out == []


def test_validated_format_wins_and_the_loser_keeps_its_outside_parts() -> None:
    text = "mail ann@example.com now"
    out = resolve_overlaps(text, [r("EMAIL_ADDRESS", 5, 20, 1.0), r("URL", 9, 20, 0.5), r("PERSON", 0, 8, 0.9)])
    assert spans(text, out) == [("PERSON", "mail"), ("EMAIL_ADDRESS", "ann@example.com")]


def test_same_type_overlaps_merge() -> None:
    text = "12 Baker Street, London"
    out = resolve_overlaps(text, [r("STREET_ADDRESS", 0, 15, 0.7, BEDSIDE_SOURCE), r("STREET_ADDRESS", 3, 23, 0.6, BEDSIDE_SOURCE)])
    assert spans(text, out) == [("STREET_ADDRESS", "12 Baker Street, London")]


def test_clean_completes_names_and_filters_by_entity_and_threshold() -> None:
    text = "Ann wrote to Bob. Later Ann called."
    raw = [r("PERSON", 0, 3, 0.9), r("PERSON", 13, 16, 0.3), r("LOCATION", 24, 27, 0.5)]
    out = clean(text, raw, {"PERSON"}, 0.45)
    assert spans(text, out) == [("PERSON", "Ann"), ("PERSON", "Bob"), ("PERSON", "Ann")]  # a name recurs: Bob is found again at 0.6
    assert spans(text, clean(text, raw, {"LOCATION"}, 0.45)) == [("LOCATION", "Ann")]  # names are completed only when PERSON is wanted


def test_a_place_in_a_sentence_that_names_no_one_is_not_redacted() -> None:
    """A place a place word leads to, in a sentence with no one in it, is a general statement; the
    same place in a sentence about the writer, or a one-word "place" no place word leads to (NER
    reads names as places), stays redacted."""
    cases = {
        "The night buses from Ballykeeran are always late.": [],
        "We are moving from Ballykeeran next month.": [("LOCATION", "Ballykeeran")],
        "My sister works near Ballykeeran.": [("LOCATION", "Ballykeeran")],
        "Please thank Ballykeeran at the desk.": [("LOCATION", "Ballykeeran")],
        "Half the staff were born in Ballykeeran.": [("LOCATION", "Ballykeeran")],
    }
    for text, want in cases.items():
        start = text.index("Ballykeeran")
        assert spans(text, clean(text, [r("LOCATION", start, start + 11)], {"LOCATION"}, 0.4)) == want, text


def test_a_town_named_in_passing_is_not_redacted_but_someones_home_or_trip_is() -> None:
    """Towns and cities of ``data/places.txt`` that NER found are dropped unless a word before makes
    the place someone's home or whereabouts; a "person" that is also a surname stays a person."""
    cases = {
        "Is Coimbra nicer than Braga in May?": [],
        "Flights from Coimbra are cheap; my sister works near Coimbra.": [],
        "I live in Coimbra with my sister.": [("LOCATION", "Coimbra")],
        "We are flying to Coimbra on Friday.": [("LOCATION", "Coimbra")],
        "I'm from Coimbra originally.": [("LOCATION", "Coimbra")],
    }
    for text, want in cases.items():
        found = [r("LOCATION", m.start(), m.end()) for m in re.finditer("Coimbra", text)]
        assert spans(text, clean(text, found, {"LOCATION"}, 0.4)) == want * len(found), text
    text = "Ask Durham about the rota"
    assert spans(text, clean(text, [r("PERSON", 4, 10)], {"PERSON"}, 0.4)) == [("PERSON", "Durham")]


def test_all_places_keeps_every_place_found() -> None:
    """``pii.places: all`` (HIPAA-minded policies): no place is dropped for being named in passing."""
    text = "Is Coimbra nicer than Braga? Do you ship to Canada?"
    found = [r("LOCATION", m.start(), m.end()) for m in re.finditer("Coimbra|Braga|Canada", text)]
    assert spans(text, clean(text, found, {"LOCATION"}, 0.4)) == []
    assert [v for _, v in spans(text, clean(text, found, {"LOCATION"}, 0.4, all_places=True))] == ["Coimbra", "Braga", "Canada"]
