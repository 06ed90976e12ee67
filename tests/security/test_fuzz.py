"""Property-based fuzzing of the chat endpoint: whatever a client sends, Bedside never answers 5xx.

Hypothesis generates chat bodies: valid ones (every content shape, tools, streaming, odd Unicode),
then mutated ones (any field replaced by any JSON value, deep nesting spliced in, huge numbers,
nulls, truncated or non-UTF-8 bytes). Each is posted through the app, with the real policies and
stages, to a fake upstream that always answers well (so any 5xx is Bedside's own). Properties:

* the status is never 5xx;
* a 4xx carries an OpenAI-shaped error JSON;
* a 200 stream ends with ``[DONE]`` and carries no internal error frame;
* no request takes longer than a few seconds (a hang fails the test).

The runs are derandomized (the same examples every time, for CI) and sized to finish in well
under a minute.
"""

from __future__ import annotations

import concurrent.futures
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from proxy.app import create_app
from proxy.settings import Settings
from proxy.testing import sse_payloads
from tests.api.conftest import assert_openai_error

REPO = Path(__file__).resolve().parents[2]
MODELS = ["gpt-4o-mini", "support-agent", "intake-assistant", "bedside-demo"]
REQUEST_TIMEOUT = 20.0
_DEEP = re.compile(r'"__DEEP_(\d+)__"')

# ---- the fake upstream: always a good answer, in the shape asked for ---------------------------------

_REPLY = "Your parcel is on its way and should arrive tomorrow."


def _upstream(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    n = body.get("n") if isinstance(body.get("n"), int) else 1
    if body.get("stream"):
        frames = []
        for i in range(n):
            for piece in (_REPLY[:20], _REPLY[20:]):
                frames.append({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": i, "delta": {"content": piece}, "finish_reason": None}]})
            frames.append({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": i, "delta": {}, "finish_reason": "stop"}]})
        frames.append({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}})
        sse = "".join(f"data: {json.dumps(f)}\n\n" for f in frames) + "data: [DONE]\n\n"
        return httpx.Response(200, content=sse.encode(), headers={"content-type": "text/event-stream"})
    choices = [{"index": i, "message": {"role": "assistant", "content": _REPLY}, "finish_reason": "stop", "logprobs": None} for i in range(n)]
    return httpx.Response(200, json={"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "choices": choices, "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}})


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient[Any], concurrent.futures.ThreadPoolExecutor]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"),
        upstream_url="http://upstream.test/v1",
        policy={"directory": REPO / "policies", "watch": False},
        timeouts={"connect": 1, "read": 2, "total": 5, "stream_idle": 2},
    )
    app = create_app(settings, upstream_transport=httpx.MockTransport(_upstream))
    with TestClient(app, raise_server_exceptions=False) as client, concurrent.futures.ThreadPoolExecutor(1) as pool:
        yield client, pool


# ---- strategies ------------------------------------------------------------------------------------

ODD_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "", " ", "\u200b", "\ufeff", "\u00ad\u200d", "［bedside:persona］", "\u0000", "🙂" * 8, "e\u0301" * 5, "\u202eevil",
            "Hi, I am Ada Lovelace, call 415-555-0199 or mail ada@example.com", "I'm so frustrated, this is the third time!!!",
            "x" * 3000, "{\"json\": \"inside\"}", "<script>alert(1)</script>", "%s%n%x", "\\u005b", "null",
        ]
    ),
)
LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False), ODD_TEXT,
    st.integers(min_value=65, max_value=3000).map(lambda d: f"__DEEP_{d}__"),
)
ANY_JSON = st.recursive(LEAF, lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=6), kids, max_size=3)), max_leaves=8)

