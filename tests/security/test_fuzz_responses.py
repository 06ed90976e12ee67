"""Property-based fuzzing of ``POST /v1/responses``: whatever a client sends, Bedside never answers 5xx.

The bodies are the chat fuzzer's (``tests/security/test_fuzz.py``) rewritten as Responses requests,
with the Responses API's own fields added (instructions as text or items, reasoning and reference
items, ``text.format``, ``include``, ``store``, an unknown ``previous_response_id`` or
``conversation``), then mutated (any place replaced by any JSON value, or removed). Each is posted
through the real app, with the real policies and stages, to a fake upstream that always answers
well: once serving the Responses API (passthrough) and once chat completions only (translated).
Properties:

* the status is never 5xx, and a 4xx is an OpenAI-shaped error JSON;
* a 200 stream ends with ``response.completed`` or ``response.incomplete``, with no error event;
* a 200 JSON body is a Response object;
* no request hangs.
"""

from __future__ import annotations

import concurrent.futures
import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from proxy.app import create_app
from proxy.cli.policy_cases import as_responses_request
from proxy.pipeline.deltas import FinishDelta, TextDelta, UsageDelta
from proxy.responses.encode import events_from_deltas, response_from_deltas, sse_frame
from proxy.settings import Settings
from proxy.testing import sse_payloads
from tests.api.conftest import assert_openai_error
from tests.security.test_fuzz import ANY_JSON, FUZZ, ODD_TEXT, REPO, REQUEST_TIMEOUT, _paths, _upstream, encode, valid_bodies

_REPLY = [TextDelta("Your parcel is on its way "), TextDelta("and should arrive tomorrow."), FinishDelta("stop"), UsageDelta({"input_tokens": 5, "output_tokens": 9, "total_tokens": 14})]


def _responses_upstream(request: httpx.Request) -> httpx.Response:
    if not request.url.path.endswith("/responses"):
        return _upstream(request)
    body = json.loads(request.content)
    meta = {"id": "resp_fuzz", "created_at": 1, "model": "m"}
    if body.get("stream"):
        data = b"".join(sse_frame(e) for e in events_from_deltas(meta, {}, _REPLY))
        return httpx.Response(200, content=data, headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json=response_from_deltas(meta, {}, _REPLY))


@pytest.fixture(scope="module", params=["passthrough", "translate"])
def app_client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient[Any], concurrent.futures.ThreadPoolExecutor]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz-responses"),
        upstreams=[{"name": "up", "base_url": "http://upstream.test/v1", "responses": request.param}],
        policy={"directory": REPO / "policies", "watch": False},
        timeouts={"connect": 1, "read": 2, "total": 5, "stream_idle": 2},
    )
    app = create_app(settings, upstream_transport=httpx.MockTransport(_responses_upstream))
    with TestClient(app, raise_server_exceptions=False) as client, concurrent.futures.ThreadPoolExecutor(1) as pool:
        yield client, pool


EXTRA_ITEMS = st.lists(
    st.one_of(
        st.fixed_dictionaries({"type": st.just("reasoning"), "id": st.just("rs_1"), "summary": st.lists(st.fixed_dictionaries({"type": st.just("summary_text"), "text": ODD_TEXT}), max_size=2)}),
        st.fixed_dictionaries({"type": st.just("item_reference"), "id": st.just("msg_1")}),
        st.fixed_dictionaries({"type": st.just("message"), "role": st.just("assistant"), "id": st.just("msg_2"), "status": st.just("completed"), "content": st.lists(st.fixed_dictionaries({"type": st.just("output_text"), "text": ODD_TEXT, "annotations": st.just([])}), min_size=1, max_size=2)}),
        st.fixed_dictionaries({"type": st.just("message"), "role": st.just("user"), "content": st.lists(st.fixed_dictionaries({"type": st.just("input_image"), "image_url": st.just("data:image/png;base64,iVBORw0KGgo="), "detail": st.just("auto")}), min_size=1, max_size=1)}),
    ),
    max_size=2,
)


@st.composite
def valid_responses_bodies(draw: st.DrawFn) -> dict[str, Any]:
    chat = copy.deepcopy(draw(valid_bodies()))
    chat.pop("n", None)
    stream = chat.pop("stream", None)
    chat.pop("stream_options", None)
    body = as_responses_request(chat)
    body["input"] = [*body.get("input", []), *draw(EXTRA_ITEMS)]
    if stream is not None:
        body["stream"] = stream
    body.update(
        draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "instructions": st.one_of(ODD_TEXT, st.just([{"role": "developer", "content": "Be brief."}])),
                    "store": st.booleans(),
                    "include": st.just(["reasoning.encrypted_content", "message.output_text.logprobs"]),
                    "text": st.just({"format": {"type": "json_schema", "name": "a", "schema": {"type": "object"}}, "verbosity": "low"}),
                    "reasoning": st.just({"effort": "low", "summary": "auto"}),
                    "previous_response_id": st.sampled_from(["resp_unknown", "resp_chatcmpl-bedside-x"]),
                    "conversation": st.sampled_from(["conv_fuzz", {"id": "conv_fuzz2"}]),
                    "truncation": st.sampled_from(["auto", "disabled"]),
                    "max_tool_calls": st.integers(1, 5),
                },
            )
        )
    )
    if "previous_response_id" in body and "conversation" in body:
        del body["conversation"]
    return body


@st.composite
def mutated_responses_bodies(draw: st.DrawFn) -> Any:
    body: Any = copy.deepcopy(draw(valid_responses_bodies()))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(body))))
        replacement = draw(ANY_JSON)
        if not path:
            body = replacement
            continue
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()) and len(path) > 1:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = replacement
    return body


def post(app_client: tuple[TestClient[Any], concurrent.futures.ThreadPoolExecutor], raw: bytes) -> httpx.Response:
    client, pool = app_client
    future = pool.submit(client.post, "/v1/responses", content=raw, headers={"content-type": "application/json"})
    try:
        return future.result(timeout=REQUEST_TIMEOUT)
    except concurrent.futures.TimeoutError:
        pytest.fail(f"the request hung for more than {REQUEST_TIMEOUT}s: {raw[:300]!r}")


def check(response: httpx.Response, raw: bytes) -> None:
    what = f"{response.status_code} for {raw[:400]!r}: {response.text[:400]}"
    assert response.status_code < 500, what
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/json"), what
        assert_openai_error(response.json())
    elif response.headers["content-type"].startswith("text/event-stream"):
        events = sse_payloads(response.content)
        assert events and events[-1]["type"] in ("response.completed", "response.incomplete"), what
        assert not any(e["type"] in ("error", "response.failed") for e in events), what
    else:
        assert response.json()["object"] == "response", what


@settings(FUZZ, max_examples=200)
@given(body=valid_responses_bodies())
def test_valid_responses_bodies_are_never_a_server_error(app_client: Any, body: dict[str, Any]) -> None:
    raw = encode(body)
    check(post(app_client, raw), raw)


@settings(FUZZ, max_examples=500)
@given(body=mutated_responses_bodies())
def test_mutated_responses_bodies_are_never_a_server_error(app_client: Any, body: Any) -> None:
    raw = encode(body)
    check(post(app_client, raw), raw)
