"""The OpenAI layer over both transports: against a real listening fake upstream, and faked at the
transport with respx / httpx.MockTransport for the cases a server cannot easily produce."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from proxy.errors import UpstreamProtocolError, UpstreamStatusError, UpstreamTimeout, UpstreamUnavailable
from proxy.pipeline.collect import collect
from proxy.pipeline.deltas import TextDelta
from proxy.settings import Timeouts, UpstreamSettings
from proxy.testing import FakeUpstream, free_port
from proxy.upstream.aiohttp_transport import AiohttpTransport
from proxy.upstream.httpx_transport import HttpxTransport
from proxy.upstream.openai import OpenAIUpstream

FAST = Timeouts(connect=2, read=5, total=10, stream_idle=0.5)
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello upstream"}]}


@pytest.fixture(params=["aiohttp", "httpx"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[object]:
    t = AiohttpTransport() if request.param == "aiohttp" else HttpxTransport()
    yield t
    await t.aclose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream(faults=True, slow_seconds=2.0) as up:
        yield up


def _up(base_url: str, transport: object, key: str | None = "sk-test") -> OpenAIUpstream:
    cfg = UpstreamSettings(name="u", base_url=base_url, api_key=key, query={"api-version": "x"} if key == "azure" else {})
    return OpenAIUpstream(cfg, transport, FAST)  # type: ignore[arg-type]


async def test_json_and_stream_give_the_same_text(fake: FakeUpstream, transport: object) -> None:
    up = _up(fake.base_url, transport)
    body = await collect(await up.chat(dict(BODY)))
    streamed = await up.chat({**BODY, "stream": True})
    text = "".join([d.text async for d in streamed.deltas if isinstance(d, TextDelta)])
    assert text == body["choices"][0]["message"]["content"]
    assert "hello upstream" in text
    assert streamed.meta["id"].startswith("chatcmpl-demo")
    assert fake.recorded[0]["headers"]["Authorization"] == "Bearer sk-test"


async def test_upstream_status_error_is_passed_on(fake: FakeUpstream, transport: object) -> None:
    up = _up(fake.base_url, transport)
    with pytest.raises(UpstreamStatusError) as info:
        await up.chat({**BODY, "model": "fault-400"})
    assert info.value.http_status == 400
    body = info.value.to_body()["error"]
    assert body["param"] == "temperature" and body["code"] == "invalid_value" and body["type"] == "invalid_request_error"
    with pytest.raises(UpstreamStatusError) as info:
        await up.chat({**BODY, "model": "fault-429", "stream": True})
    assert info.value.http_status == 429


async def test_garbage_body_is_a_protocol_error(fake: FakeUpstream, transport: object) -> None:
    with pytest.raises(UpstreamProtocolError):
        await _up(fake.base_url, transport).chat({**BODY, "model": "fault-garbage"})


async def test_error_as_first_stream_event_raises_before_the_reply(fake: FakeUpstream, transport: object) -> None:
    with pytest.raises(UpstreamStatusError):
        await _up(fake.base_url, transport).chat({**BODY, "model": "fault-error-event", "stream": True})


@pytest.mark.parametrize("model,error", [("fault-reset", UpstreamUnavailable), ("fault-garbage-stream", UpstreamProtocolError), ("fault-stall", UpstreamTimeout)])
async def test_midstream_faults_surface_from_the_delta_iterator(fake: FakeUpstream, transport: object, model: str, error: type) -> None:
    completion = await _up(fake.base_url, transport).chat({**BODY, "model": model, "stream": True})
    got = []
    with pytest.raises(error):
        async for d in completion.deltas:
            got.append(d)
    assert got, "some deltas arrived before the fault"


async def test_connection_refused_is_unavailable(transport: object) -> None:
    with pytest.raises(UpstreamUnavailable):
        await _up(f"http://127.0.0.1:{free_port()}/v1", transport).chat(dict(BODY))


async def test_slow_upstream_times_out(fake: FakeUpstream, transport: object) -> None:
    cfg = UpstreamSettings(name="u", base_url=fake.base_url)
    up = OpenAIUpstream(cfg, transport, Timeouts(connect=1, read=0.3, total=5, stream_idle=1))  # type: ignore[arg-type]
    with pytest.raises(UpstreamTimeout):
        await up.chat({**BODY, "model": "fault-slow"})


async def test_embeddings_and_models(fake: FakeUpstream, transport: object) -> None:
    up = _up(fake.base_url, transport)
    emb = await up.embeddings({"model": "text-embedding-3-small", "input": ["a", "b"]})
    assert [d["index"] for d in emb["data"]] == [0, 1]
    assert "gpt-4o-mini" in [m["id"] for m in await up.models()]


@respx.mock
async def test_azure_style_auth_and_query_with_respx() -> None:
    route = respx.post("https://example.openai.azure.com/openai/v1/chat/completions", params={"api-version": "2024-10-21"}).mock(
        return_value=httpx.Response(200, json={"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]})
    )
    cfg = UpstreamSettings(name="az", base_url="https://example.openai.azure.com/openai/v1", api_key="k", auth_header="api-key", query={"api-version": "2024-10-21"})
    up = OpenAIUpstream(cfg, HttpxTransport(transport=httpx.MockTransport(respx.mock.handler)), FAST)
    body = await collect(await up.chat(dict(BODY)))
    assert body["choices"][0]["message"]["content"] == "ok"
    assert route.calls.last.request.headers["api-key"] == "k"
    assert "authorization" not in route.calls.last.request.headers


async def test_unknown_fields_pass_through_untouched_with_mock_transport() -> None:
    reply = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "service_tier": "flex",
        "vendor_field": {"keep": True},
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok", "annotations": [{"type": "url"}]}, "finish_reason": "stop", "logprobs": {"content": [], "refusal": None}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "prompt_tokens_details": {"cached_tokens": 0}},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=reply)

    up = OpenAIUpstream(UpstreamSettings(name="m", base_url="http://up.test/v1"), HttpxTransport(transport=httpx.MockTransport(handler)), FAST)
    body = await collect(await up.chat(dict(BODY)))
    assert body["vendor_field"] == {"keep": True} and body["service_tier"] == "flex"
    assert body["choices"][0]["message"]["annotations"] == [{"type": "url"}]
    assert body["choices"][0]["logprobs"] == {"content": [], "refusal": None}
    assert body["usage"] == reply["usage"]


# ---- the Responses API ---------------------------------------------------------------------------

RESPONSES_BODY = {"model": "gpt-4o-mini", "input": [{"type": "message", "role": "user", "content": "hello responses"}]}


async def test_a_responses_request_passes_through_json_and_stream(fake: FakeUpstream, transport: object) -> None:
    from proxy.responses.encode import collect_response

    up = _up(fake.base_url, transport)
    assert up.responses_mode == "auto"
    first = await up.responses(dict(RESPONSES_BODY))
    assert up.responses_mode == "passthrough", "auto settles on passthrough when the server answers"
    assert first.kept_as is not None and first.kept_as.startswith("resp_demo_")
    body = await collect_response(first, {})
    streamed = await up.responses({**RESPONSES_BODY, "stream": True, "previous_response_id": first.kept_as})
    text = "".join([d.text async for d in streamed.deltas if isinstance(d, TextDelta)])
    assert 'You said: "hello responses"' in text and 'Earlier you said: "hello responses"' in text
    assert "hello responses" in body["output"][0]["content"][0]["text"]
    assert streamed.kept_as is not None and streamed.meta["id"] == streamed.kept_as
    stored = await up.retrieve_response(first.kept_as)
    assert stored["id"] == first.kept_as and stored["output"]
    assert (await up.delete_response(first.kept_as))["deleted"] is True
    with pytest.raises(UpstreamStatusError) as err:
        await up.retrieve_response(first.kept_as)
    assert err.value.http_status == 404


async def test_a_responses_stream_cut_mid_way_fails_in_the_iterator(fake: FakeUpstream, transport: object) -> None:
    up = _up(fake.base_url, transport)
    completion = await up.responses({**RESPONSES_BODY, "model": "fault-reset", "stream": True})
    with pytest.raises((UpstreamUnavailable, UpstreamProtocolError)):
        async for _ in completion.deltas:
            pass


async def test_auto_turns_to_translate_once_for_a_server_without_responses() -> None:
    from proxy.upstream.openai import ResponsesNotServed

    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/responses"):
            return httpx.Response(404, json={"detail": "Not Found"})
        return httpx.Response(200, json={"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": []})

    transport = HttpxTransport(transport=httpx.MockTransport(handler))
    up = _up("http://llama.invalid/v1", transport)
    with pytest.raises(ResponsesNotServed):
        await up.responses(dict(RESPONSES_BODY))
    assert up.responses_mode == "translate" and calls == ["/v1/responses"]
    await transport.aclose()


async def test_a_model_servers_own_404_is_an_error_not_a_missing_endpoint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"message": "The model `x` does not exist", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}})

    transport = HttpxTransport(transport=httpx.MockTransport(handler))
    up = _up("http://openai.invalid/v1", transport)
    with pytest.raises(UpstreamStatusError) as err:
        await up.responses(dict(RESPONSES_BODY))
    assert err.value.http_status == 404 and err.value.code == "model_not_found" and up.responses_mode == "auto"
    await transport.aclose()
