"""The ``pii`` section: what personal data is redacted before the model sees it, and how.

Every value the request carries is analysed: every string and long number of every field, keys of
objects the client made up included (one walk over the whole request, see
``proxy.privacy.request_walk``); what cannot be analysed (images, audio, files, token arrays) is
refused or dropped, by `unanalysable`. Each detected entity gets its action:
`pseudonymize` (a stable placeholder like `<PERSON_1>`, restored in the reply when `restore` is on),
`mask` (`<EMAIL_ADDRESS>`), `hash` (`<EMAIL_ADDRESS:1a2b3c4d>`, keyed), `drop` (removed) or `allow`.
A request that cannot be analysed (error, timeout, overload) is refused, never forwarded.

Redaction is enforced even when the policy runs in `shadow` mode: only `pii.mode: shadow` turns it
into "analyse and count, change nothing", and only explicitly.
"""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from proxy.policy.sections.base import NonEmptyStr, StrictModel

PiiAction = Literal["mask", "pseudonymize", "hash", "drop", "allow"]

DEFAULT_PII_ENTITIES = [
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "NATIONAL_ID",
    "IP_ADDRESS",
    "STREET_ADDRESS",
    "LOCATION",
]
#: Every entity Bedside's detector finds (its recognizers' and the NER's; a test compares this
#: with the built engine). A policy naming another, not defined under ``custom``, is refused at load.
KNOWN_PII_ENTITIES = frozenset(
    {
        "PERSON", "LOCATION", "STREET_ADDRESS", "ORGANIZATION", "NRP", "DATE_TIME",
        "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL", "MAC_ADDRESS", "UUID", "CRYPTO",
        "NATIONAL_ID", "US_SSN", "US_ITIN", "US_PASSPORT", "US_DRIVER_LICENSE", "US_BANK_NUMBER", "UK_NHS", "MEDICAL_LICENSE",
    }
)  # fmt: skip


class CustomRecognizer(StrictModel):
    """An operator's own entity: regular expressions (with optional context words) or a deny-list."""

    entity: NonEmptyStr = Field(description="Entity name, e.g. `ORDER_ID` (upper case by convention).")
    patterns: list[NonEmptyStr] = Field(default_factory=list, description="Regular expressions that find the entity.")
    deny_list: list[NonEmptyStr] = Field(default_factory=list, description="Exact words or phrases that are always this entity.")
    context: list[NonEmptyStr] = Field(default_factory=list, description="Words that must appear near a pattern match (within 60 characters) for it to count.")
    score: float = Field(default=0.6, ge=0, le=1, description="Confidence given to a match.")


class PiiOutput(StrictModel):
    """What happens to personal data the model writes on its own (not restored from the request)."""

    detect: bool = Field(default=True, description="Check the reply for structured PII (e-mail, phone, card, IBAN, SSN, IP) the user did not send.")
    action: Literal["mask", "allow"] = Field(default="mask", description="`mask` replaces it with `<ENTITY>` before the user sees it; `allow` only records it.")


class Pii(StrictModel):
    """Redaction before the upstream, restoration in the reply."""

    enabled: bool = Field(default=False, description="Redact personal data in requests.")
    entities: list[NonEmptyStr] = Field(
        default_factory=lambda: list(DEFAULT_PII_ENTITIES),
        description="Entity types to detect, any of " + ", ".join(f"`{e}`" for e in sorted(KNOWN_PII_ENTITIES)) + " and those defined under `custom`. "
        "`NATIONAL_ID` is identity, tax and social-security numbers of every country (a US SSN is `US_SSN`). Another name is refused at load.",
    )
    threshold: float = Field(default=0.45, ge=0, le=1, description="Minimum detection score.")
    places: Literal["personal", "all"] = Field(
        default="personal",
        description="`personal` redacts a place where it is someone's (an address, where they live, come from or are going) and "
        "leaves one named in passing (`Is Porto nicer than Lisbon?`); `all` redacts every place found (e.g. HIPAA Safe Harbor).",
    )
    default_action: PiiAction = Field(default="pseudonymize", description="Action for entities not listed in `actions`.")
    actions: dict[NonEmptyStr, PiiAction] = Field(default_factory=dict, description="Per-entity action, e.g. `{CREDIT_CARD: mask}`.")
    restore: bool = Field(default=True, description="Put pseudonymised values back in the reply the user sees (streaming included).")
    allow_list: list[NonEmptyStr] = Field(default_factory=list, description="Values never redacted, e.g. the company's own support address.")
    custom: list[CustomRecognizer] = Field(default_factory=list, description="Operator-defined recognizers.")
    output: PiiOutput = Field(default_factory=PiiOutput, description="PII the model produces itself.")
    timeout_seconds: float = Field(default=5.0, gt=0, description="Longest analysis of one request; beyond it the request is refused.")
    mode: Literal["enforce", "shadow"] = Field(
        default="enforce",
        description="`enforce` redacts. `shadow` only analyses and counts, and sends personal data to the model unchanged; "
        "it must be set here explicitly (a policy's own `mode: shadow` does not relax PII).",
    )
    unanalysable: Literal["refuse", "drop", "forward"] = Field(
        default="refuse",
        description="Content Bedside cannot check for personal data (images as `data:` URLs, audio, file data, token arrays): "
        "`refuse` the request (400 naming the field), `drop` it before forwarding, or `forward` it unchecked.",
    )
    max_values: int = Field(default=500, gt=0, description="Most distinct personal values one request may carry; beyond it the request is refused kindly.")
    max_new_chars: int = Field(
        default=40_000,
        gt=0,
        description="Most characters of new text (not analysed before; a conversation's resent history does not count) one request may ask to analyse; "
        "beyond it the request is refused before any analysis (413). Bounds the CPU one request can cost.",
    )

    @model_validator(mode="after")
    def _known_entities(self) -> Pii:
        own = {c.entity for c in self.custom}
        for where, names in (("entities", self.entities), ("actions", list(self.actions))):
            for name in names:
                if name not in KNOWN_PII_ENTITIES and name not in own:
                    raise PydanticCustomError("pii_entity", "{message}", {"message": unknown_entity_message(where, name)})
        return self


def unknown_entity_message(where: str, name: str) -> str:
    """Why ``pii.<where>`` naming ``name`` is refused, with the closest known names."""
    upper = name.upper()
    close = [k for k in sorted(KNOWN_PII_ENTITIES) if k != upper and (k.startswith(upper) or upper.startswith(k))][:2]
    close = close or difflib.get_close_matches(upper, sorted(KNOWN_PII_ENTITIES), n=2, cutoff=0.6)
    hint = f"Did you mean {' or '.join(close)}? " if close else ""
    national = "National identity, tax and social-security numbers of every country are NATIONAL_ID. " if "_" in name and not close else ""
    return (
        f"pii.{where} names {name!r}, which Bedside cannot detect, so nothing would be redacted for it. {hint}{national}"
        f"Known entities: {', '.join(sorted(KNOWN_PII_ENTITIES))}; or define your own under pii.custom."
    )
