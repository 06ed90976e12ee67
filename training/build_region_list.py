"""Build ``proxy/detectors/data/regions.txt``: countries, continents and first-level regions (US
states, Canadian provinces, Australian states) whose names alone identify no one.

Run offline: ``python -m training.build_region_list``. Deterministic. Source: Faker's English
address providers (Faker, MIT: ``countries``, ``states``, ``provinces``), plus the continents and a
few common short forms written here. The PII clean-up does not redact an NER LOCATION that is
one of these names (``proxy.detectors.pii_cleanup``): a country or a state is no personal data on
its own (HIPAA Safe Harbor keeps states, for instance), and redacting it alters general questions
("What postcode format does Canada use?").
"""

from __future__ import annotations

import argparse
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "data" / "regions.txt"
EXTRA = (
    "Africa", "Antarctica", "Asia", "Europe", "North America", "South America", "Latin America", "Oceania",
    "the Middle East", "Middle East", "Scandinavia", "the Balkans", "the Caribbean", "USA", "the USA", "US", "the US",
    "U.S.", "the U.S.", "America", "United States", "the United States", "UK", "the UK", "U.K.", "Britain",
    "Great Britain", "England", "Scotland", "Wales", "Northern Ireland", "the Netherlands", "Holland", "EU", "the EU",
    "European Union", "Czechia", "Russia", "South Korea", "North Korea", "Vietnam", "Iran", "Syria", "Laos",
)  # fmt: skip


def build() -> list[str]:
    """The sorted region names, lower-cased."""
    from faker.providers.address.en_AU import Provider as Australia
    from faker.providers.address.en_CA import Provider as Canada
    from faker.providers.address.en_US import Provider as UnitedStates

    names = set(UnitedStates.countries) | set(UnitedStates.states) | set(Canada.provinces) | set(Australia.states) | set(EXTRA)
    return sorted({n.strip().lower() for n in names if n.strip()})


def main(argv: list[str] | None = None) -> int:
    """Write the list to ``--out``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    header = "# countries, continents, US states, Canadian provinces, Australian states; built by training/build_region_list.py from Faker (MIT)\n"
    args.out.write_text(header + "\n".join(build()) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
