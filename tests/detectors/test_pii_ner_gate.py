"""The NER gate: which texts and sentences the spaCy NER reads, and that what it skips changes no
result on the texts it skips whole and on a letter it reads in part."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.detectors.pii_engine import AnalyzerHandle
from proxy.detectors.pii_ner_gate import ner_ranges

ENTITIES = ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS",
            "STREET_ADDRESS", "LOCATION"]

#: texts with no word that could start a named entity: the NER is skipped
SKIPPED = [
    "I'm so angry, I've asked three times. Where is my refund?",
    "One more thing about order 48213: the jacket I received is the wrong colour, can I exchange it?",
    "Thanks. Could you check whether it left the warehouse?",
    "Yes, please send it to my e-mail, it's help.desk@example.com, or call +1 415 555 0100.",
    "My card 4111 1111 1111 1111 was charged twice and the invoice is wrong.",
    "\u201cSorry\u201d is not an answer. Please escalate this.",
    "- Ok\n- Thanks for the help",
]

#: texts the NER must read (names, places, odd case, other scripts, personal places)
READ = [
    "Hi Maria, thanks!",
    "My name is Will.",
    "Will you help me?",  # could be a name: not on the closed list
    "Thanks. Grace said it's fine.",
    "Please call Dr. Smith tomorrow.",
    "i live in london",  # no capitals at all
    "I moved here last year and the parcel never came.",  # a word that ties a place to someone
    "I'm in seattle for work this week.",
    "THIS IS NOT OK, I WANT MY MONEY",
    "Привет, меня зовут Иван.",
    "The courier from DHL never rang.",
    "Order from McDonald's arrived cold.",
    "The IBAN on the invoice is wrong.",  # an acronym could be an organisation
    "Please forward this to john smith.",  # names in lower case in a cased text
    "The patient is maria garcia, age 54.",
    "My husband david will pick it up.",
    "We ship to canada only.",
]


@pytest.mark.parametrize("text", SKIPPED)
def test_texts_without_a_possible_name_skip_the_ner(text: str) -> None:
    assert ner_ranges(text) == []


@pytest.mark.parametrize("text", READ)
def test_texts_that_may_hold_a_name_or_a_place_go_to_the_ner(text: str) -> None:
    assert ner_ranges(text) != []


def _spans(handle: AnalyzerHandle, text: str) -> list[tuple[str, int, int]]:
    return [(r.entity_type, r.start, r.end) for r in handle.analyze(text, ENTITIES)]


def _both(handle: AnalyzerHandle, texts: list[str]) -> tuple[dict[str, list[tuple[str, int, int]]], ...]:
    gated = {text: _spans(handle, text) for text in texts}
    handle.ner_gate = False
    try:
        full = {text: _spans(handle, text) for text in texts}
    finally:
        handle.ner_gate = True
    return gated, full


def test_skipping_the_ner_changes_no_result(ner_handle: AnalyzerHandle) -> None:
    whole = [t for t in READ if ner_ranges(t) is None]
    assert len(whole) >= 8
    gated, full = _both(ner_handle, SKIPPED + whole)
    assert gated == full
    assert any(gated[t] for t in SKIPPED)  # the other recognizers still ran on the skipped texts


LETTER = (
    "Hello, my name is {name} and I am writing about order 48213, which I placed three weeks ago. The tracking "
    "page has said 'in transit' for nine days now and nobody has answered my two e-mails. You can reach me at "
    "{email} or on +44 20 7946 0018 in the evenings. I am honestly getting fed up with this: I paid for express "
    "shipping and I would like to know whether the parcel is lost. Please do not just tell me to wait another week. "
    "Thanks for looking into it."
)


def test_the_ner_reads_only_the_sentences_that_may_hold_a_name() -> None:
    text = LETTER.format(name="Maria Okafor", email="m.okafor@example.com")
    ranges = ner_ranges(text)
    assert ranges is not None and ranges
    read = " ".join(text[a:b] for a, b in ranges)
    assert "Maria Okafor" in read and "m.okafor@example.com" in read
    assert "The tracking page" not in read and "Thanks for looking into it." not in read
    # lines without a full stop stay together: an address block is read as one
    block = "Thanks. Please send it to:\nMaria Okafor\nFlat 2, 14 Kent Street\nLeeds LS1 4AB"
    assert ner_ranges(block) == [(8, len(block))]


@pytest.mark.parametrize("name", ["Maria Okafor", "Tomasz Nowak", "Priya Sharma", "Kwame Mensah"])
def test_reading_some_sentences_finds_what_reading_all_finds_in_a_letter(ner_handle: AnalyzerHandle, name: str) -> None:
    text = LETTER.format(name=name, email=f"{name.split()[0].lower()}.{name.split()[1].lower()}@example.com")
    gated, full = _both(ner_handle, [text])
    assert gated == full
    assert ("PERSON", text.index(name), text.index(name) + len(name)) in gated[text]


@pytest.fixture
def whole_ner_runs(ner_handle: AnalyzerHandle, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts Presidio's engine runs the whole spaCy pipeline on during the test (observed, not ours)."""
    nlp_engine: Any = ner_handle.engine.nlp_engine
    seen: list[str] = []
    real = nlp_engine.process_text

    def spy(text: str, language: str) -> Any:
        seen.append(text)
        return real(text, language)

    monkeypatch.setattr(nlp_engine, "process_text", spy)
    return seen


def test_the_ner_is_not_run_on_a_skipped_text_and_is_on_the_others(ner_handle: AnalyzerHandle, whole_ner_runs: list[str]) -> None:
    seen = whole_ner_runs
    ner_handle.analyze(SKIPPED[0], ENTITIES)
    ner_handle.analyze(READ[0], ENTITIES)
    assert seen == [READ[0]]


def test_asking_for_dates_or_nationalities_always_runs_the_ner(ner_handle: AnalyzerHandle, whole_ner_runs: list[str]) -> None:
    ner_handle.analyze(SKIPPED[0], [*ENTITIES, "DATE_TIME"])
    assert whole_ner_runs == [SKIPPED[0]]


def test_a_batch_mixing_both_kinds_gives_each_text_its_own_result(ner_handle: AnalyzerHandle) -> None:
    texts = [READ[0], SKIPPED[3], READ[4], SKIPPED[4], READ[6]]
    batch = ner_handle.analyze_many(texts, ENTITIES)
    one_by_one = [ner_handle.analyze(t, ENTITIES) for t in texts]
    assert [[(r.entity_type, r.start, r.end) for r in rs] for rs in batch] == \
        [[(r.entity_type, r.start, r.end) for r in rs] for rs in one_by_one]
