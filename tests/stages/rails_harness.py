"""A real pipeline for the rails stage tests: identity, policy, input rails, output rails, forward,
over an ``httpx.MockTransport`` upstream that answers with a scripted reply split into chosen chunks.

Not a test module: ``tests/stages/test_input_rails.py`` and ``test_output_rails.py`` import it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from proxy.auth import KeyRing
from proxy.metrics import Metrics
from proxy.pipeline.collect import collect
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import FinishDelta, TextDelta, ToolCallDelta
from proxy.pipeline.stage import Pipeline
from proxy.policy import PolicyStore
from proxy.rails.handoff import HandoffNotifier
from proxy.rails.metrics import RailsMetrics
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

_encode = msgspec.json.Encoder().encode


def write_policy(directory: Path, name: str, body: str) -> None:
    """Write ``name.yaml`` (``description`` and ``owner`` are added when missing)."""
    text = textwrap.dedent(body).strip() + "\n"
    if "description:" not in text:
        text = f"description: test policy {name}\nowner: tests\n" + text
    (directory / f"{name}.yaml").write_text(text, encoding="utf-8")


@dataclass
class Upstream:
    """The scripted upstream: each call pops the next reply (the last one repeats)."""

    replies: list[list[str]] = field(default_factory=lambda: [["OK."]])
    tool_args: list[str] | None = None
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = msgspec.json.decode(request.content)
        self.bodies.append(body)
        chunks = self.replies[min(len(self.bodies) - 1, len(self.replies) - 1)]
        base = {"id": "chatcmpl-x", "created": 0, "model": body.get("model", "")}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": "".join(chunks) or None}
            if self.tool_args is not None:
                message["tool_calls"] = [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "".join(self.tool_args)}}]
            return httpx.Response(200, json={**base, "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
        frames: list[dict[str, Any]] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
        frames += [{**base, "choices": [{"index": 0, "delta": {"content": c}, "finish_reason": None}]} for c in chunks]
        if self.tool_args is not None:
            for i, piece in enumerate(self.tool_args):
                call: dict[str, Any] = {"index": 0, "function": {"arguments": piece}}
                if i == 0:
                    call.update(id="call_1", type="function", function={"name": "lookup", "arguments": piece})
                frames.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]})
        frames.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        data = b"".join(b"data: " + _encode({**f, "object": "chat.completion.chunk"}) + b"\n\n" for f in frames) + b"data: [DONE]\n\n"
        return httpx.Response(200, content=data, headers={"content-type": "text/event-stream"})


@dataclass
class Reply:
    text: str
    finish: str | None
    tool_args: str
    ctx: RequestContext
    short_circuit: str | None


class Harness:
    """The pipeline over a policy directory and a scripted upstream."""

    def __init__(self, directory: Path, *, handoff: HandoffNotifier | None = None, output: bool = True, input_rails: bool = True, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics()
        self.upstream = Upstream()
        self.store = PolicyStore(directory)
        transport = HttpxTransport(transport=httpx.MockTransport(self.upstream.handler))
        router = UpstreamRouter([OpenAIUpstream(UpstreamSettings(name="default", base_url="http://upstream.invalid/v1"), transport, Timeouts())])
        stages: list[Any] = [IdentityStage(KeyRing(), SubjectHasher(b"t" * 32)), PolicyStage(self.store, self.metrics)]
        self.rails_metrics = handoff.rails_metrics if handoff is not None else RailsMetrics(self.metrics)
        if input_rails:
            stages.append(InputRailsStage(self.metrics, handoff, rails_metrics=self.rails_metrics))
        if output:
            stages.append(OutputRailsStage(self.metrics, handoff, rails_metrics=self.rails_metrics))
        self.pipeline = Pipeline(stages, Forwarder(router, self.metrics))

    async def ask(
        self,
        content: str | list[dict[str, Any]],
        *,
        stream: bool = False,
        model: str = "m",
        reply: Sequence[str] | None = None,
        replies: list[list[str]] | None = None,
        tool_args: list[str] | None = None,
        user: str | None = "user-1",
        **extra: Any,
    ) -> Reply:
        if replies is not None:
            self.upstream.replies = replies
        elif reply is not None:
            self.upstream.replies = [list(reply)]
        self.upstream.tool_args = tool_args
        messages = content if isinstance(content, list) else [{"role": "user", "content": content}]
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream, **extra}
        if user:
            body["user"] = user
        ctx = RequestContext(request_id="req-1", endpoint="chat", body=body, headers={})
        ctx.requested_model = model
        completion = await self.pipeline(ctx)
        short = completion.short_circuit
        if not stream:
            data = await collect(completion)
            choice = data["choices"][0]
            calls = choice["message"].get("tool_calls") or []
            args = "".join(c["function"]["arguments"] for c in calls)
            return Reply(choice["message"].get("content") or "", choice.get("finish_reason"), args, ctx, short)
        text, args, finish = [], [], None
        try:
            async for d in completion.deltas:
                if isinstance(d, TextDelta) and d.choice == 0:
                    text.append(d.text)
                elif isinstance(d, ToolCallDelta):
                    args.append(d.arguments)
                elif isinstance(d, FinishDelta) and d.choice == 0:
                    finish = d.reason
        finally:
            await completion.aclose()
        return Reply("".join(text), finish, "".join(args), ctx, short)

    def counter(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return value or 0.0
