"""The official ``openai`` client, unchanged, against a listening Bedside in front of a fake upstream.

A chatbot adopts Bedside by changing its base URL and nothing else; these tests are that chatbot.
Each one also looks at what reached the upstream (``upstream_bodies``), because "the client got a
reply" proves little when the interesting part is what Bedside sent on its behalf.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from proxy.stages.tone import TONE_MARK

pytestmark = pytest.mark.e2e

Bodies = Callable[[], list[dict[str, Any]]]

USER: Any = [{"role": "user", "content": "Where is my parcel? It was due on Monday."}]
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Look up an order by its number or a description.",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
        },
    }
]


def _calls(calls: Any) -> list[tuple[str, str, Any]]:
    """(id, function name, parsed arguments) of each function tool call."""
    out = []
    for c in calls:
        assert isinstance(c, ChatCompletionMessageFunctionToolCall), c
        out.append((c.id, c.function.name, json.loads(c.function.arguments)))
    return out


def _only(bodies: Bodies) -> dict[str, Any]:
    got = bodies()
    assert len(got) == 1, f"expected one upstream request, got {len(got)}"
    return got[0]


# ---- chat: JSON and streams -----------------------------------------------------------------


def test_chat_completion(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    completion = openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert completion.object == "chat.completion"
    assert completion.id and completion.created > 0
    (choice,) = completion.choices
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert "Where is my parcel?" in (choice.message.content or "")
    assert completion.usage is not None and completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert completion._request_id, "x-request-id should reach the SDK"
    sent = _only(upstream_bodies)
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"][-1] == USER[0]


def test_chat_stream(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    stream = openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    chunks = list(stream)
    assert len(chunks) > 2
    assert {c.id for c in chunks} == {chunks[0].id}
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Where is my parcel?" in text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert all(c.usage is None for c in chunks), "no usage chunk unless stream_options.include_usage"
    assert _only(upstream_bodies)["stream"] is True


def test_stream_text_equals_json_text(openai_client: openai.OpenAI) -> None:
    kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": USER}
    whole = openai_client.chat.completions.create(**kwargs).choices[0].message.content
    streamed = "".join(c.choices[0].delta.content or "" for c in openai_client.chat.completions.create(**kwargs, stream=True) if c.choices)
    assert streamed == whole


def test_stream_include_usage(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    chunks = list(openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1]), "only the final chunk carries usage"
    assert _only(upstream_bodies)["stream_options"] == {"include_usage": True}


def test_stream_helper_assembles_the_same_completion(openai_client: openai.OpenAI) -> None:
    """``chat.completions.stream`` accumulates deltas strictly (indexes, roles, tool calls)."""
    with openai_client.chat.completions.stream(model="gpt-4o-mini", messages=USER, tools=TOOLS, tool_choice="required") as stream:
        final = stream.get_final_completion()
    plain = openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=TOOLS, tool_choice="required")
    assert final.choices[0].finish_reason == "tool_calls"
    got = final.choices[0].message.tool_calls
    want = plain.choices[0].message.tool_calls
    assert got and want
    assert _calls(got) == _calls(want)


async def test_async_client_streams(bedside_url: str) -> None:
    async with openai.AsyncOpenAI(base_url=f"{bedside_url}/v1", api_key="x", max_retries=0, timeout=20) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert "Where is my parcel?" in text


# ---- tools ----------------------------------------------------------------------------------


def test_tool_call_json_and_stream_agree(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": USER, "tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "lookup_order"}}}
    completion = openai_client.chat.completions.create(**kwargs)
    (choice,) = completion.choices
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "lookup_order"
    args = json.loads(call.function.arguments)
    assert args == {"query": USER[0]["content"]}

    ids: set[str] = set()
    names: set[str] = set()
    pieces: list[str] = []
    finishes: list[str] = []
    for chunk in openai_client.chat.completions.create(**kwargs, stream=True):
        for c in chunk.choices:
            for tc in c.delta.tool_calls or ():
                assert tc.index == 0
                if tc.id:
                    ids.add(tc.id)
                if tc.function and tc.function.name:
                    names.add(tc.function.name)
                if tc.function and tc.function.arguments:
                    pieces.append(tc.function.arguments)
            if c.finish_reason:
                finishes.append(c.finish_reason)
    assert len(pieces) > 1, "the arguments should arrive in several deltas"
    assert json.loads("".join(pieces)) == args
    assert ids == {call.id} and names == {"lookup_order"}
    assert finishes == ["tool_calls"]

    sent = upstream_bodies()
    assert len(sent) == 2
    for body in sent:
        assert body["tools"] == TOOLS
        assert body["tool_choice"] == kwargs["tool_choice"]


# ---- parameters reach the model untouched ---------------------------------------------------


def test_parameters_reach_the_upstream_untouched(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    completion = openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,
        response_format={"type": "json_object"},
        n=2,
        logprobs=True,
        top_logprobs=2,
        seed=1234,
        user="customer-7781",
        extra_body={"vendor_knob": 1},
    )
    assert [c.index for c in completion.choices] == [0, 1]
    for choice in completion.choices:
        assert choice.logprobs is not None and choice.logprobs.content
        assert "".join(t.token for t in choice.logprobs.content) == choice.message.content
    sent = _only(upstream_bodies)
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["n"] == 2
    assert sent["logprobs"] is True
    assert sent["top_logprobs"] == 2
    assert sent["seed"] == 1234
    assert sent["user"].startswith("u-") and "7781" not in sent["user"]  # a keyed HMAC, never the id itself
    assert sent["vendor_knob"] == 1


def test_stream_n2_and_logprobs(openai_client: openai.OpenAI) -> None:
    texts: dict[int, str] = {0: "", 1: ""}
    finishes: dict[int, list[str]] = {0: [], 1: []}
    for chunk in openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True, n=2, logprobs=True, top_logprobs=2):
        for c in chunk.choices:
            texts[c.index] += c.delta.content or ""
            if c.finish_reason:
                finishes[c.index].append(c.finish_reason)
    assert texts[0] == texts[1] and "Where is my parcel?" in texts[0]
    assert finishes == {0: ["stop"], 1: ["stop"]}


def test_stream_logprobs_match_the_streamed_text(openai_client: openai.OpenAI) -> None:
    """Each choice's logprob tokens, joined, spell exactly the text streamed for it."""
    text = ""
    tokens: list[str] = []
    for chunk in openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True, logprobs=True, top_logprobs=2):
        for c in chunk.choices:
            text += c.delta.content or ""
            if c.logprobs and c.logprobs.content:
                tokens.extend(t.token for t in c.logprobs.content)
    assert tokens, "logprobs were asked for and the upstream sent them"
    assert "".join(tokens) == text


