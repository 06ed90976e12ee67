"""PiiDetector: configuration, allow-list, policy recognizers, the result cache, threads, errors."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import FrozenInstanceError
from typing import Any

import pytest

from proxy.detectors.pii import CustomRecognizerSpec, PiiDetectConfig, PiiDetector, PiiSpan
from proxy.detectors.pii_engine import AnalyzerHandle


class CountingEngine:
    """Wraps a real Presidio engine and counts the analyses it runs."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self._lock = threading.Lock()

    def analyze(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
        return self.inner.analyze(*args, **kwargs)


class BrokenEngine:
    def analyze(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("analyzer exploded")


@pytest.fixture(scope="module")
def handle(ner_handle: AnalyzerHandle) -> AnalyzerHandle:
    return ner_handle


@pytest.fixture
def counted(handle: AnalyzerHandle) -> tuple[PiiDetector, CountingEngine]:
    engine = CountingEngine(handle.engine)
    wrapped = AnalyzerHandle(engine, handle.model, handle.degraded, handle.detail, handle.supported_entities)  # type: ignore[arg-type]
    return PiiDetector(wrapped, cache_size=2), engine


def texts(text: str, spans: tuple[PiiSpan, ...]) -> list[tuple[str, str]]:
    return [(s.entity, text[s.start : s.end]) for s in spans]


def test_spans_are_typed_sorted_and_hold_no_text(handle: AnalyzerHandle) -> None:
    text = "I'm at 31 Hollis Road; mail nadia.frost@example.com or call 555-301-2288"
    spans = PiiDetector(handle).analyze(text, PiiDetectConfig())
    assert texts(text, spans) == [
        ("STREET_ADDRESS", "31 Hollis Road"),
        ("EMAIL_ADDRESS", "nadia.frost@example.com"),
        ("PHONE_NUMBER", "555-301-2288"),
    ]
    assert [s.start for s in spans] == sorted(s.start for s in spans)
    assert set(PiiSpan.__slots__) == {"entity", "start", "end", "score"}
    with pytest.raises(FrozenInstanceError):
        spans[0].start = 0  # type: ignore[misc]


def test_only_requested_entities(handle: AnalyzerHandle) -> None:
    text = "Email nadia.frost@example.com, phone 555-301-2288"
    spans = PiiDetector(handle).analyze(text, PiiDetectConfig(entities=("PHONE_NUMBER",)))
    assert texts(text, spans) == [("PHONE_NUMBER", "555-301-2288")]


def test_threshold_filters(handle: AnalyzerHandle) -> None:
    text = "Thanks, Jennifer"  # a gazetteer/cue hit, scored below 0.95
    det = PiiDetector(handle)
    assert det.analyze(text, PiiDetectConfig(entities=("PERSON",)))
    assert det.analyze(text, PiiDetectConfig(entities=("PERSON",), threshold=0.95)) == ()


def test_allow_list(handle: AnalyzerHandle) -> None:
    text = "Write to help@example.com or to nadia.frost@example.com"
    cfg = PiiDetectConfig(entities=("EMAIL_ADDRESS",), allow_list=("HELP@example.com",))
    assert texts(text, PiiDetector(handle).analyze(text, cfg)) == [("EMAIL_ADDRESS", "nadia.frost@example.com")]


def test_custom_regex_needs_its_context(handle: AnalyzerHandle) -> None:
    spec = CustomRecognizerSpec(entity="MEMBER_ID", patterns=(r"\bMB-\d{6}\b",), context=("member", "membership"))
    cfg = PiiDetectConfig(entities=(), custom=(spec,))
    det = PiiDetector(handle)
    with_ctx = "my membership id is MB-402113"
    without = "the part code MB-402113 is on the box"
    assert texts(with_ctx, det.analyze(with_ctx, cfg)) == [("MEMBER_ID", "MB-402113")]
    assert det.analyze(without, cfg) == ()


def test_custom_regex_without_context_always_counts(handle: AnalyzerHandle) -> None:
    spec = CustomRecognizerSpec(entity="TICKET", patterns=(r"\bTCK\d{5}\b",), score=0.8)
    text = "see TCK12345"
    spans = PiiDetector(handle).analyze(text, PiiDetectConfig(entities=(), custom=(spec,)))
    assert spans == (PiiSpan("TICKET", 4, 12, 0.8),)


def test_deny_list(handle: AnalyzerHandle) -> None:
    spec = CustomRecognizerSpec(entity="PROJECT", deny_list=("Project Bluefin", "nightjar"))
    text = "Is project bluefin related to NIGHTJAR? Not nightjars."
    spans = PiiDetector(handle).analyze(text, PiiDetectConfig(entities=(), custom=(spec,)))
    assert texts(text, spans) == [("PROJECT", "project bluefin"), ("PROJECT", "NIGHTJAR")]


def test_config_is_hashable_and_frozen() -> None:
    spec = CustomRecognizerSpec(entity="X", patterns=("a",))
    a = PiiDetectConfig(entities=("PERSON",), custom=(spec,))
    b = PiiDetectConfig(entities=("PERSON",), custom=(CustomRecognizerSpec(entity="X", patterns=("a",)),))
    assert hash(a) == hash(b) and a == b
    with pytest.raises(FrozenInstanceError):
        a.threshold = 0.1  # type: ignore[misc]


def test_cache_hit_runs_analysis_once(counted: tuple[PiiDetector, CountingEngine]) -> None:
    det, engine = counted
    cfg = PiiDetectConfig()
    first = det.analyze("Call Oona Vickers on 555-220-1234", cfg)
    again = det.analyze("Call Oona Vickers on 555-220-1234", cfg)
    assert engine.calls == 1 and first == again and det.hits == 1
    det.analyze("Call Oona Vickers on 555-220-1234", PiiDetectConfig(entities=("PHONE_NUMBER",)))
    assert engine.calls == 2  # another config is another key
    det.analyze("something else entirely", cfg)
    det.analyze("Call Oona Vickers on 555-220-1234", cfg)
    assert engine.calls == 4  # cache_size=2: the first entry was evicted


def test_threads_share_the_cache(counted: tuple[PiiDetector, CountingEngine]) -> None:
    det, engine = counted
    cfg = PiiDetectConfig()
    text = "Deliver to 4 Wren Close, Apt 2, for Ottilie Marsh"
    expected = det.analyze(text, cfg)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: det.analyze(text, cfg), range(64)))
    assert all(r == expected for r in results)
    assert engine.calls == 1


