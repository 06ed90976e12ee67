"""What the rails cost: input rails per request, and the time to first token the output rails add.

    python bench/rails_cost.py [--runs 2000]

1. **Input rails** through ``InputRailsStage`` for a 150-word user message, with all five input
   checks (jailbreak, crisis, denied topics, max length, language), and with the example policies'
   default pair (jailbreak, crisis). Target: ≤ 2 ms p50.
2. **Output rails on a stream**: the same pipeline (identity, policy, forward over an in-process
   ``httpx.MockTransport`` upstream streaming a 150-word reply word by word) with and without
   ``OutputRailsStage`` (forbidden phrases, persona drift, prompt leak, PII leak, over-empathy).
   Time to the first text delta, p50 of each and the difference. Target: ≤ 2 ms added. Also the
   whole stream's extra CPU, and how many characters were held back when the first text left.

Figures are one process on one core, best of interleaved runs; nothing here is a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import msgspec

from proxy.auth import KeyRing
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import TextDelta
from proxy.pipeline.stage import Pipeline
from proxy.policy import PolicyStore
from proxy.secrets_store import SubjectHasher
from proxy.settings import Timeouts, UpstreamSettings
from proxy.stages.forward import Forwarder
from proxy.stages.identity import IdentityStage
from proxy.stages.input_rails import InputRailsStage
from proxy.stages.output_rails import OutputRailsStage
from proxy.stages.policy import PolicyStage
from proxy.upstream.httpx_transport import HttpxTransport
from proxy.upstream.openai import OpenAIUpstream
from proxy.upstream.router import UpstreamRouter

REQUEST = (
    "Hi, I ordered a pair of running shoes three weeks ago and the tracking page still says the parcel "
    "is waiting at the depot. I have emailed twice and nobody has answered, which is frustrating because "
    "I need them for a race next weekend. Could you please check what is going on with my order, tell me "
    "whether it will arrive before Saturday, and if not, explain how I can cancel it and get my money back? "
    "I paid with my credit card and I would prefer the refund to go back to the same card. I also want to "
    "know whether I can exchange them for a different size if they do arrive, since I am not sure the size "
    "I picked is right. Thanks for your help, I really appreciate it, and sorry for the long message here. My order "
    "number is on the confirmation email I got from you."
)
REPLY = (
    "Thanks for the details about your order. I checked the tracking record and the parcel left the depot "
    "this morning, so it should reach you by Thursday, well before your race on Saturday. If it does not "
    "arrive by Thursday evening, reply here and I will open a ticket so the team can cancel the order and "
    "refund the full amount to the card you paid with; refunds take up to five business days to show. If "
    "the shoes arrive and the size is wrong, you can exchange them free of charge within thirty days: start "
    "the exchange from your orders page, print the label, and drop the parcel at any post office. The new "
    "pair ships as soon as the return is scanned. Is there anything else about the order I can check?"
)

POLICIES = {
    "allrails": """
description: bench policy with every input and output rail
owner: bench
routing: {aliases: [allrails]}
persona:
  system_prompt: You are Ava, Acme's customer-service assistant. You help customers with orders, deliveries and refunds.
  forbidden_phrases: ["calm down", "guaranteed refund"]
rails:
  input:
    - {check: jailbreak, action: block}
    - {check: crisis, action: handoff}
    - {check: denied_topics, action: block, topics: [{name: legal_advice}, {name: financial_advice}, {name: medical_diagnosis}]}
    - {check: max_length, action: block, max_chars: 8000}
    - {check: language, action: block, languages: [en]}
  output:
    - {check: forbidden_phrases, action: block}
    - {check: persona_drift, action: fix}
    - {check: system_prompt_leak, action: block}
    - {check: pii_leak, action: fix}
    - {check: over_empathy, action: fix, max_apologies: 1}
""",
    "pair": """
description: the example policies' default input pair
owner: bench
routing: {aliases: [pair]}
rails:
  input:
    - {check: jailbreak, action: block}
    - {check: crisis, action: handoff}
