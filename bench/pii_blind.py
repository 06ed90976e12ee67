"""PII redaction on messages written blind: by a separate session that never saw the recognizers,
their vocabulary, Bedside's generators or any PII evaluation set (``bench/data/pii_blind_v*.jsonl``).

Usage::

    python bench/pii_blind.py [--data bench/data/pii_blind_v1.jsonl] [--model gpt-4o-mini]
    python bench/pii_blind.py --in-process     # the detector and redaction alone, no server (faster)

By default each message goes the way a user's does: Bedside is started (``python -m proxy.cli
serve``, the repository's policies, an embedded SQLite in a temporary directory) in front of a
recording fake upstream, the message is sent as a chat completion for ``--model`` (``gpt-4o-mini``
is served by ``policies/default.yaml``), and what the upstream received is read. ``--in-process``
runs the PII detector and redaction on the text directly (the default entities), as
``bench/pii_sources.py`` does.

Each judge holds messages with personal data and messages without any made to look as if they had
some (streets and places in general statements, brands named after people, model and order
numbers, code): ``v1`` and ``v2`` 360 + 120 in eight styles, ``v3`` ... ``v8`` 320 + 160 in nine
(pasted transcripts added; v5-v8 weighted to national identity numbers, phones and, in v7 and v8,
names and addresses in their own scripts), ``v9`` 300 + 180 (names, and everyday texts with no
personal data, half in other languages written in the Latin script, a quarter in other scripts),
``v10`` 210 + 190 in eight styles (names and everyday texts in 28 languages of non-Latin scripts), each written by a separate session told the kinds,
styles and countries only. Each gold item gives its type and its exact text; an address also gives
the parts that identify the place on their own (the street line, the postcode). Figures, % with a 95%
bootstrap interval:

* **leak**: the item still verbatim in what reached the upstream (whitespace and spotlighting's
  datamarks are normalised away first: a datamarked value still reached the model);
* **address part leak**: an address with any identifying part verbatim (stricter than leak: an
  address whose postcode alone went through counts);
* **altered**: a message without personal data whose text reached the upstream changed.

``NATIONAL_ID`` items (identity, tax and social-security numbers) are a default entity since
2026-12-07; a US SSN among them is scored as ``US_SSN``, and "structured (all)" keeps to the six
structured types of issue 15. Nothing in ``proxy/`` or ``training/`` reads these files: they are judges,
so they stay out of every tuning step; read their rows only after a change is measured and frozen,
and when a set has been looked at, write a new one. ``--show-misses`` prints the items that leaked
and the clean texts that were altered (doing so makes the set seen). Licence: written for Bedside,
Apache-2.0, like the rest of the repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from eval_tables import cell  # noqa: E402

DATA = ROOT / "bench" / "data" / "pii_blind_v1.jsonl"
_MARKER = re.compile(r"«/?data-[0-9a-z]+»")
_SPACE = re.compile(r"[\sˆ]+")
#: gold types the default entities cover; the rest are tabled apart
COVERED = {"PERSON", "STREET_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "NATIONAL_ID"}
_STRUCTURED = {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS"}
_SSN = re.compile(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$")


def norm(text: str) -> str:
    """``text`` without spotlighting's markers and datamarks, its whitespace runs made one space."""
    return _SPACE.sub(" ", _MARKER.sub(" ", text)).strip()


def load(path: Path) -> list[dict[str, Any]]:
    """The judge's rows, each checked: every gold value and part is in its text."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for n, row in enumerate(rows, 1):
        for item in row["gold"]:
            for piece in (item["value"], *item.get("parts", [])):
                if piece not in row["text"]:
                    raise SystemExit(f"{path}:{n}: gold {piece!r} is not in the row's text")
    return rows


def entity_of(item: dict[str, Any], locale: str) -> str:
    """The item's type as Bedside names it: a US SSN given as NATIONAL_ID is ``US_SSN``."""
    if item["type"] == "NATIONAL_ID" and locale == "US" and _SSN.match(item["value"]):
        return "US_SSN"
    return str(item["type"])


def send_in_process() -> Callable[[str], str | None]:
    """The text the PII detector and redaction would send upstream (default entities)."""
    from proxy.detectors.pii import DEFAULT_ENTITIES, PiiDetectConfig, PiiDetector
    from proxy.detectors.pii_engine import build_analyzer
    from proxy.privacy.pseudonyms import PseudonymVault, redact

    detector, config = PiiDetector(build_analyzer()), PiiDetectConfig(entities=DEFAULT_ENTITIES)
    return lambda text: redact(text, detector.analyze(text, config), {}, PseudonymVault(), hash_key=b"bench").text


