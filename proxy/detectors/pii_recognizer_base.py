"""What Bedside's own Presidio recognizers share: their source tag and a base class."""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

__all__ = ["BEDSIDE_SOURCE", "BedsideRecognizer", "is_bedside"]

#: Name of the recognition source that :mod:`proxy.detectors.pii_engine` ranks as heuristic.
BEDSIDE_SOURCE = "bedside"


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
