"""Names in the shapes the name heuristics must hold on: in the middle of a sentence without a
cue, lower case, hyphenated (first or last name), with a particle, alone, in a copy line.

Part of the ``grammar`` source of ``bench/pii_eval.py`` (see ``training/pii_grammar.py``). The
names come from Faker's person providers (MIT) of the scored locales, which the first-name
gazetteer was never built from (``training/build_name_list.py``); the sentences are written for
Bedside (Apache-2.0). Deterministic by seed.
"""

from __future__ import annotations

from training.pii_generators import PiiRow

__all__ = ["name_rows"]

_NAME_MESSAGES = (
    ("mid", "Can {name} pick up the keys on Thursday instead of me?"),
    ("mid", "The booking is under {name}, two nights from the 14th."),
    ("mid", "I already spoke with {name} at your branch and she said it was fine."),
    ("mid", "Please add {name} as a second driver on the rental."),
    ("lower", "can u check if {lname} is on the guest list"),
    ("lower", "{lname} here again, still no refund"),
    ("hyphen", "The contract names {hname} as the tenant."),
    ("hyphen", "{hname} will sign on behalf of the company."),
    ("particle", "Our contact there is {pname}."),
    ("alone", "{name}"),
    ("alone", "Name\n{name}"),
    ("cc", "cc {name}, {name2}"),
)
_PARTICLES = {"nl_NL": "van der", "de_DE": "von", "fr_FR": "de", "it_IT": "di", "es_ES": "de la", "pt_PT": "dos", "en_IE": "Ó", "en_GB": "de", "sv_SE": "af", "da_DK": "von"}


def name_rows(locale: str, n: int = 24, seed: int = 5) -> list[PiiRow]:
    """``n`` messages holding names of ``locale`` in the shapes of :data:`_NAME_MESSAGES`."""
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed + 1)
    rows: list[PiiRow] = []
    for i in range(n):
        kind, tpl = _NAME_MESSAGES[i % len(_NAME_MESSAGES)]
        first, last = fake.first_name(), fake.last_name()
        name = f"{first} {last}"
        hname = f"{first}-{fake.first_name()} {last}" if i % 2 else f"{first} {last}-{fake.last_name()}"
        pname = f"{first} {_PARTICLES.get(locale, 'de')} {last}"
        value = {"lower": name.lower(), "hyphen": hname, "particle": pname}.get(kind, name)
        name2 = f"{fake.first_name()} {fake.last_name()}"
        text = tpl.format(name=name, lname=name.lower(), hname=hname, pname=pname, name2=name2)
        gold = [("PERSON", value, f"name_{kind}")] + ([("PERSON", name2, "name_cc")] if kind == "cc" else [])
        rows.append(PiiRow(text, locale, tuple(gold)))
    return rows
