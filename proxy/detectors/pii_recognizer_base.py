"""What Bedside's own Presidio recognizers share: their source tag and a base class."""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

__all__ = ["BEDSIDE_SOURCE", "BEYOND_LATIN", "KANA", "NER_TYPES", "BedsideRecognizer", "is_bedside"]

#: Name of the recognition source that :mod:`proxy.detectors.pii_engine` ranks as heuristic.
BEDSIDE_SOURCE = "bedside"
#: a character beyond Latin script (a range test, much cheaper than the scripts' own classes): the
#: recognizers of other scripts look no further in a text without one
BEYOND_LATIN = re.compile(r"[\u0370-\U0010ffff]")
#: Entities the statistical NER proposes; they lose overlaps and are checked against NOT_ENTITIES.
NER_TYPES = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"})
#: Japanese kana: a text with none is not Japanese (its kanji shapes read Chinese text wrongly)
KANA = re.compile(r"[\p{Hiragana}\p{Katakana}]")


def is_bedside(r: RecognizerResult) -> bool:
    """Whether one of Bedside's own recognizers found ``r`` (ranked as heuristic, never dropped as NER noise)."""
    return bool(r.recognition_metadata and r.recognition_metadata.get("source") == BEDSIDE_SOURCE)


class BedsideRecognizer(EntityRecognizer):
    """Base for Bedside's recognizers: no model to load, results tagged as Bedside's."""

    def load(self) -> None:
        """Nothing to load: the patterns are compiled at import."""

    def _result(self, entity: str, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity,
            start,
            end,
            score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: type(self).__name__,
                "source": BEDSIDE_SOURCE,
            },
        )
