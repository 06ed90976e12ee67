"""The policy stage's added cost per request, and the reload time of a 100-policy directory.

    python bench/policy_cost.py [--requests 5000] [--policies 100]

Prints, side by side: the request phase of the pipeline with and without the policy stage (p50 and
p99 per request, on one core, no network: the terminal returns a canned reply), the stage's own
time, and how long loading and hot-reloading 100 policies takes. Target (issue 3): policy stage
<= 0.2 ms p50; reload time is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proxy.auth import KeyRing  # noqa: E402
from proxy.metrics import Metrics  # noqa: E402
from proxy.pipeline.completion import Completion  # noqa: E402
from proxy.pipeline.context import RequestContext  # noqa: E402
from proxy.pipeline.stage import Pipeline  # noqa: E402
from proxy.policy import PolicyStore  # noqa: E402
from proxy.secrets_store import SubjectHasher  # noqa: E402
from proxy.stages.identity import IdentityStage  # noqa: E402
from proxy.stages.policy import PolicyStage  # noqa: E402

BODY = {
    "model": "support-agent",
    "messages": [
        {"role": "system", "content": "Client app: the customer is logged in."},
        {"role": "user", "content": "Hello, where is my order A-1042? It was due Monday and nothing has arrived yet."},
    ],
    "tools": [
        {"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "delete_account", "parameters": {"type": "object", "properties": {}}}},
    ],
    "max_tokens": 4000,
    "temperature": 1.1,
}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99) - 1] * 1000


async def _measure(pipe: Pipeline, n: int) -> tuple[list[float], list[float]]:
    import copy

    totals: list[float] = []
    policy_times: list[float] = []
    for _ in range(n):
        ctx = RequestContext(request_id="r", endpoint="chat", body=copy.deepcopy(BODY), headers={})
        t = time.perf_counter()
        await pipe(ctx)
        totals.append(time.perf_counter() - t)
        policy_times.append(ctx.timings.get("policy", 0.0))
    return totals, policy_times


def _write_many(directory: Path, count: int) -> None:
    shutil.copy(ROOT / "policies" / "_base.yaml", directory / "_base.yaml")
    shutil.copy(ROOT / "policies" / "default.yaml", directory / "default.yaml")
    template = (ROOT / "policies" / "customer-service.yaml").read_text()
    for i in range(count - 2):
        text = template.replace("aliases: [support-agent, acme-support]", f"aliases: [agent-{i}]")
        (directory / f"agent-{i}.yaml").write_text(text)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=100)
    args = parser.parse_args()
    try:
        os.sched_setaffinity(0, {0})
    except (AttributeError, OSError):
        pass

    async def terminal(ctx: RequestContext) -> Completion:
        return Completion.from_text("ok", model=ctx.model)

    metrics = Metrics()
    store = PolicyStore(ROOT / "policies")
    bare = Pipeline([IdentityStage(KeyRing(), SubjectHasher(b"t" * 32))], terminal)
    with_policy = Pipeline([IdentityStage(KeyRing(), SubjectHasher(b"t" * 32)), PolicyStage(store, metrics)], terminal)
    print(f"policy stage cost: {args.requests} requests each, one core, model 'support-agent' (persona, tools, clamps)", flush=True)
    await _measure(with_policy, 500)  # warm-up
    bare_t, _ = await _measure(bare, args.requests)
    pol_t, stage_t = await _measure(with_policy, args.requests)
    b50, b99 = _percentiles(bare_t)
    p50, p99 = _percentiles(pol_t)
    s50, s99 = _percentiles(stage_t)
    print(f"{'':34} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'pipeline without policy stage':34} {b50:8.4f} {b99:8.4f}")
    print(f"{'pipeline with policy stage':34} {p50:8.4f} {p99:8.4f}")
    print(f"{'added by the policy stage':34} {p50 - b50:8.4f} {p99 - b99:8.4f}")
    print(f"{'policy stage own time (ctx.timings)':34} {s50:8.4f} {s99:8.4f}")
    verdict = "MET" if s50 <= 0.2 else "MISSED"
    print(f"target: policy stage <= 0.2 ms p50 -> {s50:.4f} ms {verdict}")

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        _write_many(directory, args.policies)
        print(f"\nreload of {args.policies} policies (each extends _base; 5 runs)", flush=True)
        t = time.perf_counter()
        big = PolicyStore(directory)
        first = time.perf_counter() - t
        runs = [big.reload().duration_s for _ in range(5)]
        print(f"first load: {first * 1000:.1f} ms; reload p50 {statistics.median(runs) * 1000:.1f} ms, max {max(runs) * 1000:.1f} ms ({len(big.current.policies)} policies)")


if __name__ == "__main__":
    asyncio.run(main())
