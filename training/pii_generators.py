"""Synthetic PII in many locales (Faker, MIT) for per-locale leak and over-redaction figures.

:func:`pii_rows` writes, per locale, messages holding a person's name (full, lower-case,
hyphenated, standing alone) or a postal address (one line, several lines, with units and PO
boxes), with the gold values; :func:`clean_rows` writes PII-free messages that name products,
public places in general statements, and code. Deterministic by seed. Written for Bedside
(Apache-2.0); the names and addresses are Faker's inventions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

__all__ = ["LOCALES", "PiiRow", "clean_rows", "pii_rows"]

#: US, UK, Canada, Ireland, Australia, India and the main EU countries.
LOCALES = ("en_US", "en_GB", "en_CA", "en_IE", "en_AU", "en_IN", "fr_FR", "de_DE", "de_AT", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_PT", "sv_SE", "da_DK")


@dataclass(frozen=True, slots=True)
class PiiRow:
    """One message; ``gold`` holds (entity, value, kind) of each personal value in it."""

    text: str
    locale: str
    gold: tuple[tuple[str, str, str], ...]


_NAME_TEMPLATES = (
    ("full", "My name is {name} and I'd like to change my delivery date."),
    ("full", "{name} called yesterday about the refund for order 4471."),
    ("full", "Please ask for {name} at the front desk when you arrive."),
    ("lower", "hi its {lname} here, my parcel still hasnt arrived"),
    ("lower", "this is {lname}, can you check my booking please"),
    ("hyphen", "The form was signed by {first} {hyphen} on Monday."),
    ("hyphen", "Could you send the invoice to {first} {hyphen}?"),
    ("alone", "{name}"),
    ("alone", "{first}"),
    ("first", "Thanks {first}, that fixed it!"),
)
_ADDRESS_TEMPLATES = (
    ("oneline", "Please send the replacement to {oneline}."),
    ("multiline", "My new address is:\n{address}"),
    ("street", "I moved last week, I now live at {street} in {city}."),
    ("pobox", "Post the documents to PO Box {box}, {city} {postcode}, please."),
    ("oneline", "Can you update the billing address to {oneline}"),
)


def _faker(locale: str, seed: int) -> Any:
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


def pii_rows(locale: str, n: int = 30, seed: int = 3) -> list[PiiRow]:
    """``n`` name rows and ``n`` address rows of ``locale``."""
    fake = _faker(locale, seed)
    rng = random.Random(f"{locale}-{seed}")  # noqa: S311 - reproducible generated data, not cryptography
    rows: list[PiiRow] = []
    for i in range(n):
        kind, tpl = _NAME_TEMPLATES[i % len(_NAME_TEMPLATES)]
        first, last = fake.first_name(), fake.last_name()
        name = f"{first} {last}"
        hyphen = f"{last}-{fake.last_name()}"
        text = tpl.format(name=name, lname=name.lower(), first=first, hyphen=hyphen)
        value = {"lower": name.lower(), "hyphen": f"{first} {hyphen}", "first": first}.get(kind, first if tpl == "{first}" else name)
        rows.append(PiiRow(text, locale, (("PERSON", value, f"name_{kind}" if tpl != "{first}" else "name_alone_first"),)))
    for i in range(n):
        kind, tpl = _ADDRESS_TEMPLATES[i % len(_ADDRESS_TEMPLATES)]
        address = fake.address()
        lines = [x.strip() for x in address.split("\n") if x.strip()]
        street = fake.street_address()
        city = fake.city()
        postcode = fake.postcode()
        box = rng.randint(10, 9999)
        text = tpl.format(oneline=", ".join(lines), address=address, street=street, city=city, postcode=postcode, box=box)
        if kind == "street":
            gold = street
        elif kind == "pobox":
            gold = f"PO Box {box}"
        else:
            gold = next((x for x in lines if any(c.isdigit() for c in x) and any(c.isalpha() for c in x)), lines[0])
        rows.append(PiiRow(text, locale, (("STREET_ADDRESS", gold, f"address_{kind}"),)))
    return rows


_CLEAN = (
    "I bought the {product} last month and the battery already drains by lunchtime.",
    "Is the {product} compatible with my old charger?",
    "{place} gets very crowded in July, so we went in the evening.",
    "We visited {place} on our trip and the queue was short.",
    "The new branch near {place} opens at nine on weekdays.",
    "Run `git rebase -i HEAD~3` and then force-push the branch.",
    "In Python, `for name in names: print(name.title())` prints each one.",
    "Set max_retries = 3 and timeout = 30 in config.yaml before deploying.",
    "Our Premium plan includes {product} support at no extra cost.",
    "The Summer Sale ends on Sunday and covers the {product}.",
)
_PRODUCTS = ("iPhone 15 Pro", "Galaxy S23", "Kindle Paperwhite", "PlayStation 5", "Dyson V15", "ThinkPad X1 Carbon", "Apple Watch", "Nespresso Vertuo")
_PLACES = ("the Eiffel Tower", "Central Park", "the British Museum", "Times Square", "the Colosseum", "Sagrada Família", "the Brandenburg Gate", "Hyde Park")


def clean_rows(seed: int = 9) -> list[str]:
    """PII-free messages naming products, public places in general statements, and code."""
    rng = random.Random(seed)  # noqa: S311 - reproducible generated data, not cryptography
    return [tpl.format(product=rng.choice(_PRODUCTS), place=rng.choice(_PLACES)) for tpl in _CLEAN for _ in range(3)]
