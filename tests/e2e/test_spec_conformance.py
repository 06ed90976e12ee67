"""What Bedside sends conforms to the OpenAI spec, and parses into the SDK's own types.

Bodies come over raw HTTP from the running servers (no SDK in between to smooth anything over) and
are checked three ways: against the spec's JSON Schema (``tests/e2e/spec.py``), for keys the spec
does not declare at all, and with the ``openai`` package's pydantic models (required fields present,
no unknown fields). Every chunk of every stream is checked, not a sample.

The part of the spec these tests need is vendored in ``tests/e2e/openai-openapi/`` (see
``tests/e2e/vendor_spec.py``), so every clone runs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import BaseModel as OpenAIModel
from openai.types import CreateEmbeddingResponse, ErrorObject, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from proxy.testing import sse_payloads
from tests.e2e.spec import SPEC_PATH, Spec, load_spec
from tests.e2e.vendor_spec import LICENCE_NAME, ROOTS, closure

pytestmark = pytest.mark.e2e

USER = [{"role": "user", "content": "Hello, I need help with order 1234."}]
TOOLS = [
    {
        "type": "function",
        "function": {"name": "lookup_order", "description": "Look up an order.", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}},
    }
]
FORBIDDEN = [{"role": "user", "content": "The nurse said you have a mild fever, is that bad?"}]

CHAT_CASES: dict[str, dict[str, Any]] = {
    "plain": {"model": "gpt-4o-mini", "messages": USER},
    "policy-alias": {"model": "support-agent", "messages": USER},
    "tools": {"model": "gpt-4o-mini", "messages": USER, "tools": TOOLS, "tool_choice": "required"},
    "n2": {"model": "gpt-4o-mini", "messages": USER, "n": 2},
    "logprobs": {"model": "gpt-4o-mini", "messages": USER, "logprobs": True, "top_logprobs": 2},
    "json-mode": {"model": "gpt-4o-mini", "messages": USER, "response_format": {"type": "json_object"}, "seed": 3},
    "refusal": {"model": "intake-assistant", "messages": FORBIDDEN},
}
STREAM_CASES: dict[str, dict[str, Any]] = {
    **CHAT_CASES,
    "include-usage": {"model": "gpt-4o-mini", "messages": USER, "stream_options": {"include_usage": True}},
    "n2-usage-logprobs": {"model": "gpt-4o-mini", "messages": USER, "n": 2, "logprobs": True, "stream_options": {"include_usage": True}},
}


@pytest.fixture(scope="session")
def spec() -> Spec:
    return load_spec()


@pytest.fixture(scope="module")
def http(bedside_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bedside_url, timeout=20) as client:
        yield client


def conforms(spec: Spec, schema: str, instance: Any, what: str) -> None:
    """Valid against ``schema`` and free of keys the spec never declares."""
    spec.validate(schema, instance, what=what)
    extra = spec.undeclared(schema, instance)
    assert not extra, f"{what} carries keys the OpenAI schema {schema} does not declare: {extra}"


def no_extra_fields(model: OpenAIModel, where: str = "$") -> None:
    """The SDK keeps unknown fields in ``model_extra``; there should be none, at any depth."""
    assert not model.model_extra, f"{where}: fields unknown to the openai SDK: {sorted(model.model_extra or {})}"
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, OpenAIModel):
                no_extra_fields(item, f"{where}.{name}" + (f"[{i}]" if isinstance(value, list) else ""))


def sse(response: httpx.Response) -> tuple[list[dict[str, Any]], bool]:
    """The JSON payloads of an SSE body, and whether it ended with ``[DONE]``."""
    payloads = sse_payloads(response.content)
    done = bool(payloads) and payloads[-1] == "[DONE]"
    assert payloads.count("[DONE]") == (1 if done else 0), "[DONE] comes once, last"
    return [p for p in payloads if p != "[DONE]"], done


# ---- the vendored spec and the validator itself ----------------------------------------------


def test_the_vendored_spec_is_whole_small_and_licensed(spec: Spec) -> None:
    assert SPEC_PATH.stat().st_size < 1_000_000
    assert (SPEC_PATH.parent / LICENCE_NAME).read_text(encoding="utf-8").startswith("The MIT License")
    vendored = json.loads(SPEC_PATH.read_text(encoding="utf-8"))["schemas"]
    assert closure(vendored) == vendored, "every schema a vendored schema references is vendored too, and nothing else"
    assert set(ROOTS) <= set(vendored)
    for name in ("CreateResponse", "Response", "ResponseStreamEvent"):
        assert spec.validator(name) is not None  # the Responses API's schemas, for /v1/responses
    with pytest.raises(KeyError, match=r"vendor_spec\.py"):
        spec.validator("CreateFineTuningJobRequest")



def test_validator_rejects_what_the_spec_forbids(spec: Spec) -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": None}]}
    assert spec.errors("CreateChatCompletionStreamResponse", chunk) == [], "nullable finish_reason (OpenAPI 3.0 style) is accepted"
    assert spec.errors("CreateChatCompletionStreamResponse", {**chunk, "usage": None}) == [], "nullable $ref is accepted"
    assert spec.errors("CreateChatCompletionStreamResponse", {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "banana"}]})
    assert spec.errors("CreateChatCompletionStreamResponse", {k: v for k, v in chunk.items() if k != "choices"})
    assert spec.errors("CreateChatCompletionStreamResponse", {**chunk, "usage": {"prompt_tokens": 1}}), "a $ref'd schema is enforced"
    assert spec.errors("ErrorResponse", {"error": {"message": "m", "type": "t"}}), "param and code are required, even when null"
    assert spec.undeclared("CreateChatCompletionStreamResponse", {**chunk, "debug": 1}) == ["$.debug"]
    with pytest.raises(AssertionError, match="does not conform"):
        spec.validate("Model", {"id": "m"})


# ---- chat completions -----------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CHAT_CASES))
def test_chat_completion_body(spec: Spec, http: httpx.Client, case: str) -> None:
    resp = http.post("/v1/chat/completions", json=CHAT_CASES[case])
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    conforms(spec, "CreateChatCompletionResponse", body, f"the {case} chat completion")
    sdk = ChatCompletion.model_validate(body)
    no_extra_fields(sdk)
    expected_n = CHAT_CASES[case].get("n", 1)
    assert [c.index for c in sdk.choices] == list(range(expected_n))
    if case == "tools":
        assert sdk.choices[0].finish_reason == "tool_calls" and sdk.choices[0].message.tool_calls
    if case == "logprobs":
        assert sdk.choices[0].logprobs is not None and sdk.choices[0].logprobs.content
    if case == "refusal":
        assert sdk.choices[0].finish_reason == "content_filter"
        assert "you have" not in (sdk.choices[0].message.content or "").lower()


@pytest.mark.parametrize("case", list(STREAM_CASES))
def test_every_stream_chunk(spec: Spec, http: httpx.Client, case: str) -> None:
    request = {**STREAM_CASES[case], "stream": True}
    resp = http.post("/v1/chat/completions", json=request)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/event-stream")
    chunks, done = sse(resp)
    assert done, "a complete stream ends with [DONE]"
    assert chunks
    for i, chunk in enumerate(chunks):
        conforms(spec, "CreateChatCompletionStreamResponse", chunk, f"chunk {i} of the {case} stream")
        no_extra_fields(ChatCompletionChunk.model_validate(chunk), f"chunk {i}")
    assert len({c["id"] for c in chunks}) == 1, "every chunk carries the same id"
    assert len({c["created"] for c in chunks}) == 1, "every chunk carries the same created"

    n = request.get("n", 1)
    finishes: dict[int, list[str]] = {i: [] for i in range(n)}
    first_roles: dict[int, str | None] = {}
    for chunk in chunks:
        for c in chunk["choices"]:
            first_roles.setdefault(c["index"], c["delta"].get("role"))
            if c["finish_reason"] is not None:
                finishes[c["index"]].append(c["finish_reason"])
    assert first_roles == dict.fromkeys(range(n), "assistant"), "each choice's first delta names the role"
    want = {"tools": "tool_calls", "refusal": "content_filter"}.get(case, "stop")
    assert finishes == {i: [want] for i in range(n)}, "exactly one finish_reason per choice"

    include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
    if include_usage:
        last = chunks[-1]
        assert last["choices"] == [] and last["usage"] and last["usage"]["total_tokens"] > 0
        assert all("usage" in c and c["usage"] is None for c in chunks[:-1]), "with include_usage every other chunk has usage: null"
    else:
        assert all(c.get("usage") is None for c in chunks), "no usage unless include_usage"


@pytest.mark.parametrize("model", ["fault-reset", "fault-garbage-stream", "fault-stall"])
def test_mid_stream_error_frame(spec: Spec, http: httpx.Client, model: str) -> None:
    resp = http.post("/v1/chat/completions", json={"model": model, "messages": USER, "stream": True})
    assert resp.status_code == 200, "the stream had started: the error travels in-band"
    payloads, done = sse(resp)
    assert done, "an SSE error frame is followed by [DONE]"
    *chunks, error = payloads
    for i, chunk in enumerate(chunks):
        conforms(spec, "CreateChatCompletionStreamResponse", chunk, f"chunk {i} before the error")
    conforms(spec, "ErrorResponse", error, f"the {model} error frame")
    ErrorObject.model_validate(error["error"])
    assert error["error"]["code"].startswith("upstream_")


# ---- models and embeddings ------------------------------------------------------------------


def test_models(spec: Spec, http: httpx.Client) -> None:
    body = http.get("/v1/models").json()
    conforms(spec, "ListModelsResponse", body, "GET /v1/models")
    models = [Model.model_validate(m) for m in body["data"]]
    for m in models:
        no_extra_fields(m)
    assert "support-agent" in [m.id for m in models]
    for model_id in ("support-agent", "gpt-4o-mini"):
        resp = http.get(f"/v1/models/{model_id}")
        assert resp.status_code == 200, resp.text
        conforms(spec, "Model", resp.json(), f"GET /v1/models/{model_id}")
        no_extra_fields(Model.model_validate(resp.json()))


@pytest.mark.parametrize("given", ["one text", ["two", "texts"]], ids=["string", "list"])
def test_embeddings(spec: Spec, http: httpx.Client, given: str | list[str]) -> None:
    resp = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": given})
    assert resp.status_code == 200, resp.text
    conforms(spec, "CreateEmbeddingResponse", resp.json(), "the embeddings response")
    sdk = CreateEmbeddingResponse.model_validate(resp.json())
    no_extra_fields(sdk)
    assert len(sdk.data) == (1 if isinstance(given, str) else len(given))


# ---- errors ---------------------------------------------------------------------------------

_BIG = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "' + b"x" * (5 * 1024 * 1024) + b'"}]}'

ERROR_CASES: dict[str, tuple[str, str, Any, int]] = {
    # name: (method, path, JSON body or raw bytes, expected status)
    "400-empty-messages": ("POST", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": []}, 400),
    "400-not-json": ("POST", "/v1/chat/completions", b"{not json", 400),
    "400-upstream": ("POST", "/v1/chat/completions", {"model": "fault-400", "messages": USER}, 400),
    "404-unknown-endpoint": ("GET", "/v1/files", None, 404),
    "404-unknown-endpoint-post": ("POST", "/v1/assistants", {"model": "gpt-4o-mini"}, 404),
    "404-model-retrieve": ("GET", "/v1/models/no-such-model", None, 404),
    "405-wrong-method": ("GET", "/v1/chat/completions", None, 405),
    "413-too-large": ("POST", "/v1/chat/completions", _BIG, 413),
    "429-upstream": ("POST", "/v1/chat/completions", {"model": "fault-429", "messages": USER}, 429),
    "500-upstream": ("POST", "/v1/chat/completions", {"model": "fault-500", "messages": USER}, 500),
    "502-garbage": ("POST", "/v1/chat/completions", {"model": "fault-garbage", "messages": USER}, 502),
    "502-error-event-stream": ("POST", "/v1/chat/completions", {"model": "fault-error-event", "messages": USER, "stream": True}, 502),
    "504-slow": ("POST", "/v1/chat/completions", {"model": "fault-slow", "messages": USER}, 504),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_error_body(spec: Spec, http: httpx.Client, case: str) -> None:
    method, path, payload, status = ERROR_CASES[case]
    if isinstance(payload, bytes):
        resp = http.request(method, path, content=payload, headers={"content-type": "application/json"})
    else:
        resp = http.request(method, path, json=payload)
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    conforms(spec, "ErrorResponse", body, f"the {case} error")
    err = ErrorObject.model_validate(body["error"])
    no_extra_fields(err)
    assert err.message and err.type