# ---- models and embeddings ------------------------------------------------------------------


def test_models_list_and_retrieve(openai_client: openai.OpenAI) -> None:
    ids = [m.id for m in openai_client.models.list()]
    for alias in ("support-agent", "acme-support", "intake-assistant", "onboarding-guide"):
        assert alias in ids
    assert "gpt-4o-mini" in ids, "the upstream's own models are listed too"
    assert len(ids) == len(set(ids))
    model = openai_client.models.retrieve("support-agent")
    assert model.id == "support-agent" and model.object == "model"
    assert isinstance(model.created, int) and model.owned_by
    with pytest.raises(openai.NotFoundError) as err:
        openai_client.models.retrieve("no-such-model")
    assert err.value.status_code == 404 and err.value.code == "model_not_found"


@pytest.mark.parametrize("given", ["a single string", ["first text", "second text", "third"]])
def test_embeddings(openai_client: openai.OpenAI, upstream_bodies: Bodies, given: str | list[str]) -> None:
    result = openai_client.embeddings.create(model="text-embedding-3-small", input=given)
    expected = 1 if isinstance(given, str) else len(given)
    assert [d.index for d in result.data] == list(range(expected))
    assert all(d.object == "embedding" and len(d.embedding) > 0 and all(isinstance(x, float) for x in d.embedding) for d in result.data)
    assert result.model == "text-embedding-3-small"
    assert result.usage.total_tokens > 0
    sent = _only(upstream_bodies)
    assert sent["input"] == given
    assert sent["model"] == "text-embedding-3-small"