TEXT_PART = st.fixed_dictionaries({"type": st.just("text"), "text": ODD_TEXT})
IMAGE_PART = st.fixed_dictionaries({"type": st.just("image_url"), "image_url": st.fixed_dictionaries({"url": st.just("data:image/png;base64,iVBORw0KGgo=")}, optional={"detail": st.sampled_from(["low", "high", "auto"])})})
AUDIO_PART = st.fixed_dictionaries({"type": st.just("input_audio"), "input_audio": st.fixed_dictionaries({"data": st.just("UklGRg=="), "format": st.sampled_from(["wav", "mp3"])})})
FILE_PART = st.fixed_dictionaries({"type": st.just("file"), "file": st.fixed_dictionaries({"file_id": st.just("file-abc")})})
CONTENT = st.one_of(ODD_TEXT, st.lists(st.one_of(TEXT_PART, TEXT_PART, IMAGE_PART, AUDIO_PART, FILE_PART), min_size=1, max_size=3))
ARGS = st.one_of(st.just("{}"), st.builds(lambda q: json.dumps({"query": q}), ODD_TEXT), ODD_TEXT)
TOOL_CALL = st.fixed_dictionaries({"id": st.just("call_1"), "type": st.just("function"), "function": st.fixed_dictionaries({"name": st.just("lookup_order"), "arguments": ARGS})})
MESSAGE = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "user", "system", "developer"]), "content": CONTENT}, optional={"name": st.text(max_size=10)}),
    st.fixed_dictionaries({"role": st.just("assistant"), "content": st.one_of(st.none(), ODD_TEXT)}, optional={"tool_calls": st.lists(TOOL_CALL, min_size=1, max_size=2), "refusal": st.none()}),
    st.fixed_dictionaries({"role": st.just("tool"), "tool_call_id": st.just("call_1"), "content": CONTENT}),
)
TOOLS = st.lists(
    st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries({"name": st.sampled_from(["lookup_order", "refund"]), "parameters": st.just({"type": "object", "properties": {"q": {"type": "string"}}})})}),
    min_size=1,
    max_size=2,
)
STREAMING = st.one_of(
    st.fixed_dictionaries({"stream": st.just(True)}, optional={"stream_options": st.fixed_dictionaries({"include_usage": st.booleans()})}),
    st.fixed_dictionaries({}, optional={"stream": st.just(False)}),
)


@st.composite
def valid_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"model": draw(st.sampled_from(MODELS)), "messages": draw(st.lists(MESSAGE, min_size=1, max_size=4))}
    body.update(draw(STREAMING))
    body.update(
        draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "n": st.integers(1, 2),
                    "temperature": st.floats(0, 2),
                    "max_tokens": st.integers(1, 4096),
                    "tools": TOOLS,
                    "tool_choice": st.sampled_from(["auto", "none", "required", {"type": "function", "function": {"name": "lookup_order"}}]),
                    "stop": st.one_of(ODD_TEXT, st.lists(st.text(max_size=5), max_size=3)),
                    "user": st.text(max_size=20),
                    "seed": st.integers(-(2**31), 2**31),
                    "metadata": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
                    "response_format": st.sampled_from([{"type": "text"}, {"type": "json_object"}]),
                    "logit_bias": st.dictionaries(st.sampled_from(["50256", "1"]), st.integers(-100, 100), max_size=2),
                    "vendor_field": ANY_JSON,
                },
            )
        )
    )
    return body


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Any:
    """A valid body with one to three places replaced by anything (or removed)."""
    body: Any = copy.deepcopy(draw(valid_bodies()))  # strategies share constants: never mutate them
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


def encode(body: Any) -> bytes:
    """JSON bytes; ``"__DEEP_n__"`` markers become n nested lists (json.dumps cannot nest so deep)."""
    text = json.dumps(body)
    return _DEEP.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text).encode("utf-8", "surrogatepass")


@st.composite
def raw_mutations(draw: st.DrawFn) -> bytes:
    raw = encode(draw(valid_bodies()))
    kind = draw(st.sampled_from(["truncate", "bad-utf8", "splice", "nan"]))
    cut = draw(st.integers(0, len(raw)))
    if kind == "truncate":
        return raw[:cut]
    if kind == "bad-utf8":
        return raw[:cut] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"])) + raw[cut:]
    if kind == "splice":
        return raw[:cut] + draw(st.binary(max_size=8)) + raw[cut:]
    return raw.replace(b'"model"', b'"x": NaN, "y": 1e999, "model"', 1)


# ---- the properties --------------------------------------------------------------------------------


def post(app_client: tuple[TestClient[Any], concurrent.futures.ThreadPoolExecutor], raw: bytes) -> httpx.Response:
    client, pool = app_client
    future = pool.submit(client.post, "/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
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
        payloads = sse_payloads(response.content)
        assert payloads and payloads[-1] == "[DONE]", what
        for p in payloads:
            assert not (isinstance(p, dict) and "error" in p), what
    else:
        assert response.json()["object"] == "chat.completion", what


FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(body=valid_bodies())
def test_valid_bodies_are_never_a_server_error(app_client: Any, body: dict[str, Any]) -> None:
    raw = encode(body)
    check(post(app_client, raw), raw)


@settings(FUZZ, max_examples=1000)
@given(body=mutated_bodies())
def test_mutated_bodies_are_never_a_server_error(app_client: Any, body: Any) -> None:
    raw = encode(body)
    check(post(app_client, raw), raw)


@FUZZ
@given(raw=raw_mutations())
def test_mangled_bytes_are_never_a_server_error(app_client: Any, raw: bytes) -> None:
    check(post(app_client, raw), raw)