""",
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def input_rails(store: PolicyStore, alias: str, runs: int) -> tuple[float, float]:
    metrics = Metrics()
    stage = InputRailsStage(metrics)
    policy = store.current.resolve(alias)

    async def terminal(ctx: RequestContext) -> Completion:
        return Completion()

    times: list[float] = []
    for i in range(runs + 50):
        ctx = RequestContext(request_id="b", endpoint="chat", body={"model": alias, "messages": [{"role": "user", "content": REQUEST}]}, headers={})
        ctx.policy = policy
        t = time.perf_counter()
        await stage(ctx, terminal)
        if i >= 50:
            times.append(time.perf_counter() - t)
        assert ctx.decisions["input_rails"]["action"] == "pass", ctx.decisions
    return _pct(times, 0.5) * 1000, _pct(times, 0.99) * 1000


def _sse() -> bytes:
    enc = msgspec.json.Encoder().encode
    base = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    words = REPLY.split(" ")
    frames = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    frames += [{**base, "choices": [{"index": 0, "delta": {"content": w + (" " if i < len(words) - 1 else "")}, "finish_reason": None}]} for i, w in enumerate(words)]
    frames.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(b"data: " + enc(f) + b"\n\n" for f in frames) + b"data: [DONE]\n\n"


def _pipeline(store: PolicyStore, with_output: bool) -> Pipeline:
    body = _sse()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    metrics = Metrics()
    transport = HttpxTransport(transport=httpx.MockTransport(handler))
    router = UpstreamRouter([OpenAIUpstream(UpstreamSettings(name="default", base_url="http://bench.invalid/v1"), transport, Timeouts())])
    stages: list[Any] = [IdentityStage(KeyRing(), SubjectHasher(b"t" * 32)), PolicyStage(store, metrics)]
    if with_output:
        stages.append(OutputRailsStage(metrics))
    return Pipeline(stages, Forwarder(router, metrics))


async def _one(pipeline: Pipeline) -> tuple[float, float, int]:
    ctx = RequestContext(request_id="b", endpoint="chat", body={"model": "allrails", "stream": True, "messages": [{"role": "user", "content": "Where is my order?"}]}, headers={})
    t = time.perf_counter()
    completion = await pipeline(ctx)
    first = 0.0
    first_len = 0
    text: list[str] = []
    async for d in completion.deltas:
        if isinstance(d, TextDelta):
            if not first:
                first = time.perf_counter() - t
                first_len = len(d.text)
            text.append(d.text)
    await completion.aclose()
    assert "".join(text) == REPLY, "the bench reply must pass every rail unchanged"
    return first, time.perf_counter() - t, first_len


async def output_rails(store: PolicyStore, runs: int) -> dict[str, float]:
    plain, checked = _pipeline(store, False), _pipeline(store, True)
    results: dict[bool, list[tuple[float, float, int]]] = {False: [], True: []}
    for i in range(runs + 20):
        for flag, pipe in ((False, plain), (True, checked)):  # interleaved, so drift hits both
            r = await _one(pipe)
            if i >= 20:
                results[flag].append(r)
    p50 = {flag: statistics.median(r[0] for r in rs) * 1000 for flag, rs in results.items()}
    total = {flag: statistics.median(r[1] for r in rs) * 1000 for flag, rs in results.items()}
    return {
        "ttft_without": p50[False],
        "ttft_with": p50[True],
        "ttft_added": p50[True] - p50[False],
        "stream_added": total[True] - total[False],
        "first_len_without": statistics.median(r[2] for r in results[False]),
        "first_len_with": statistics.median(r[2] for r in results[True]),
    }


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in POLICIES.items():
            (Path(tmp) / f"{name}.yaml").write_text(text, encoding="utf-8")
        store = PolicyStore(Path(tmp), default_policy=None)
        words = len(REQUEST.split())
        print(f"Input rails through InputRailsStage, {words}-word user message, {runs} runs (target: <= 2 ms p50)")
        for alias, label in (("allrails", "all five (jailbreak, crisis, topics x3, max_length, language)"), ("pair", "jailbreak + crisis (example policies)")):
            p50, p99 = await input_rails(store, alias, runs)
            print(f"  {label:<62} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms   {'OK' if p50 <= 2 else 'OVER TARGET'}")
        out = await output_rails(store, max(200, runs // 4))
        print(f"\nOutput rails on a stream ({len(REPLY.split())}-word reply, word chunks, in-process upstream; target: <= 2 ms added TTFT)")
        print(f"  time to first text delta without output_rails    p50 {out['ttft_without']:6.3f} ms  (first delta {out['first_len_without']:.0f} chars)")
        print(f"  time to first text delta with output_rails       p50 {out['ttft_with']:6.3f} ms  (first delta {out['first_len_with']:.0f} chars)")
        print(f"  added to TTFT                                        {out['ttft_added']:6.3f} ms   {'OK' if out['ttft_added'] <= 2 else 'OVER TARGET'}")
        print(f"  added to the whole stream (CPU, all 5 output rails)  {out['stream_added']:6.3f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    asyncio.run(main(parser.parse_args().runs))