# ---- policies -------------------------------------------------------------------------------


def test_policy_alias_routes_and_injects_the_persona(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(model="support-agent", messages=USER)
    assert raw.status_code == 200
    assert raw.headers["x-bedside-policy"] == "customer-service"
    completion = raw.parse()
    assert completion.choices[0].message.content
    sent = _only(upstream_bodies)
    assert sent["model"] == "gpt-4o-mini", "the alias is replaced by the policy's upstream model"
    systems = [m["content"] for m in sent["messages"] if m["role"] == "system"]
    assert any("You are Ava" in s for s in systems)
    assert sent["messages"][-1] == USER[0]


def test_stream_refusal_ends_with_content_filter(openai_client: openai.OpenAI) -> None:
    """healthcare-intake forbids "you have"; the demo echoes the user, so the reply would say it."""
    messages: Any = [{"role": "user", "content": "My friend says you have to rest a lot with a cold, is that right?"}]
    chunks = list(openai_client.chat.completions.create(model="intake-assistant", messages=messages, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "you have" not in text.lower()
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["content_filter"]
    assert "clinician" in text, "the policy's refusal text ends the reply"


# ---- errors arrive as the SDK's exception classes -------------------------------------------


def test_unknown_route_is_not_found(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        openai_client.get("/files", cast_to=object)
    assert err.value.status_code == 404 and err.value.code == "unknown_endpoint"
    with pytest.raises(openai.NotFoundError):
        openai_client.post("/assistants", cast_to=object, body={"model": "gpt-4o-mini"})


def test_bad_request(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert err.value.status_code == 400
    assert err.value.param == "messages" and err.value.type == "invalid_request_error"
    assert upstream_bodies() == [], "a rejected request never reaches the model"


def test_request_too_large(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    huge = "x" * (5 * 1024 * 1024)
    with pytest.raises(openai.APIStatusError) as err:
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": huge}])
    assert err.value.status_code == 413 and err.value.code == "request_too_large"
    assert upstream_bodies() == []


@pytest.mark.parametrize(
    ("model", "exc_type", "status"),
    [
        ("fault-429", openai.RateLimitError, 429),
        ("fault-500", openai.InternalServerError, 500),
        ("fault-400", openai.BadRequestError, 400),
        ("fault-garbage", openai.InternalServerError, 502),
        ("fault-error-event", openai.InternalServerError, 502),
    ],
)
def test_upstream_errors(openai_client: openai.OpenAI, model: str, exc_type: type[openai.APIStatusError], status: int) -> None:
    with pytest.raises(exc_type) as err:
        openai_client.chat.completions.create(model=model, messages=USER)
    assert err.value.status_code == status
    assert isinstance(err.value.body, dict) and err.value.message


def test_upstream_timeout_is_504(openai_client: openai.OpenAI) -> None:
    started = time.monotonic()
    with pytest.raises(openai.InternalServerError) as err:
        openai_client.chat.completions.create(model="fault-slow", messages=USER)
    assert err.value.status_code == 504 and err.value.code == "upstream_timeout"
    assert time.monotonic() - started < 2.9, "Bedside's 1 s read timeout answers before the fake's 3 s delay ends"


@pytest.mark.parametrize("model", ["fault-reset", "fault-garbage-stream", "fault-stall"])
def test_mid_stream_failure_raises_api_error(openai_client: openai.OpenAI, model: str) -> None:
    started = time.monotonic()
    stream = openai_client.chat.completions.create(model=model, messages=USER, stream=True)
    with pytest.raises(openai.APIError) as err:
        for _ in stream:
            pass
    assert time.monotonic() - started < 2.9, "the stream ends promptly, it never hangs"
    assert isinstance(err.value.body, dict) and err.value.body.get("code", "").startswith("upstream_")
    assert err.value.message


# ---- logprobs describe only text that passed the output checks ------------------------------

FORBIDDEN: Any = [{"role": "user", "content": "My friend says you have to rest a lot with a cold, is that right?"}]


def test_stream_logprobs_never_run_ahead_of_the_released_text(openai_client: openai.OpenAI) -> None:
    """Logprob tokens are text too: they must not reveal what the hold-back window still holds."""
    text = ""
    tokens = ""
    for chunk in openai_client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True, logprobs=True):
        for c in chunk.choices:
            text += c.delta.content or ""
            if c.logprobs and c.logprobs.content:
                tokens += "".join(t.token for t in c.logprobs.content)
            assert text.startswith(tokens), f"logprobs ran ahead of the released text:\n text:   {text!r}\n tokens: {tokens!r}"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_logprobs_never_carry_refused_text(openai_client: openai.OpenAI, stream: bool) -> None:
    """healthcare-intake forbids "you have": neither the content nor its logprobs may say it."""
    tokens: list[str] = []
    text = ""
    if stream:
        for chunk in openai_client.chat.completions.create(model="intake-assistant", messages=FORBIDDEN, stream=True, logprobs=True):
            for c in chunk.choices:
                text += c.delta.content or ""
                if c.logprobs and c.logprobs.content:
                    tokens += [t.token for t in c.logprobs.content]
    else:
        choice = openai_client.chat.completions.create(model="intake-assistant", messages=FORBIDDEN, logprobs=True).choices[0]
        assert choice.finish_reason == "content_filter"
        text = choice.message.content or ""
        tokens = [t.token for t in (choice.logprobs.content or [])] if choice.logprobs else []
    assert "you have" not in text.lower()
    leaked = "".join(tokens)
    assert "you have" not in leaked.lower(), f"the refused text leaks through logprobs: {leaked!r}"
    assert text.startswith(leaked), "logprobs describe only text the client was given"


# ---- emotion and tone -----------------------------------------------------------------------

FRUSTRATED: Any = [
    {"role": "user", "content": "My order hasn't arrived."},
    {"role": "assistant", "content": "Sorry to hear that. Could you give me the order number?"},
    {"role": "user", "content": "I already gave it to you yesterday. It still hasn't arrived."},
    {"role": "assistant", "content": "Thanks. I'll check on it."},
    {"role": "user", "content": "This is the THIRD time I'm asking and it STILL isn't here!!! Useless."},
]


def _tone_messages(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(i, m["content"]) for i, m in enumerate(body["messages"]) if m["role"] == "system" and m["content"].startswith(TONE_MARK)]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_frustrated_user_reaches_the_upstream_with_the_frustration_rule(openai_client: openai.OpenAI, upstream_bodies: Bodies, stream: bool) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(model="support-agent", messages=FRUSTRATED, stream=stream)
    assert raw.status_code == 200
    label, *params = [p.strip() for p in raw.headers["x-bedside-emotion"].split(";")]
    assert label in ("frustration", "anger"), raw.headers["x-bedside-emotion"]
    assert "trend=rising" in params
    parsed = raw.parse()
    text = "".join(c.choices[0].delta.content or "" for c in parsed if c.choices) if stream else parsed.choices[0].message.content
    assert text, "the reply reached the client"
    sent = _only(upstream_bodies)
    tone = _tone_messages(sent)
    assert len(tone) == 1, sent["messages"]
    position, guidance = tone[0]
    assert position == len(sent["messages"]) - 2, "placed right before the latest user turn (before_last_user)"
    assert "Acknowledge the frustration in one short sentence" in guidance
    assert "human colleague" in guidance, "three rising turns of frustration offer a person (escalation)"
    assert sent["messages"][-1] == FRUSTRATED[-1], "the user's own words reach the model unchanged"


def test_a_calm_question_gets_no_tone_guidance(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="support-agent", messages=[{"role": "user", "content": "What are your opening hours on Saturday?"}])
    label, intensity, *_ = [p.strip() for p in raw.headers["x-bedside-emotion"].split(";")]
    # GoEmotions' Ekman surprise holds curiosity: a plain question may read as confusion, at an
    # intensity below what the default slow-down rule needs (docs/emotion-model.md)
    assert label in ("neutral", "confusion") and float(intensity.split("=")[1]) < 0.55
    assert _tone_messages(_only(upstream_bodies)) == []