def test_parallel_first_analyses_agree(handle: AnalyzerHandle) -> None:
    det = PiiDetector(handle)
    cfg = PiiDetectConfig()
    inputs = [f"Order {i}: ship to {i + 10} Alder Road, email buyer{i}@example.com" for i in range(24)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda t: det.analyze(t, cfg), inputs))
    serial = [PiiDetector(handle).analyze(t, cfg) for t in inputs]
    assert results == serial


def test_errors_propagate(handle: AnalyzerHandle) -> None:
    broken = AnalyzerHandle(BrokenEngine(), None)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="exploded"):
        PiiDetector(broken).analyze("anything", PiiDetectConfig())


def test_empty_text(handle: AnalyzerHandle) -> None:
    assert PiiDetector(handle).analyze("   ", PiiDetectConfig()) == ()


def test_repr_has_no_text(counted: tuple[PiiDetector, CountingEngine]) -> None:
    det, _ = counted
    det.analyze("secret person Ysolde Parr", PiiDetectConfig())
    assert "Ysolde" not in repr(det)


def test_analyze_many_uses_and_fills_the_cache(handle: AnalyzerHandle) -> None:
    detector = PiiDetector(handle)
    config = PiiDetectConfig()
    texts = ["Ann Lee, ann@example.com", "call 415-555-0142", "Ann Lee, ann@example.com", ""]
    first = detector.analyze_many(texts, config)
    assert first == [detector.analyze(t, config) for t in texts]
    assert first[0] == first[2] and first[3] == ()
    before = detector.hits
    assert detector.analyze_many(texts, config) == first
    assert detector.hits == before + len(texts)
