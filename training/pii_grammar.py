"""Bedside's own postal grammar: addresses in the formats of 19 countries, names of many kinds, and
benign look-alikes, each embedded in varied messages (names: ``training/pii_name_shapes.py``;
look-alikes: ``training/pii_lookalikes.py``).

This is the ``grammar`` source of the leave-one-source-out tables of ``bench/pii_eval.py`` (the
others: Faker's own address formats in ``training/pii_generators.py``, and the presidio-research
synthetic set). The formats are written from the national postal conventions (house number before
or after the street, street-type words per language, units and floors, PO boxes, postcode shapes),
never from an evaluation text; the words that fill them (surnames, first names, en_* towns) come
from Faker's person and address providers of the same locale (Faker, MIT), the other towns are
real place names (public facts), and the sentences are written for Bedside (Apache-2.0).
Deterministic: every function takes a seed.

Each :class:`~training.pii_generators.PiiRow` holds the gold values: for an address, the street
line (number and street, or the PO box) and, where the format has them, the unit and the postcode;
for a name, the name as written.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from typing import Any

from training.pii_generators import PiiRow
from training.pii_grammar_words import _AU_KINDS, _COUNTIES, _IN_KINDS, _STATES, _TOWNS, _UK_KINDS, _US_KINDS

__all__ = ["COUNTRIES", "DEV_COUNTRIES", "HELD_OUT_COUNTRIES", "grammar_rows"]

_U = string.ascii_uppercase
#: Country -> Faker locale for the words that fill its formats.
COUNTRIES: dict[str, str] = {
    "US": "en_US", "GB": "en_GB", "CA": "en_CA", "QC": "fr_CA", "IE": "en_IE", "AU": "en_AU", "IN": "en_IN",
    "DE": "de_DE", "AT": "de_AT", "FR": "fr_FR", "BE": "nl_BE", "ES": "es_ES", "IT": "it_IT", "NL": "nl_NL",
    "PL": "pl_PL", "PT": "pt_PT", "SE": "sv_SE", "DK": "da_DK", "FI": "fi_FI",
}  # fmt: skip
#: Countries whose failures were read while the recognizer was written; the others are only scored.
DEV_COUNTRIES = ("US", "GB", "IN", "DE", "FR", "ES", "IT")
HELD_OUT_COUNTRIES = tuple(c for c in COUNTRIES if c not in DEV_COUNTRIES)

def _d(rng: random.Random, lo: int, hi: int) -> str:
    return str(rng.randint(lo, hi))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _uk_postcode(rng: random.Random) -> str:
    shape = rng.choice(("A9", "A99", "AA9", "AA99", "A9A", "AA9A"))
    out = "".join(rng.choice("ABCDEGHKLMNPRSTW") if c == "A" else str(rng.randint(1, 9)) for c in shape)
    return f"{out} {rng.randint(0, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


def _ca_postcode(rng: random.Random) -> str:
    a = "ABCEGHJKLMNPRSTVXY"
    return f"{rng.choice(a)}{rng.randint(0, 9)}{rng.choice(a)} {rng.randint(0, 9)}{rng.choice(a)}{rng.randint(0, 9)}"


def _eircode(rng: random.Random) -> str:
    key = rng.choice(("D02", "D08", "D6W", "A65", "T12", "H91", "V94", "X91", "F92", "R95"))
    return f"{key} {''.join(rng.choice('ACDEFHKNPRTVWXY0123456789') for _ in range(4))}"


def _en_street(rng: random.Random, fake: Any, kinds: tuple[str, ...]) -> str:
    root = rng.choice(
        (
            fake.last_name(),
            fake.first_name(),
            fake.last_name() + " " + rng.choice(("Hill", "Park", "Valley", "Mill")),
            rng.choice(("Oak", "Maple", "Church", "Station", "High", "Mill", "Queen", "King", "Victoria", "Elm")),
        )
    )
    return f"{root} {rng.choice(kinds)}"


def _us(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    num, street = _d(rng, 1, 19999), _en_street(rng, fake, _US_KINDS)
    if rng.random() < 0.3:
        street = rng.choice(("N", "S", "E", "W", "North", "West")) + " " + street
    line = f"{num} {street}"
    unit = rng.choice(("", "", f"Apt {_d(rng, 1, 40)}{rng.choice(('', 'B', 'C'))}", f"Suite {_d(rng, 100, 2400)}", f"#{_d(rng, 2, 900)}", f"Unit {_d(rng, 1, 60)}", f"Ste. {_d(rng, 100, 900)}"))
    zipc = _digits(rng, 5) + (f"-{_digits(rng, 4)}" if rng.random() < 0.3 else "")
    tail = f"{fake.city()}, {rng.choice(_STATES['US'])} {zipc}"
    if rng.random() < 0.15:
        line = f"P.O. Box {_d(rng, 10, 99999)}" if rng.random() < 0.5 else f"PO Box {_d(rng, 10, 9999)}"
        return line, f"{line}, {tail}", zipc
    parts = (f"{line} {unit}", tail) if unit and rng.random() < 0.5 else (line, unit, tail)
    return line, ", ".join(x for x in parts if x), zipc


def _gb(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc, town = _uk_postcode(rng), fake.city()
    if rng.random() < 0.12:
        line = f"PO Box {_d(rng, 1, 9999)}"
        return line, f"{line}, {town} {pc}", pc
    line = f"{_d(rng, 1, 240)}{rng.choice(('', '', 'a', 'B'))} {_en_street(rng, fake, _UK_KINDS)}"
    pre = rng.choice(("", "", f"Flat {_d(rng, 1, 30)}", f"Flat {_d(rng, 1, 4)}/{_d(rng, 1, 3)}", f"{fake.last_name()} House", f"Apartment {_d(rng, 1, 90)}"))
    parts = (pre, line, rng.choice((f"{town}, {pc}", f"{town} {pc}", f"{town.upper()}\n{pc}")))
    return line, ", ".join(p for p in parts if p), pc


def _ca(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc, num = _ca_postcode(rng), _d(rng, 1, 9999)
    street = _en_street(rng, fake, ("Street", "St", "Avenue", "Ave", "Road", "Rd", "Drive", "Crescent", "Boulevard", "Way"))
    line = f"{_d(rng, 1, 2400)}-{num} {street}" if rng.random() < 0.3 else f"{num} {street}"
    if rng.random() < 0.12:
        line = f"PO Box {_d(rng, 1, 9999)}" + rng.choice(("", " Stn Main", " Station A"))
    return line, f"{line}, {fake.city()}, {rng.choice(_STATES['CA'])} {pc}", pc


def _qc(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc, num = _ca_postcode(rng), _d(rng, 1, 9999)
    kind = rng.choice(("rue", "boulevard", "avenue", "chemin", "rang", "montée"))
    line = f"{num}, {kind} {rng.choice(('', 'de la ', 'des ', 'du '))}{fake.last_name()}" if rng.random() < 0.6 else f"{num} {kind.capitalize()} {fake.last_name()}"
    if rng.random() < 0.15:
        line = f"C.P. {_d(rng, 10, 9999)}"
    app = rng.choice(("", "", f"app. {_d(rng, 1, 40)}", f"bureau {_d(rng, 100, 900)}"))
    return line, ", ".join(x for x in (line, app, f"{rng.choice(_TOWNS['QC'])} (Québec) {pc}") if x), pc


def _ie(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    code = _eircode(rng)
    line = f"{_d(rng, 1, 180)} {_en_street(rng, fake, ('Road', 'Street', 'Avenue', 'Park', 'Terrace', 'Lawn', 'Drive', 'Grove', 'Crescent', 'Court', 'Heights'))}"
    pre = rng.choice(("", "", f"Apartment {_d(rng, 1, 80)}", f"Apt {_d(rng, 1, 40)}", f"{rng.choice(('The Old Rectory', 'Rose Cottage', 'Glenview House'))}"))
    county = rng.choice((f"Co. {rng.choice(_COUNTIES)}", f"County {rng.choice(_COUNTIES)}", f"Dublin {rng.randint(1, 24)}"))
    return line, ", ".join(x for x in (pre, line, fake.city() if rng.random() < 0.5 else "", county, code) if x), code


def _au(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc, st = _digits(rng, 4), rng.choice(_STATES["AU"])
    street = _en_street(rng, fake, _AU_KINDS)
    r = rng.random()
    if r < 0.3:
        line = f"{_d(rng, 1, 40)}/{_d(rng, 1, 400)} {street}"
    elif r < 0.45:
        line = f"Unit {_d(rng, 1, 40)}, {_d(rng, 1, 400)} {street}"
    elif r < 0.55:
        line = f"Level {_d(rng, 1, 30)}, {_d(rng, 1, 400)} {street}"
    elif r < 0.67:
        line = rng.choice((f"PO Box {_d(rng, 1, 9999)}", f"GPO Box {_d(rng, 1, 9999)}", f"Locked Bag {_d(rng, 1, 99)}"))
    else:
        line = f"{_d(rng, 1, 400)} {street}"
    return line, f"{line}, {fake.city().upper() if rng.random() < 0.3 else fake.city()} {st} {pc}", pc


def _in(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pin = _digits(rng, 6)
    pin_w = rng.choice((pin, f"{pin[:3]} {pin[3:]}"))
    area = rng.choice((f"{fake.last_name()} Nagar", f"{fake.first_name()} Colony", f"Sector {_d(rng, 1, 60)}", f"{fake.last_name()} Layout", f"Phase {_d(rng, 1, 4)}"))
    street = f"{fake.last_name()} {rng.choice(_IN_KINDS)}"
    line = rng.choice(
        (
            f"Flat No. {_d(rng, 101, 1204)}, {fake.last_name()} {rng.choice(('Apartments', 'Residency', 'Towers', 'Enclave'))}",
            f"H.No. {_d(rng, 1, 16)}-{_d(rng, 1, 9)}-{_d(rng, 10, 999)}",
            f"#{_d(rng, 1, 999)}, {rng.choice(('1st', '2nd', '3rd', '4th', '5th'))} Cross",
            f"Plot No. {_d(rng, 1, 400)}, {street}",
            f"Door No. {_d(rng, 1, 99)}/{_d(rng, 1, 200)}, {street}",
            f"{_d(rng, 1, 999)}, {street}",
        )
    )
    town = rng.choice(_TOWNS["IN"])
    tail = f"{area}, {town} - {pin_w}" if rng.random() < 0.5 else f"{area}, {town}, {rng.choice(_STATES['IN'])} {pin_w}"
    return line, f"{line}, {tail}", pin


def _de_street(rng: random.Random, fake: Any, suffixes: tuple[str, ...]) -> str:
    root = rng.choice((fake.last_name(), fake.first_name(), rng.choice(("Linden", "Berg", "Kirch", "Schiller", "Bahnhof", "Haupt", "Garten", "Mozart"))))
    r = rng.random()
    if r < 0.15:
        return f"{rng.choice(('Am', 'An der', 'Im', 'Zum', 'Auf dem'))} {root}{rng.choice(('', 'feld', 'hof', 'berg'))}"
    if r < 0.3:
        return f"{root} {rng.choice(('Straße', 'Str.', 'Weg', 'Allee', 'Platz'))}"
    return f"{root}{rng.choice(suffixes)}"


def _de(rng: random.Random, fake: Any, country: str = "DE") -> tuple[str, str, str]:
    pc = _digits(rng, 5 if country == "DE" else 4)
    town = rng.choice(_TOWNS[country])
    if rng.random() < 0.12:
        line = f"Postfach {_d(rng, 10, 99)} {_d(rng, 10, 99)} {_d(rng, 10, 99)}" if country == "DE" else f"Postfach {_d(rng, 1, 999)}"
        return line, f"{line}, {pc} {town}", pc
    num = _d(rng, 1, 180) + rng.choice(("", "", "a", "b", "-3"))
    if country == "AT" and rng.random() < 0.4:
        num += f"/{_d(rng, 1, 9)}/{_d(rng, 1, 30)}"
    line = f"{_de_street(rng, fake, ('straße', 'strasse', 'str.', 'weg', 'allee', 'gasse', 'ring', 'platz', 'damm'))} {num}"
    extra = rng.choice(("", "", f"{_d(rng, 1, 5)}. OG", f"Whg. {_d(rng, 1, 30)}", f"c/o {fake.last_name()}"))
    return line, ", ".join(x for x in (line, extra, f"{'A-' if country == 'AT' and rng.random() < 0.3 else ''}{pc} {town}") if x), pc


def _fr(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc = _digits(rng, 5)
    if rng.random() < 0.12:
        line = rng.choice((f"BP {_d(rng, 1, 9999)}", f"B.P. {_d(rng, 1, 999)}", f"CS {_digits(rng, 5)}"))
        return line, f"{line}, {pc} {rng.choice(_TOWNS['FR'])} Cedex", pc
    kind = rng.choice(("rue", "avenue", "boulevard", "bd", "allée", "impasse", "chemin", "place", "quai", "route", "cours"))
    name = rng.choice(
        (
            f"{fake.first_name()} {fake.last_name()}",
            fake.last_name(),
            f"des {rng.choice(('Lilas', 'Acacias', 'Écoles', 'Tilleuls'))}",
            f"de la {rng.choice(('Gare', 'République', 'Paix', 'Liberté'))}",
            f"du {rng.choice(('Général Leclerc', 'Château', 'Moulin'))}",
        )
    )
    num = _d(rng, 1, 250) + rng.choice(("", "", " bis", " ter"))
    line = f"{num}{rng.choice((',', ''))} {kind} {name}"
    pre = rng.choice(("", "", f"Appt {_d(rng, 1, 60)}", f"Bât. {rng.choice('ABCD')}", f"Résidence {fake.last_name()}", f"{_d(rng, 1, 8)}e étage"))
    return line, ", ".join(x for x in (pre, line, f"{pc} {rng.choice(_TOWNS['FR'])}") if x), pc


def _be(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc = _d(rng, 1000, 9999)
    if rng.random() < 0.5:
        line = f"{fake.last_name()}{rng.choice(('straat', 'laan', 'steenweg', 'plein', 'dreef'))} {_d(rng, 1, 300)}"
        extra = rng.choice(("", f"bus {_d(rng, 1, 40)}"))
    else:
        line = f"{rng.choice(('Rue', 'Avenue', 'Chaussée', 'Place'))} {rng.choice(('de ', 'du ', ''))}{fake.last_name()} {_d(rng, 1, 300)}"
        extra = rng.choice(("", f"bte {_d(rng, 1, 40)}"))
    return line, f"{line}{' ' + extra if extra else ''}, {pc} {rng.choice(_TOWNS['BE'])}", pc


def _es(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc = f"{rng.randint(1, 52):02d}{_digits(rng, 3)}"
    if rng.random() < 0.12:
        line = rng.choice((f"Apartado de Correos {_d(rng, 1, 9999)}", f"Apdo. {_d(rng, 1, 999)}"))
        return line, f"{line}, {pc} {rng.choice(_TOWNS['ES'])}", pc
    kind = rng.choice(("Calle", "C/", "Avenida", "Avda.", "Paseo", "Plaza", "Camino", "Ronda", "Travesía", "Carrer"))
    name = rng.choice((fake.last_name(), f"de {fake.first_name()} {fake.last_name()}", f"del {rng.choice(('Carmen', 'Prado', 'Sol', 'Mar'))}", f"de la {rng.choice(('Constitución', 'Paz', 'Reina'))}"))
    line = f"{kind} {name}, {_d(rng, 1, 200)}" if rng.random() < 0.6 else f"{kind} {name} {_d(rng, 1, 200)}"
    floor = rng.choice(("", f"{_d(rng, 1, 9)}º {rng.choice('ABCD')}", f"{_d(rng, 1, 9)}º izq.", "bajo", f"piso {_d(rng, 1, 9)}, puerta {_d(rng, 1, 4)}", f"{_d(rng, 1, 9)}º-{_d(rng, 1, 4)}ª"))
    return line, ", ".join(x for x in (line, floor, f"{pc} {rng.choice(_TOWNS['ES'])}") if x), pc


def _it(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc = _digits(rng, 5)
    if rng.random() < 0.12:
        line = rng.choice((f"Casella Postale {_d(rng, 1, 9999)}", f"C.P. {_d(rng, 1, 999)}"))
        return line, f"{line}, {pc} {rng.choice(_TOWNS['IT'])}", pc
    kind = rng.choice(("Via", "Viale", "V.le", "Piazza", "P.zza", "Corso", "C.so", "Vicolo", "Largo", "Strada", "Lungomare"))
    name = rng.choice(
        (
            fake.last_name(),
            f"{fake.first_name()} {fake.last_name()}",
            f"dei {rng.choice(('Mille', 'Tigli', 'Partigiani'))}",
            f"della {rng.choice(('Repubblica', 'Libertà', 'Vittoria'))}",
            "XX Settembre",
        )
    )
    line = f"{kind} {name}{rng.choice((',', ''))} {_d(rng, 1, 250)}{rng.choice(('', '', '/A', 'b'))}"
    extra = rng.choice(("", "", f"int. {_d(rng, 1, 30)}", f"scala {rng.choice('ABC')}"))
    tail = f"{pc} {rng.choice(_TOWNS['IT'])}" + (f" ({rng.choice(_STATES['IT'])})" if rng.random() < 0.6 else "")
    return line, ", ".join(x for x in (line, extra, tail) if x), pc


def _nl(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc = f"{rng.randint(1000, 9999)} {rng.choice(_U)}{rng.choice(_U)}"
    if rng.random() < 0.12:
        line = f"Postbus {_d(rng, 1, 99999)}"
        return line, f"{line}, {pc} {rng.choice(_TOWNS['NL'])}", pc
    name = rng.choice(
        (
            f"{fake.last_name().replace(' ', '')}{rng.choice(('straat', 'laan', 'weg', 'plein', 'gracht', 'kade', 'singel', 'dijk'))}",
            f"{rng.choice(('Laan van', 'Burgemeester', 'Van'))} {fake.last_name().split()[-1]}{rng.choice(('', 'straat', 'laan'))}",
        )
    )
    line = f"{name} {_d(rng, 1, 400)}{rng.choice(('', '', 'A', '-2', ' hs', ' bis', '-III'))}"
    return line, f"{line}, {pc} {rng.choice(_TOWNS['NL'])}", pc


def _pl(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc = f"{_digits(rng, 2)}-{_digits(rng, 3)}"
    if rng.random() < 0.12:
        line = rng.choice((f"skr. poczt. {_d(rng, 1, 999)}", f"Skrytka pocztowa {_d(rng, 1, 999)}"))
        return line, f"{line}, {pc} {rng.choice(_TOWNS['PL'])}", pc
    kind = rng.choice(("ul.", "ul.", "al.", "pl.", "os.", "ulica", "aleja"))
    name = rng.choice((fake.last_name(), f"{fake.first_name()}a {fake.last_name()}", rng.choice(("Piłsudskiego", "Mickiewicza", "Kościuszki", "Długa", "Polna", "Leśna", "Ogrodowa"))))
    num = _d(rng, 1, 200) + rng.choice(("", f"/{_d(rng, 1, 90)}", f" m. {_d(rng, 1, 90)}", f" lok. {_d(rng, 1, 20)}", "A"))
    return f"{kind} {name} {num}", f"{kind} {name} {num}, {pc} {rng.choice(_TOWNS['PL'])}", pc


def _pt(rng: random.Random, fake: Any) -> tuple[str, str, str]:
    pc = f"{_digits(rng, 4)}-{_digits(rng, 3)}"
    if rng.random() < 0.12:
        line = f"Apartado {_d(rng, 1, 9999)}"
        return line, f"{line}, {pc} {rng.choice(_TOWNS['PT'])}", pc
    kind = rng.choice(("Rua", "R.", "Avenida", "Av.", "Travessa", "Largo", "Praça", "Estrada", "Calçada", "Alameda"))
    name = rng.choice(
        (fake.last_name(), f"{fake.first_name()} {fake.last_name()}", f"de {rng.choice(('Santo António', 'São João', 'Camões'))}", f"da {rng.choice(('Liberdade', 'República', 'Boavista'))}")
    )
    line = rng.choice((f"{kind} {name}, {_d(rng, 1, 300)}", f"{kind} {name} {_d(rng, 1, 300)}", f"{kind} {name}, nº {_d(rng, 1, 300)}"))
    floor = rng.choice(("", f"{_d(rng, 1, 9)}º Esq.", f"{_d(rng, 1, 9)}º Dto", "r/c", f"{_d(rng, 1, 9)}º andar"))
    return line, ", ".join(x for x in (line, floor, f"{pc} {rng.choice(_TOWNS['PT'])}") if x), pc


def _nordic(rng: random.Random, fake: Any, country: str) -> tuple[str, str, str]:
    suffixes = {
        "SE": ("gatan", "vägen", "gränd", "torget", "stigen", "backen", "allén", "plan"),
        "DK": ("vej", "gade", "allé", "stræde", "plads", "torv", "vænget", "parken"),
        "FI": ("katu", "tie", "kuja", "polku", "kaari", "rinne", "tori"),
    }[country]
    pc = {"SE": f"{_digits(rng, 3)} {_digits(rng, 2)}", "DK": _d(rng, 1000, 9990), "FI": _digits(rng, 5)}[country]
    box = {"SE": "Box", "DK": "Postboks", "FI": "PL"}[country]
    town = rng.choice(_TOWNS[country])
    if rng.random() < 0.12:
        line = f"{box} {_d(rng, 1, 9999)}"
        return line, f"{line}, {pc} {town}", pc
    root = rng.choice((fake.last_name(), fake.first_name(), rng.choice(("Kyrk", "Skol", "Stor", "Nørre", "Kirke", "Mäki", "Ranta"))))
    line = f"{root.replace(' ', '')}{rng.choice(suffixes)} {_d(rng, 1, 150)}{rng.choice(('', '', 'A', ' B'))}"
    unit = {
        "SE": rng.choice(("", f"lgh {_d(rng, 1001, 1605)}", f"{_d(rng, 1, 5)} tr")),
        "DK": rng.choice(("", f"{_d(rng, 1, 5)}. tv", "st. th", f"{_d(rng, 1, 5)}. {_d(rng, 1, 3)}.")),
        "FI": rng.choice(("", f"A {_d(rng, 1, 40)}", f"as. {_d(rng, 1, 40)}")),
    }[country]
    return line, ", ".join(x for x in (f"{line} {unit}".strip() if country != "SE" else line, unit if country == "SE" else "", f"{pc} {town}") if x), pc


_BUILDERS: dict[str, Callable[[random.Random, Any], tuple[str, str, str]]] = {
    "US": _us, "GB": _gb, "CA": _ca, "QC": _qc, "IE": _ie, "AU": _au, "IN": _in, "DE": _de,
    "AT": lambda r, f: _de(r, f, "AT"), "FR": _fr, "BE": _be, "ES": _es, "IT": _it, "NL": _nl, "PL": _pl, "PT": _pt,
    "SE": lambda r, f: _nordic(r, f, "SE"), "DK": lambda r, f: _nordic(r, f, "DK"), "FI": lambda r, f: _nordic(r, f, "FI"),
}  # fmt: skip

#: Messages an address is written into: where the address stands (start, middle, end, alone, its
#: own lines), with and without a cue word, typed carelessly.
_ADDRESS_MESSAGES = (
    "{full}",
    "Hello, could you change where my parcel goes? It should now go to {full}. Thanks!",
    "{full} is where the courier should leave it",
    "new adress: {full}",
    "we're at {full} from next month, please update your records",
    "Billing details\n{name}\n{lines}\n",
    "The inspection is booked for Friday at {full}; ring the bell twice.",
    "pls deliver to {lower}",
    "Return label should show {full} as the sender.",
    "My landlord's address is {full} if you need to send the notice there.",
    "Ship to: {name}, {full}",
    '{{"name": "{name}", "address": "{full}"}}',
    "I grew up in {town} but today I rent a room at {street}.",
    "The meeting moved to our office at {street}, second floor.",
)


def grammar_rows(country: str, n: int = 30, seed: int = 5) -> list[PiiRow]:
    """``n`` messages holding an address of ``country`` written by :data:`_BUILDERS`.

    Gold: the street line (``address_street``) and the postcode (``address_postcode``), both as
    written in the message.
    """
    from faker import Faker

    fake = Faker(COUNTRIES[country])
    fake.seed_instance(seed)
    rng = random.Random(f"grammar-{country}-{seed}")  # noqa: S311 - reproducible generated data, not cryptography
    rows: list[PiiRow] = []
    for i in range(n):
        street, full, postcode = _BUILDERS[country](rng, fake)
        tpl = _ADDRESS_MESSAGES[i % len(_ADDRESS_MESSAGES)]
        town = full.rsplit(",", 1)[-1].strip()
        text = tpl.format(full=full, lower=full.lower(), lines=full.replace(", ", "\n"), name=f"{fake.first_name()} {fake.last_name()}", street=street, town=town)
        if "{lower}" in tpl:
            street, postcode = street.lower(), postcode.lower()
        gold = [("STREET_ADDRESS", street, "address_street")]
        if "{street}" not in tpl and postcode in text:
            gold.append(("STREET_ADDRESS", postcode, "address_postcode"))
        rows.append(PiiRow(text, country, tuple(gold)))
    return rows
