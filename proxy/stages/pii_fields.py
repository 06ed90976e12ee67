"""What a JSON document's field names say about its values (``docs/pii.md``, "JSON documents").

A message or tool result that holds JSON is walked key by key and leaf by leaf
(:mod:`proxy.privacy.request_walk`), so each is analysed without the text around it. Two things
the field name tells that the value alone does not:

* a field that names a person (``given``, ``family``, ``customer``, ``patient_first_name``,
  ``passenger_name``) holds a person's name: a value of that field shaped like a name (one to five
  words, no digits; under a field without ``name`` in it, with a capital first) is a ``PERSON``
  whole, where NER, reading ``Olamide`` alone, finds none;
* a field name shaped like an identifier (``sku``, ``order_id``, ``prep_min``: lower case, digits,
  ``_`` or ``-``) is the program's, not a person's: only structured personal data counts there (as
  for function names), unless it is a known first name or surname (a map keyed by ``alice``).
"""

from __future__ import annotations

import regex as re

__all__ = ["identifier_key", "person_value"]

_IDENT_KEY_RE = re.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")
_KEY_WORDS_RE = re.compile(r"[A-Z]?[a-z]+")
#: a field that is a person: its name holds one of these words alone ...
_PERSON_FIELDS = frozenset(
    """given family surname surnames forename forenames firstname lastname fullname middlename maiden nickname
    customer patient passenger guest recipient sender assignee agent nurse doctor physician gp employee manager
    spouse cardholder kin guardian mother father son daughter wife husband traveller traveler attendee applicant
    tenant landlord""".split()
)
#: ... or the word ``name`` with one of these (``first_name``, ``passengerName``, ``display_name``)
_NAME_QUALIFIERS = _PERSON_FIELDS | frozenset("first last full middle given family display preferred legal birth maiden contact user".split())
_NOT_PERSON_FIELDS = frozenset("file host domain product item company business org organisation organization brand street city town place device app model".split())
_NAME_VALUE_RE = re.compile(r"[\p{L}\p{M}][\p{L}\p{M}'’.\-/]*(?:[ \t]+[\p{L}\p{M}][\p{L}\p{M}'’.\-/]*){0,4}")


def _words(key: str) -> list[str]:
    return [w.lower() for w in _KEY_WORDS_RE.findall(key)]


def person_value(key: object, value: str) -> bool:
    """Whether ``value``, a JSON string under ``key``, is a person's name by its field (module docstring)."""
    if not isinstance(key, str) or len(key) > 60 or len(value) > 80:
        return False
    words = _words(key)
    if not words or any(w in _NOT_PERSON_FIELDS for w in words):
        return False
    value = value.strip()
    if "name" in words:  # first_name, passengerName: any name-shaped value
        named = any(w in _NAME_QUALIFIERS for w in words)
    else:  # customer, given: a value written like a name (a capital first), not "web" or "sans-serif"
        named = any(w in _PERSON_FIELDS for w in words) and value[:1].isupper()
    return named and _NAME_VALUE_RE.fullmatch(value) is not None


def identifier_key(key: str) -> bool:
    """Whether a field name is identifier-shaped and no known first name or surname (module docstring)."""
    if len(key) > 64 or _IDENT_KEY_RE.fullmatch(key) is None:
        return False
    from proxy.detectors.pii_recognizers import first_names, strong_surnames  # loaded with the PII engine

    return key not in first_names() and key not in strong_surnames()
