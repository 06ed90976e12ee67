"""Values a form's label names: ``Surname: Marchetti``, ``Postcode: IV2 4DW``, ``chair: Ada Obi``.

A form, a label or a YAML snippet pasted into a message puts one value per line after its label,
where NER reads a lone surname or a postcode as nothing. :class:`LabelledFieldRecognizer` takes the
value of a line whose label names a person (in the languages of the forms people paste: ``Nom``,
``Cognome``, ``Nachname``, ``Příjmení`` ...) as a PERSON when it is shaped like a name, and the
value of a line whose label names an address or a postcode as a STREET_ADDRESS. Plain regular
expressions over the text; the label decides, never the value's words.
"""

from __future__ import annotations

from typing import Any

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_field_labels import ADDRESS_LABELS, NAME_VALUE_RE, PERSON_LABELS, WEAK_LABELS, label_of, written_like_a_name
from proxy.detectors.pii_recognizer_base import BedsideRecognizer
from proxy.detectors.pii_recognizers import first_names, fold

__all__ = ["LabelledFieldRecognizer"]

_FIELD_RE = re.compile(r"(?m)^[ \t>*-]*(?P<label>\p{L}[\p{L}\p{M} _.'-]{0,28}?)[ \t]*[:=：][ \t　]*(?P<value>[^\n]{1,160}?)[ \t　]*$")
_QUOTES = "\"'“”‘’"


def _address_like(value: str) -> bool:
    """A digit in it, or several words none of which is a known first name (``Shipping address:
    Helena Marsh`` + line break is the recipient: the PERSON rules take it)."""
    if any(c.isdigit() for c in value):
        return True
    names = first_names()
    return len(value.split()) >= 2 and not any(fold(w) in names for w in value.split())


class LabelledFieldRecognizer(BedsideRecognizer):
    """A name after a person's label, an address after an address's label (module docstring)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON", "STREET_ADDRESS"], name="BedsideLabelledField")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return the values of labelled lines whose label names a person or an address."""
        if ":" not in text and "=" not in text and "：" not in text:
            return []
        out: list[RecognizerResult] = []
        for m in _FIELD_RE.finditer(text):
            label = label_of(m.group("label"))
            start, end = m.start("value"), m.end("value")
            while start < end and text[start] in _QUOTES:
                start += 1
            while end > start and text[end - 1] in _QUOTES + ",":
                end -= 1
            value = text[start:end]
            if not value.strip():
                continue
            named = label in PERSON_LABELS and (label not in WEAK_LABELS or written_like_a_name(value))
            if "PERSON" in entities and named and NAME_VALUE_RE.fullmatch(value) is not None and len(value) <= 60:
                out.append(self._result("PERSON", start, end, 0.7))
            elif "STREET_ADDRESS" in entities and label in ADDRESS_LABELS and _address_like(value):
                out.append(self._result("STREET_ADDRESS", start, end, 0.7))
        return out

