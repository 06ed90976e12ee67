"""Leave-one-source-out tables of ``bench/pii_eval.py``: PII leak per source, entity, kind and
locale, and over-redaction of look-alikes, each with a 95% bootstrap interval.

Not a bench on its own. The sources:

* ``faker``: Faker's own address and name formats in 16 locales (``training/pii_generators.py``);
* ``grammar``: Bedside's postal grammar of 19 countries and its name shapes
  (``training/pii_grammar.py``), with look-alikes (``training/pii_lookalikes.py``). Its *dev*
  countries (:data:`training.pii_grammar.DEV_COUNTRIES`) are the ones whose failures were read
  while the address rules were written; the *held-out* countries were only scored;
* ``presidio``: the presidio-research synthetic set (``bench/pii_eval.py`` scores it; never read
  while writing rules).

A value *leaks* when it is still verbatim in the text that would go upstream; a look-alike is
*over-redacted* when that text differs from what the user wrote.
"""

from __future__ import annotations

from collections.abc import Iterable

from eval_tables import cell

from proxy.detectors.pii import DEFAULT_ENTITIES, PiiDetectConfig, PiiDetector
from proxy.privacy.pseudonyms import PseudonymVault, redact
from training.pii_generators import LOCALES, PiiRow, clean_rows, pii_rows
from training.pii_grammar import COUNTRIES, DEV_COUNTRIES, HELD_OUT_COUNTRIES, grammar_rows
from training.pii_lookalikes import benign_rows
from training.pii_name_shapes import name_rows

__all__ = ["faker_table", "grammar_table", "leak_flags"]

_CONFIG = PiiDetectConfig(entities=DEFAULT_ENTITIES)


def _upstream(detector: PiiDetector, text: str) -> str:
    return redact(text, detector.analyze(text, _CONFIG), {}, PseudonymVault(), hash_key=b"bench").text


def leak_flags(detector: PiiDetector, rows: Iterable[PiiRow]) -> list[tuple[PiiRow, str, str, int]]:
    """``(row, entity, kind, leaked)`` for each gold value of ``rows``."""
    out = []
    for row in rows:
        sent = _upstream(detector, row.text)
        out.extend((row, entity, kind, int(value in sent)) for entity, value, kind in row.gold)
    return out


def _altered(detector: PiiDetector, texts: Iterable[str]) -> list[int]:
    return [int(_upstream(detector, t) != t) for t in texts]


def _print_groups(title: str, groups: dict[str, list[int]]) -> None:
    print(f"{title:28s} {'n':>5s} {'leak':>17s}")
    for key, flags in groups.items():
        print(f"{key:28s} {len(flags):5d} {cell(flags)}")


def faker_table(detector: PiiDetector, per_locale: int) -> None:
    """Source ``faker``: leak by kind and by locale, and over-redaction of its clean texts."""
    flags = leak_flags(detector, (r for loc in LOCALES for r in pii_rows(loc, per_locale)))
    print(f"\n[faker] Faker's own formats (MIT; training/pii_generators.py), {per_locale} name + {per_locale} address rows per locale")
    print("leak = the gold value still verbatim in what goes upstream, % [95% CI]")
    kinds: dict[str, list[int]] = {}
    for _, _, kind, leaked in flags:
        kinds.setdefault(kind, []).append(leaked)
    _print_groups("kind", dict(sorted(kinds.items())))
    for entity in ("PERSON", "STREET_ADDRESS"):
        by_loc = {loc: [f for r, e, _, f in flags if e == entity and r.locale == loc] for loc in LOCALES}
        by_loc["all locales"] = [f for _, e, _, f in flags if e == entity]
        _print_groups(f"locale ({entity})", by_loc)
    print(f"{'over-redaction (clean)':28s} {len(clean_rows()):5d} {cell(_altered(detector, clean_rows()))}")


def grammar_table(detector: PiiDetector, per_country: int) -> dict[str, list[int]]:
    """Source ``grammar``: addresses per country (street line and postcode), names per locale,
    over-redaction of look-alikes; dev and held-out countries apart. Returns the summary flags."""
    addr = leak_flags(detector, (r for c in COUNTRIES for r in grammar_rows(c, per_country)))
    names = leak_flags(detector, (r for loc in LOCALES for r in name_rows(loc, per_country)))
    print(f"\n[grammar] Bedside's postal grammar (training/pii_grammar.py), {per_country} address rows per country, {per_country} name rows per locale")
    print(f"dev countries (failures read while writing rules): {' '.join(DEV_COUNTRIES)}; the others are held out")
    print(f"{'country':12s} {'n':>4s} {'street line leak':>17s} {'postcode leak':>17s}")
    for country in COUNTRIES:
        street = [f for r, _, k, f in addr if r.locale == country and k == "address_street"]
        post = [f for r, _, k, f in addr if r.locale == country and k == "address_postcode"]
        mark = "" if country in DEV_COUNTRIES else " *"
        print(f"{country + mark:12s} {len(street):4d} {cell(street)} {cell(post)}")
    summary: dict[str, list[int]] = {}
    for label, group in (("dev", DEV_COUNTRIES), ("held-out *", HELD_OUT_COUNTRIES)):
        summary[f"street line, {label}"] = [f for r, _, k, f in addr if r.locale in group and k == "address_street"]
        summary[f"postcode, {label}"] = [f for r, _, k, f in addr if r.locale in group and k == "address_postcode"]
    kinds: dict[str, list[int]] = {}
    for row, _, kind, leaked in names:
        kinds.setdefault(kind, []).append(leaked)
        kinds.setdefault(f"locale {row.locale}", []).append(leaked)
    _print_groups("names: kind / locale", dict(sorted(kinds.items())))
    summary["names, all"] = [f for *_, f in names]
    summary["look-alikes altered"] = _altered(detector, benign_rows())
    _print_groups("grammar summary", summary)
    return summary
