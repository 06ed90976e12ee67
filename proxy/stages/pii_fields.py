"""What a JSON document's field names say about its values (``docs/pii.md``, "JSON documents").

A message or tool result that holds JSON is walked key by key and leaf by leaf
(:mod:`proxy.privacy.request_walk`), so each is analysed without the text around it. What the
field name tells that the value alone does not:

* a field that names a person (``given``, ``family``, ``customer``, ``author``,
  ``patient_first_name``, ``passengerName``; the form labels of
  :mod:`proxy.detectors.pii_field_labels`) holds a person's name: a value of that field shaped like
  a name (one to five words, no digits) is a ``PERSON`` whole, where NER, reading ``Olamide`` alone,
  finds none. A field that may also name a thing (``name``, ``customer``, ``host``) counts when its
  value has a capital first, and a bare ``name`` only beside a contact field (``email``,
  ``phone``, ``address`` ...), so a product's ``name`` stays;
* a field that names an address or a postcode (``address``, ``postcode``, ``zip``, ``indirizzo``)
  holds one: its value is a ``STREET_ADDRESS`` whole (``"postcode": "IV2 4DW"``);
* a field name shaped like an identifier (``sku``, ``order_id``, ``prep_min``: lower case, digits,
  ``_`` or ``-``) is the program's, not a person's: only structured personal data counts there (as
  for function names), unless it is a known first name or surname (a map keyed by ``alice``); and
  so in the value of a field that names a thing (``"brand": "McLaren"``, ``"model": "Artura"``).
"""

from __future__ import annotations

from typing import Any

import regex as re

from proxy.detectors.pii_field_labels import ADDRESS_LABELS, NAME_VALUE_RE, PERSON_LABELS, WEAK_LABELS, label_of, written_like_a_name
from proxy.privacy.request_redaction import Span
from proxy.privacy.slots import Slot

__all__ = ["address_value", "field_spans", "identifier_key", "person_value", "structured_only"]

_IDENT_KEY_RE = re.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")
#: more fields that are a person, as words of a key (``assigned_agent``, ``patient_first_name``)
_PERSON_WORDS = frozenset(
    """given family surname surnames forename forenames firstname lastname fullname middlename maiden nickname
    customer patient passenger guest recipient sender assignee agent nurse doctor physician gp employee manager
    spouse cardholder kin guardian mother father son daughter wife husband traveller traveler attendee applicant
    tenant landlord author approver reviewer chair host speaker""".split()
)
#: ... or the word ``name`` with one of these (``first_name``, ``passengerName``, ``display_name``)
_NAME_QUALIFIERS = _PERSON_WORDS | frozenset("first last full middle given family display preferred legal birth maiden contact user".split())
_NOT_PERSON_FIELDS = frozenset("file host domain product item company business org organisation organization brand street city town place device app model".split())
#: fields that name a thing (``"brand": "McLaren"``, ``"model": "Artura"``): only structured PII there
_THING_WORDS = frozenset("brand brands make model models product products manufacturer vendor sku category colour color flavour flavor variant".split())
_CONTACT_WORDS = frozenset("email mail phone mobile tel telephone cell address dob birth birthday postcode zip".split())
_ADDRESS_WORDS = frozenset("address addr postcode zip zipcode postal eircode pincode".split())


def _beside_contact(holder: Any) -> bool:
    return isinstance(holder, dict) and any(isinstance(k, str) and set(label_of(k).split()) & _CONTACT_WORDS for k in holder)


def person_value(key: object, value: str, holder: Any = None) -> bool:
    """Whether ``value``, a JSON string under ``key`` in ``holder``, is a person's name by its field."""
    if not isinstance(key, str) or len(key) > 60 or len(value) > 80:
        return False
    label = label_of(key)
    words = label.split()
    value = value.strip()
    if not words or any(w in _NOT_PERSON_FIELDS for w in words) or NAME_VALUE_RE.fullmatch(value) is None:
        return False
    if label == "name":
        return written_like_a_name(value) and _beside_contact(holder)
    if label in PERSON_LABELS:
        return label not in WEAK_LABELS or written_like_a_name(value)
    if "name" in words:  # first_name, passengerName: any name-shaped value
        return any(w in _NAME_QUALIFIERS for w in words)
    return any(w in _PERSON_WORDS for w in words) and written_like_a_name(value)  # customer, given: written like a name


def address_value(key: object, value: str) -> bool:
    """Whether ``value``, a JSON string under ``key``, is an address or a postcode by its field."""
    if not isinstance(key, str) or len(key) > 60 or not value.strip() or len(value) > 300:
        return False
    label = label_of(key)
    named = label in ADDRESS_LABELS or bool(set(label.split()) & _ADDRESS_WORDS)
    return named and "email" not in label and "mail" not in label.split() and "ip" not in label.split() and (any(c.isdigit() for c in value) or len(value.split()) >= 2)


def structured_only(slot: Slot) -> bool:
    """Whether only structured personal data counts in ``slot``: an identifier-shaped field name, or
    the value of a field that names a thing (``brand``, ``model``, ``product``; module docstring)."""
    if slot.is_key:
        return identifier_key(slot.text)
    return slot.doc is not None and isinstance(slot.key, str) and bool(set(label_of(slot.key).split()) & _THING_WORDS)


def identifier_key(key: str) -> bool:
    """Whether a field name is identifier-shaped and no known first name or surname (module docstring)."""
    if len(key) > 64 or _IDENT_KEY_RE.fullmatch(key) is None:
        return False
    from proxy.detectors.pii_recognizers import first_names, strong_surnames  # loaded with the PII engine

    return key not in first_names() and key not in strong_surnames()


def field_spans(slot: Slot) -> list[Span] | None:
    """The whole value of a JSON document's person or address field as one span, or None (analyse it)."""
    if slot.doc is None or slot.is_key or slot.kind != "text":
        return None
    if person_value(slot.key, slot.text, slot.holder):
        return [Span("PERSON", 0, len(slot.text), 1.0)]
    if address_value(slot.key, slot.text):
        return [Span("STREET_ADDRESS", 0, len(slot.text), 1.0)]
    return None
