"""Presidio built offline with Bedside's recognizers: entity coverage, false-positive fixes,
overlap resolution, the pattern-only fallback and no network use."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import tldextract.tldextract as tld_module
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_engine import AnalyzerHandle, build_analyzer, offline_tldextract, resolve_overlaps
from proxy.detectors.pii_recognizers import BEDSIDE_SOURCE

ALL = [
    "PERSON", "LOCATION", "STREET_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD",
    "IBAN_CODE", "US_SSN", "IP_ADDRESS",
]  # fmt: skip


@pytest.fixture(scope="module")
def ner(ner_handle: AnalyzerHandle) -> AnalyzerHandle:
    return ner_handle


@pytest.fixture(scope="module")
def patterns() -> AnalyzerHandle:
    return build_analyzer("no_such_spacy_model_bedside")


def found(handle: AnalyzerHandle, text: str, entities: list[str] | None = None) -> list[tuple[str, str]]:
    return [(r.entity_type, text[r.start : r.end]) for r in handle.analyze(text, entities or ALL)]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("Write to tom.rivers@example.com please", "EMAIL_ADDRESS", "tom.rivers@example.com"),
        ("my number is 555-010-4477, call after six", "PHONE_NUMBER", "555-010-4477"),
        ("reach me on (555) 123-9876", "PHONE_NUMBER", "(555) 123-9876"),
        ("desk line +44 20 7946 0958 until noon", "PHONE_NUMBER", "+44 20 7946 0958"),
        ("pay with 4111 1111 1111 1111 today", "CREDIT_CARD", "4111 1111 1111 1111"),
        ("my card 5500 0000 0000 0005 expired", "CREDIT_CARD", "5500 0000 0000 0005"),
        ("refund to GB82 WEST 1234 5698 7654 32 please", "IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
        ("my SSN is 536-22-8724", "US_SSN", "536-22-8724"),
        ("ssn 536228724 on file", "US_SSN", "536228724"),
        ("the server at 203.0.113.77 is down", "IP_ADDRESS", "203.0.113.77"),
        ("ship to 1428 Elm Street, Springfield", "STREET_ADDRESS", "1428 Elm Street"),
        ("I moved to Keizersgracht 221, Amsterdam", "STREET_ADDRESS", "Keizersgracht 221"),
        ("our office is on Via Garibaldi 14", "STREET_ADDRESS", "Via Garibaldi 14"),
        ("send it to PO Box 7731", "STREET_ADDRESS", "PO Box 7731"),
    ],
)
@pytest.mark.parametrize("mode", ["ner", "patterns"])
def test_each_structured_entity(request: pytest.FixtureRequest, mode: str, text: str, entity: str, value: str) -> None:
    handle = request.getfixturevalue(mode)
    hits = found(handle, text)
    assert any(e == entity and value in v for e, v in hits), hits


def test_street_address_takes_unit_city_state_zip(ner: AnalyzerHandle) -> None:
    text = "Deliver to 77 Larkspur Avenue, Apt 12B, Fairview, OR 97024 before Friday."
    assert ("STREET_ADDRESS", "77 Larkspur Avenue, Apt 12B, Fairview, OR 97024") in found(ner, text)


@pytest.mark.parametrize(
    "text",
    [
        "Please write to PSC 4410, Box 2291\nAPO AE 09876",
        "my flat is 9 Quarry Lane, Brixham TQ5 8AB",
        "we live at Lindenstraße 42, 10969 Berlin",
        "address: 15 Rue des Lilas, Lyon",
        "the shop at the corner of Maple Drive and Birch Road",
    ],
)
def test_street_address_forms(ner: AnalyzerHandle, text: str) -> None:
    assert any(e == "STREET_ADDRESS" for e, _ in found(ner, text)), found(ner, text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hello, my name is Oriane Delacroix-Wuyts and I need help", "Oriane Delacroix-Wuyts"),
        ("Please ask Mr. Thistlewood to call me back", "Thistlewood"),
        ("Thanks for your patience.\nRegards,\nBettany Quell", "Bettany Quell"),
        ("my name is zofia wrenfield", "zofia wrenfield"),
        ("I spoke to Jennifer about the refund yesterday", "Jennifer"),
        ("My son Teodor broke the screen", "Teodor"),
        ("Dear Ms Halvorsen, thank you for writing", "Halvorsen"),
    ],
)
def test_person_heuristics(ner: AnalyzerHandle, patterns: AnalyzerHandle, text: str, name: str) -> None:
    for handle in (ner, patterns):
        hits = found(handle, text)
        assert ("PERSON", name) in hits, hits


def test_person_found_once_is_redacted_everywhere(ner: AnalyzerHandle) -> None:
    text = "My name is Quillan Brack. Quillan has been a member since 2019."
    assert [v for e, v in found(ner, text) if e == "PERSON"] == ["Quillan Brack", "Quillan"]


def test_location_from_ner(ner: AnalyzerHandle) -> None:
    assert ("LOCATION", "Lisbon") in found(ner, "I am flying to Lisbon next week")


def test_no_url_inside_email(ner: AnalyzerHandle) -> None:
    text = "mail me at dana.okafor@example.com"
    assert found(ner, text, ["EMAIL_ADDRESS", "URL"]) == [("EMAIL_ADDRESS", "dana.okafor@example.com")]


def test_ipv4_is_not_also_a_phone(ner: AnalyzerHandle) -> None:
    text = "the gateway 192.168.100.254 keeps dropping"
    assert found(ner, text, ["IP_ADDRESS", "PHONE_NUMBER"]) == [("IP_ADDRESS", "192.168.100.254")]


def test_nine_digits_get_one_type(ner: AnalyzerHandle) -> None:
    text = "my social security number is 536-22-8724"
    entities = ["US_SSN", "US_ITIN", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "PHONE_NUMBER"]
    assert found(ner, text, entities) == [("US_SSN", "536-22-8724")]


def test_payment_terms_are_not_organisations(ner: AnalyzerHandle) -> None:
    text = "Can I pay by Visa, or should I send my IBAN instead? I also use IPv6 at home."
    hits = found(ner, text, ["ORGANIZATION", "PERSON", "LOCATION"])
    assert not any(v in {"Visa", "IBAN", "IPv6"} for _, v in hits), hits


@pytest.mark.parametrize(
    "text",
    [
        "I was charged twice this month, can you refund one payment?",
        "The app crashes when I open the settings page.",
        "WHAT DO I PRESS NEXT?",
        "I ordered 3 items but only 2 arrived on Tuesday.",
        "Please escalate this to a supervisor, thanks.",
    ],
)
def test_clean_text_has_no_pii(ner: AnalyzerHandle, text: str) -> None:
    assert found(ner, text) == []


def _r(entity: str, start: int, end: int, score: float, bedside: bool = False) -> RecognizerResult:
    meta = {"source": BEDSIDE_SOURCE} if bedside else {}
    return RecognizerResult(entity, start, end, score, recognition_metadata=meta)


def test_resolve_overlaps_prefers_address_over_contained_location() -> None:
    text = "12 Baker Street, London"
    out = resolve_overlaps(text, [_r("STREET_ADDRESS", 0, 23, 0.75, True), _r("LOCATION", 17, 23, 0.85)])
    assert [(r.entity_type, r.start, r.end) for r in out] == [("STREET_ADDRESS", 0, 23)]


def test_resolve_overlaps_merges_same_type_and_trims_ner() -> None:
    text = "Ann Marie Lowe wrote ann@example.com"
    results = [
        _r("PERSON", 0, 8, 0.85),
        _r("PERSON", 4, 14, 0.9, True),
        _r("ORGANIZATION", 15, 36, 0.85),
        _r("EMAIL_ADDRESS", 21, 36, 1.0),
    ]
    out = [(r.entity_type, text[r.start : r.end]) for r in resolve_overlaps(text, results)]
    assert out == [("PERSON", "Ann Marie Lowe"), ("ORGANIZATION", "wrote"), ("EMAIL_ADDRESS", "ann@example.com")]


def test_resolve_overlaps_drops_overlapped_structured_loser() -> None:
    text = "10.0.0.255"
    out = resolve_overlaps(text, [_r("IP_ADDRESS", 0, 10, 0.6), _r("PHONE_NUMBER", 0, 10, 0.4)])
    assert [r.entity_type for r in out] == ["IP_ADDRESS"]


def test_fallback_when_model_missing(patterns: AnalyzerHandle) -> None:
    assert patterns.degraded is True
    assert "no_such_spacy_model_bedside" in patterns.detail
    assert patterns.model is None
    assert ("EMAIL_ADDRESS", "li.wen@example.com") in found(patterns, "li.wen@example.com")


def test_default_model_is_not_degraded(ner: AnalyzerHandle) -> None:
    assert ner.degraded is False and ner.detail == "ok"
    assert {"PERSON", "LOCATION", "STREET_ADDRESS"} <= ner.supported_entities


def test_tldextract_offline_and_no_network(ner: AnalyzerHandle, network_attempts: Callable[[], list[str]]) -> None:
    offline_tldextract()
    assert tld_module.TLD_EXTRACTOR.suffix_list_urls == ()
    text = "contact pat.somers@mail.example.co.uk or visit shop.example.org"
    hits = found(ner, text, ["EMAIL_ADDRESS", "URL"])
    assert ("EMAIL_ADDRESS", "pat.somers@mail.example.co.uk") in hits
    assert network_attempts() == []


def test_fallback_build_makes_no_network_attempt(network_attempts: Callable[[], list[str]]) -> None:
    handle = build_analyzer("another_missing_model_bedside")
    handle.analyze("write to kim@example.com", ["EMAIL_ADDRESS"])
    assert handle.degraded and network_attempts() == []


BATCH = [
    "Hello, my name is Maria Gonzalez, call me on +1 415 555 0199 or write to maria@example.com.",
    "Thanks. Could the courier call my husband Daniel on 415-555-0142 instead of me?",
    "",
    "I live at 12 Baker Street, Springfield, and my card is 4111 1111 1111 1111.",
]


def _plain(results: list[RecognizerResult]) -> list[tuple[str, int, int, float]]:
    return [(r.entity_type, r.start, r.end, round(r.score, 4)) for r in results]


@pytest.mark.parametrize("threshold", [0.45, 0.3])
def test_analyze_many_equals_one_call_per_text(ner: AnalyzerHandle, patterns: AnalyzerHandle, threshold: float) -> None:
    for handle in (ner, patterns):
        one = [_plain(handle.analyze(t, ALL, threshold=threshold)) for t in BATCH]
        many = [_plain(r) for r in handle.analyze_many(BATCH, ALL, threshold=threshold)]
        assert many == one


@pytest.mark.parametrize("threshold", [0.45, 0.3])
def test_lean_engine_gives_the_full_engines_results(ner: AnalyzerHandle, threshold: float) -> None:
    assert ner.lean_engine is not None and ner.lean_below == pytest.approx(0.4)
    lean = [_plain(ner.analyze(t, ALL, threshold=threshold)) for t in BATCH]
    saved = ner.lean_engine
    try:
        ner.lean_engine = None
        full = [_plain(ner.analyze(t, ALL, threshold=threshold)) for t in BATCH]
    finally:
        ner.lean_engine = saved
    assert lean == full


def _described(registry: object) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((type(r).__name__, r.supported_language, tuple(r.supported_entities)) for r in registry.recognizers)  # type: ignore[attr-defined]


def test_english_recognizers_load_without_warnings_and_match_presidios_own() -> None:
    """Presidio's stock loader builds recognizers for other languages and drops each with a WARNING
    (eleven at every start-up); Bedside narrows the configuration first: same recognizers, no warnings."""
    from presidio_analyzer import RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    from proxy.detectors.pii_engine import load_english_recognizers

    class Records(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.seen: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.seen.append(record)

    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    presidio_log = logging.getLogger("presidio-analyzer")
    records = Records()
    presidio_log.addHandler(records)
    try:
        stock = RecognizerRegistry(supported_languages=["en"])
        stock.load_predefined_recognizers(nlp_engine=nlp, languages=["en"])
        stock_warnings = [r for r in records.seen if r.levelno >= logging.WARNING]
        records.seen.clear()
        ours = RecognizerRegistry(supported_languages=["en"])
        load_english_recognizers(ours, nlp)
        our_warnings = [r for r in records.seen if r.levelno >= logging.WARNING]
    finally:
        presidio_log.removeHandler(records)
    assert len(stock_warnings) >= 5, "the stock loader still warns (else this test proves nothing)"
    assert our_warnings == []
    assert _described(ours) == _described(stock)
    assert {r.supported_language for r in ours.recognizers} == {"en"}


def test_building_the_engine_logs_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        build_analyzer(None)  # patterns only: the degraded-engine warning is the one expected line
    assert [r.getMessage() for r in caplog.records if r.name.startswith("presidio")] == []
