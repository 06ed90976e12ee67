"""``bedside policy test``: the policy test cases run through the real pipeline, offline.

The runner builds the real app (every stage, the policies of the directory under test) with the
upstream faked at the HTTP transport, sends each case of ``DIR/tests/*.yaml`` (as JSON, as a
stream, or both: both must give the same verdict) on both APIs (``POST /v1/chat/completions`` and,
rewritten as a Responses request, ``POST /v1/responses`` to an upstream that serves the Responses
API: each case's ``apis`` may narrow that) and reports pass or fail with the reasons. Expectations
on what the upstream received read a Responses request through the same mapping Bedside uses, so
one case file checks both APIs. The case file format is :mod:`proxy.policy.cases`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta
from proxy.policy.cases import Case, UpstreamScript, load_case_files
from proxy.responses.encode import events_from_deltas, response_from_deltas, sse_frame
from proxy.responses.request import ResponsesWire, from_responses, to_responses
from proxy.testing import sse_payloads, streamed_text

__all__ = ["CaseResult", "run_cases"]

_encode = msgspec.json.Encoder().encode


@dataclass
class CaseResult:
    file: Path
    case: str
    mode: str
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


class _ScriptedUpstream:
    """An httpx transport answering chat requests with the case's scripted reply, recording bodies."""

    def __init__(self) -> None:
        self.script = UpstreamScript()
        self.bodies: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = msgspec.json.decode(request.content) if request.content else {}
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": []})
        if request.url.path.endswith("/responses"):
            return self._responses(body)
        self.bodies.append(body)
        s = self.script
        message: dict[str, Any] = {"role": "assistant", "content": s.reply or None}
        if s.tool_calls:
            message["tool_calls"] = s.tool_calls
        base = {"id": "chatcmpl-case", "created": 0, "model": body.get("model", "")}
        if not body.get("stream"):
            return httpx.Response(200, json={**base, "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": s.finish_reason}]})
        frames = [{**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
        words = s.reply.split(" ")
        for i, w in enumerate(words):
            frames.append({**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": w + (" " if i < len(words) - 1 else "")}, "finish_reason": None}]})
        for i, call in enumerate(s.tool_calls):
            frames.append({**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"tool_calls": [{**call, "index": i}]}, "finish_reason": None}]})
        frames.append({**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": s.finish_reason}]})
        data = b"".join(b"data: " + _encode(f) + b"\n\n" for f in frames) + b"data: [DONE]\n\n"
        return httpx.Response(200, content=data, headers={"content-type": "text/event-stream"})


    def _responses(self, body: dict[str, Any]) -> httpx.Response:
        """A Responses request: recorded as the pipeline's request it maps to (instructions become a
        system message), answered with the script as a Response object or its events."""
        chat, wire, _ = from_responses(body)
        chat["messages"] = [*wire.instructions, *(m for m in chat["messages"] if not wire.is_instruction(m))]
        self.bodies.append(chat)
        meta = {"id": "resp_case", "created_at": 0, "model": body.get("model", "")}
        if not body.get("stream"):
            return httpx.Response(200, json=response_from_deltas(meta, {}, self._deltas()))
        data = b"".join(sse_frame(e) for e in events_from_deltas(meta, {}, self._deltas()))
        return httpx.Response(200, content=data, headers={"content-type": "text/event-stream"})

    def _deltas(self) -> list[Delta]:
        s = self.script
        words = s.reply.split(" ") if s.reply else []
        out: list[Delta] = [TextDelta(w + (" " if i < len(words) - 1 else "")) for i, w in enumerate(words)]
        for i, call in enumerate(s.tool_calls):
            fn = call.get("function") or {}
            out.append(ToolCallDelta(i, 0, call.get("id"), fn.get("name"), fn.get("arguments") or "", "function"))
        return [*out, FinishDelta(s.finish_reason), UsageDelta({"input_tokens": 1, "output_tokens": 1, "total_tokens": 2})]


def as_responses_request(chat: dict[str, Any]) -> dict[str, Any]:
    """A chat completions request rewritten as the Responses request that means the same (system
    messages stay input items, ``max_tokens`` is ``max_output_tokens``, tools take their flat form)."""
    body = to_responses(chat, ResponsesWire(), None)
    if "messages" not in chat:
        body.pop("input", None)
    return body


def run_cases(directory: Path, *, progress: Callable[[CaseResult], None] | None = None) -> tuple[list[CaseResult], list[str]]:
    """Run every case of ``directory/tests`` against the policies of ``directory``."""
    from litestar.testing import TestClient

    from proxy.app import create_app
    from proxy.settings import Settings

    files, problems = load_case_files(directory)
    results: list[CaseResult] = []
    if not files:
        return results, problems
    scripted = _ScriptedUpstream()
    with tempfile.TemporaryDirectory(prefix="bedside-policy-test-") as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            upstreams=[{"name": "scripted", "base_url": "http://scripted-upstream.invalid/v1", "responses": "passthrough"}],
            policy={"directory": directory, "watch": False},
        )
        app = create_app(settings, upstream_transport=httpx.MockTransport(scripted.handler))
        with TestClient(app) as client:
            for path, case_file in files:
                for case in case_file.cases:
                    for api in case.apis:
                        for mode in case.modes:
                            scripted.script = case.upstream
                            scripted.bodies.clear()
                            request = case.request if api == "chat" else as_responses_request(case.request)
                            body = {**request, "stream": mode == "stream"}
                            route = "/v1/chat/completions" if api == "chat" else "/v1/responses"
                            resp = client.post(route, content=_encode(body), headers={"content-type": "application/json", **case.headers})
                            label = mode if api == "chat" else f"responses {mode}"
                            result = CaseResult(path, case.name, label, _verdict(case, mode, resp, scripted.bodies, responses=api == "responses"))
                            results.append(result)
                            if progress is not None:
                                progress(result)
    return results, problems


def _verdict(case: Case, mode: str, resp: httpx.Response, bodies: list[dict[str, Any]], *, responses: bool = False) -> list[str]:
    exp = case.expect
    fails: list[str] = []
    if resp.status_code != exp.status:
        fails.append(f"status: expected {exp.status}, got {resp.status_code}")
    for name, value in exp.headers.items():
        if resp.headers.get(name) != value:
            fails.append(f"header {name}: expected {value!r}, got {resp.headers.get(name)!r}")
    up = exp.upstream
    called = bool(bodies)
    if up.called is not None and up.called != called:
        fails.append(f"upstream: expected {'a call' if up.called else 'no call'}, got {'a call' if called else 'none'}")
    if bodies:
        sent = bodies[-1]
        if up.model is not None and sent.get("model") != up.model:
            fails.append(f"upstream model: expected {up.model!r}, got {sent.get('model')!r}")
        system = "\n".join(m.get("content") or "" for m in sent.get("messages", []) if m.get("role") in ("system", "developer") and isinstance(m.get("content"), str))
        for text in up.system_contains:
            if text not in system:
                fails.append(f"upstream system messages lack {text!r}")
        for text in up.system_not_contains:
            if text in system:
                fails.append(f"upstream system messages contain {text!r}")
        if up.tools is not None:
            names = [(t.get("function") or {}).get("name") for t in sent.get("tools") or []]
            if names != up.tools:
                fails.append(f"upstream tools: expected {up.tools}, got {names}")
        for key, value in up.params.items():
            got = sent.get(key)
            if responses and key in ("max_tokens", "max_completion_tokens"):
                got = sent.get("max_completion_tokens", sent.get("max_tokens"))  # the one token limit, max_output_tokens
            if got != value:
                fails.append(f"upstream {key}: expected {value!r}, got {got!r}")
        for key in up.absent:
            if key in sent:
                fails.append(f"upstream {key}: expected absent, got {sent[key]!r}")
    elif up.model or up.system_contains or up.tools is not None or up.params:
        fails.append("upstream: expectations on the upstream request, but nothing reached the upstream")
    r = exp.response
    text, finish, code = _responses_reply(resp) if responses else _reply(resp, mode)
    if r.error_code is not None and code != r.error_code:
        fails.append(f"error code: expected {r.error_code!r}, got {code!r}")
    if r.finish_reason is not None and finish != r.finish_reason:
        fails.append(f"finish_reason: expected {r.finish_reason!r}, got {finish!r}")
    for t in r.contains:
        if t not in text:
            fails.append(f"reply lacks {t!r}")
    for t in r.not_contains:
        if t.lower() in text.lower():
            fails.append(f"reply contains {t!r}")
    return fails


def _reply(resp: httpx.Response, mode: str) -> tuple[str, str | None, str | None]:
    """(user-visible text incl. error messages, finish reason, error code)."""
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        payloads = sse_payloads(resp.content)
        finish = None
        code = None
        extra = ""
        for p in payloads:
            if isinstance(p, dict):
                for c in p.get("choices") or ():
                    finish = c.get("finish_reason") or finish
                if "error" in p:
                    code = p["error"].get("code")
                    extra += p["error"].get("message", "")
        return streamed_text(payloads) + extra, finish, code
    try:
        body = resp.json()
    except ValueError:
        return resp.text, None, None
    if "error" in body:
        return body["error"].get("message", ""), None, body["error"].get("code")
    choice = (body.get("choices") or [{}])[0]
    return (choice.get("message") or {}).get("content") or "", choice.get("finish_reason"), None


def _responses_reply(resp: httpx.Response) -> tuple[str, str | None, str | None]:
    """(user-visible text incl. error messages, the finish reason the status means, error code) of a Responses reply."""
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        text, final, code, extra = "", None, None, ""
        for event in sse_payloads(resp.content):
            kind = event.get("type") if isinstance(event, dict) else None
            if kind == "response.output_text.delta":
                text += event["delta"]
            elif kind in ("response.completed", "response.incomplete", "response.failed"):
                final = event["response"]
            elif kind == "error":
                code, extra = event.get("code"), extra + str(event.get("message", ""))
        return text + extra, _finish_of(final), code
    try:
        body = resp.json()
    except ValueError:
        return resp.text, None, None
    if "error" in body and "output" not in body:
        return body["error"].get("message", ""), None, body["error"].get("code")
    texts = [p.get("text", "") for item in body.get("output") or () if item.get("type") == "message" for p in item.get("content") or () if p.get("type") == "output_text"]
    return "".join(texts), _finish_of(body), None


def _finish_of(response: dict[str, Any] | None) -> str | None:
    """The chat finish reason a Response's status and output mean (so one expectation fits both APIs)."""
    if not response:
        return None
    if response.get("status") == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return "content_filter" if reason == "content_filter" else "length"
    if response.get("status") != "completed":
        return None
    return "tool_calls" if any(item.get("type") == "function_call" for item in response.get("output") or ()) else "stop"