class Served:
    """A Bedside in front of a recording fake upstream; ``send`` returns what the upstream got."""

    def __init__(self, model: str) -> None:
        from probe.harness import Bedside, FakeUpstream

        self.model = model
        self.upstream = FakeUpstream()
        self.upstream.start()
        self.bedside = Bedside(name="pii-blind", upstream_url=self.upstream.url)
        self.bedside.start()
        self.bedside.wait_ready()
        self.count = 0

    def send(self, text: str) -> str | None:
        from probe.harness import _last_user_text, post

        self.count += 1
        mark = self.upstream.mark()
        body = {"model": self.model, "messages": [{"role": "user", "content": text}]}
        reply = post(self.bedside.base + "/v1/chat/completions", json_body=body, headers={"X-Bedside-User": f"judge-{self.count}"}, timeout=60)
        if reply.status is None or reply.status >= 500:
            raise SystemExit(f"Bedside answered {reply.status} ({reply.error}):\n{self.bedside.tail()}")
        records = [r for r in self.upstream.since(mark) if r.path.endswith("/chat/completions")]
        return _last_user_text(records[-1].body) if records else None

    def stop(self) -> None:
        self.bedside.stop()
        self.upstream.stop()


def score(rows: Iterable[dict[str, Any]], send: Callable[[str], str | None], show: bool) -> dict[str, dict[str, list[int]]]:
    """Per table and group, the 0/1 flags (leaked, part leaked, altered) of every item or row."""
    tables: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, row in enumerate(rows, 1):
        if i % 60 == 0:
            print(f"  {i} messages sent", file=sys.stderr, flush=True)
        sent = send(row["text"])
        got = norm(sent) if sent is not None else ""
        if sent is None:
            tables["not forwarded (a rail stopped it)"][row["label"]].append(1)
        if row["label"] == "clean":
            altered = int(sent is not None and got != norm(row["text"]))
            for key in ("all", f"kind: {row['kind']}", f"style: {row['style']}"):
                tables["clean messages altered"][key].append(altered)
            if altered and show:
                print(f"ALTERED [{row['kind']}/{row['style']}] {row['text']!r}\n   -> {sent!r}")
            continue
        for item in row["gold"]:
            entity = entity_of(item, row["locale"])
            leaked = int(norm(item["value"]) in got)
            if entity not in COVERED | {"US_SSN"}:
                tables["not a default entity: leak"][entity].append(leaked)
                continue
            tables["leak by entity"][entity].append(leaked)
            if entity in _STRUCTURED | {"US_SSN"}:
                tables["leak by entity"]["structured (all)"].append(leaked)
            if entity in ("PERSON", "STREET_ADDRESS", "NATIONAL_ID"):
                tables[f"{entity} leak by locale"][row["locale"]].append(leaked)
                tables[f"{entity} leak by style"][row["style"]].append(leaked)
            if entity == "STREET_ADDRESS":
                part = int(leaked or any(norm(p) in got for p in item.get("parts", [])))
                tables["STREET_ADDRESS, any identifying part leaked"]["all"].append(part)
                tables["STREET_ADDRESS, any identifying part leaked"][f"style: {row['style']}"].append(part)
            if leaked and show:
                print(f"LEAK {entity} [{row['locale']}/{row['style']}] {item['value']!r}\n   in {sent!r}")
    return tables


def print_tables(tables: dict[str, dict[str, list[int]]]) -> None:
    for title, groups in tables.items():
        print(f"\n{title}, % [95% CI]")
        for key in sorted(groups, key=lambda k: (k != "all", k)):
            print(f"  {key:34s} {len(groups[key]):5d} {cell(groups[key])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", default="gpt-4o-mini", help="the model name sent (it picks the policy)")
    parser.add_argument("--in-process", action="store_true", help="the detector and redaction alone, no server")
    parser.add_argument("--show-misses", action="store_true", help="print leaked items and altered texts (makes the set seen)")
    args = parser.parse_args(argv)
    rows = load(args.data)
    print(f"{args.data.name}: {sum(r['label'] == 'pii' for r in rows)} messages with personal data, {sum(r['label'] == 'clean' for r in rows)} without")
    if args.in_process:
        print("read in process: the PII detector (default entities) and redaction")
        print_tables(score(rows, send_in_process(), args.show_misses))
        return 0
    print(f"sent over HTTP to a Bedside it starts (model {args.model}); what the upstream received is read", file=sys.stderr)
    served = Served(args.model)
    try:
        tables = score(rows, served.send, args.show_misses)
    finally:
        served.stop()
    print(f"read over HTTP: what the upstream received for model {args.model}")
    print_tables(tables)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
