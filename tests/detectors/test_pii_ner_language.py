"""The English NER's misreadings of other languages: ordinary words in sentences of other languages
are not redacted, names in them still are, and English text is read as before."""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii import DEFAULT_ENTITIES
from proxy.detectors.pii_engine import AnalyzerHandle
from proxy.detectors.pii_ner_language import drop_misreadings, is_english
from proxy.detectors.pii_recognizer_base import BEDSIDE_SOURCE


def found(handle: AnalyzerHandle, text: str) -> list[tuple[str, str]]:
    return [(r.entity_type, text[r.start : r.end]) for r in handle.analyze(text, DEFAULT_ENTITIES)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Could you tell me when the parcel will arrive?", True),
        ("Hello, I am Begoña and I write for my mother María del Carmen Ruiz de Alarcón y Pérez.", True),
        ("Oh man, good luck with the exam tomorrow!", True),
        ("Clouds aren’t pale, they’re translucent", True),
        ("Je pense qu'il viendra, c'est sûr, mais l'heure n'est pas fixée.", False),
        ("Necesito cambiar la talla del abrigo, me queda demasiado grande.", False),
        ("Bedankt voor de snelle reactie, het pakket is vandaag aangekomen.", False),
        ("Merhaba, siparişim hâlâ kargoya verilmedi.", False),
        ("Сегодня на улице очень холодно.", False),
        ("Thanks!", None),
        ("Groetjes,", None),
    ],
)
def test_a_sentence_is_told_english_by_its_lower_case_words(text: str, expected: bool | None) -> None:
    assert is_english(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "Necesito cambiar la talla del abrigo, me queda demasiado grande en los hombros.",
        "Bedankt voor de snelle reactie, het pakket is vandaag netjes aangekomen.",
        "Merhaba, siparişim hâlâ kargoya verilmedi, ne zaman gönderilecek?",
        "Obrigado pela ajuda! O problema com a fatura já foi resolvido.",
        "Czy mogę zwrócić buty, jeśli były noszone tylko raz w domu?",
        "في رمضان الماضي كنا نجتمع كل ليلة على سطح البيت بعد التراويح",
        "Сегодня на улице очень холодно, поэтому мы остались дома и пили чай.",
    ],
)
def test_ordinary_words_of_other_languages_reach_the_model(ner_handle: AnalyzerHandle, text: str) -> None:
    assert found(ner_handle, text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Gestern habe ich mit Jonas Becker telefoniert, er kommt am Montag vorbei.", "Jonas Becker"),
        ("Hola, soy Lucía Fernández y quería preguntar por mi pedido.", "Lucía Fernández"),
        ("Je voudrais parler à Camille Dubois au sujet de la réservation.", "Camille Dubois"),
        ("Ieri ho parlato con Giulia Romano della fattura sbagliata.", "Giulia Romano"),
        ("Saludos cordiales,\nMarisol Echeverría", "Marisol Echeverría"),
        ("Met vriendelijke groet,\nFenna van Dijk", "Fenna van Dijk"),
        ("Dear Ms. van der Berg,\n\nThank you for the quick reply about the contract.", "van der Berg"),
    ],
)
def test_names_in_sentences_of_other_languages_are_still_found(ner_handle: AnalyzerHandle, text: str, name: str) -> None:
    assert ("PERSON", name) in found(ner_handle, text)


def test_only_the_capitalised_core_of_a_misread_run_is_taken(ner_handle: AnalyzerHandle) -> None:
    text = "Ieri ho parlato con Giulia Romano della fattura sbagliata."
    assert found(ner_handle, text) == [("PERSON", "Giulia Romano")]  # not "Ieri ho parlato"


def _ner(text: str, value: str, entity: str = "PERSON") -> RecognizerResult:
    start = text.index(value)
    return RecognizerResult(entity, start, start + len(value), 0.85, recognition_metadata={"recognizer_name": "SpacyRecognizer"})


def test_in_a_script_without_capitals_the_reading_stands_only_beside_other_personal_data() -> None:
    text = "يا سمير، رقمي الجديد هو"
    misread = _ner(text, "سمير")
    assert drop_misreadings(text, [misread]) == []
    phone = RecognizerResult("PHONE_NUMBER", 0, 2, 0.7, recognition_metadata={"source": BEDSIDE_SOURCE})
    assert drop_misreadings(text, [misread, phone]) == [misread, phone]


def test_bedside_recognizers_and_english_sentences_are_left_alone() -> None:
    text = "Necesito ayuda con mi pedido, por favor."
    ours = RecognizerResult("PERSON", 0, 8, 0.85, recognition_metadata={"source": BEDSIDE_SOURCE})
    assert drop_misreadings(text, [ours]) == [ours]
    english = "Please ask maria about the refund, she handled it."
    lower = _ner(english, "maria")
    assert drop_misreadings(english, [lower]) == [lower]


def test_a_line_read_across_a_break_is_judged_line_by_line() -> None:
    text = "Hola, gracias por todo y hasta pronto.\nUn abrazo,\nNerea Goikoetxea"
    across = _ner(text, "Un abrazo,\nNerea Goikoetxea")
    kept = drop_misreadings(text, [across])
    assert [text[r.start : r.end] for r in kept] == ["Nerea Goikoetxea"]


def test_the_ner_types_are_the_clean_ups() -> None:
    from proxy.detectors import pii_cleanup, pii_ner_language

    assert pii_ner_language.NER_TYPES == pii_cleanup.NER_TYPES


@pytest.mark.parametrize(
    ("text", "misread", "kept"),
    [
        ("ayer hablé con carla por teléfono y me dijo que no viene a la cena", "carla por", ["carla"]),
        ("el domingo vamos a la playa con los niños y la abuela", "domingo", []),
        ("Profesora: ¿Quién limpia la pizarra hoy?\nAlumno: Wiktor y Oliwia.", "Wiktor", ["Wiktor"]),
        ("Profesora: ¿Quién limpia la pizarra hoy?\nAlumno: Claro que sí, ahora mismo.", "Claro", []),
        ("Hola a todos, la reunión del lunes se mueve al martes por la tarde.\nUn saludo,\nIñaki", "Iñaki", ["Iñaki"]),
    ],
)
def test_lower_case_first_names_days_and_lists(text: str, misread: str, kept: list[str]) -> None:
    result = drop_misreadings(text, [_ner(text, misread)])
    assert [text[r.start : r.end] for r in result] == kept
