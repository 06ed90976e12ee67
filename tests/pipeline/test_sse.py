"""The SSE codec: decoding upstream bytes at every split, chunk <-> delta conversion, encoding."""

from __future__ import annotations

import json

import pytest

from proxy.errors import UpstreamProtocolError
from proxy.pipeline.deltas import ExtraDelta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta
from proxy.pipeline.sse import DONE, ChunkEncoder, SSEDecoder, chunk_to_deltas, decode_payload, error_frame
from proxy.testing import sse_payloads

STREAM = (
    b": keep-alive\r\n\r\n"
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}\r\n\r\n'
    b"event: message\n"
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo \xc3\xa9"},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_decoder_gives_the_same_payloads_at_every_split(cut: int) -> None:
    dec = SSEDecoder()
    out = dec.feed(STREAM[:cut]) + dec.feed(STREAM[cut:]) + dec.flush()
    assert len(out) == 3
    assert json.loads(out[1])["choices"][0]["delta"]["content"] == "lo é"
    assert out[2] == "[DONE]"


def test_decoder_joins_multiline_data_and_flushes_unterminated_payload() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"data: {\"a\":\ndata: 1}\n\n") == ['{"a":\n1}']
    assert dec.feed(b"data: [DONE]") == []
    assert dec.flush() == ["[DONE]"]


def test_chunk_to_deltas_types_and_meta() -> None:
    meta: dict = {}
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 5,
        "model": "m",
        "system_fingerprint": "fp",
        "service_tier": "default",
        "choices": [
            {
                "index": 1,
                "delta": {"content": "x", "reasoning_content": "why", "tool_calls": [{"index": 0, "id": "t", "type": "function", "function": {"name": "f", "arguments": "{"}}]},
                "logprobs": {"content": []},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"total_tokens": 3},
    }
    deltas = list(chunk_to_deltas(chunk, meta))
    assert deltas == [
        TextDelta("x", 1, {"content": []}),
        ToolCallDelta(index=0, choice=1, id="t", name="f", arguments="{", type="function"),
        ExtraDelta({"reasoning_content": "why"}, 1),
        FinishDelta("tool_calls", 1),
        UsageDelta({"total_tokens": 3}),
    ]
    assert meta == {"id": "c1", "created": 5, "model": "m", "system_fingerprint": "fp", "service_tier": "default"}


@pytest.mark.parametrize("payload", ["{not json", "[1,2]", '"str"'])
def test_decode_payload_rejects_garbage(payload: str) -> None:
    with pytest.raises(UpstreamProtocolError):
        decode_payload(payload)


def test_chunk_without_choices_is_a_protocol_error() -> None:
    with pytest.raises(UpstreamProtocolError):
        list(chunk_to_deltas({"id": "x"}, {}))


def test_encoder_round_trip_and_usage_only_when_asked() -> None:
    meta = {"id": "c", "created": 1, "model": "m"}
    deltas = [TextDelta("Hi"), ToolCallDelta(0, 0, "t1", "lookup", '{"a"'), ToolCallDelta(0, 0, None, None, ":1}", None), FinishDelta("tool_calls"), UsageDelta({"total_tokens": 2})]
    for include in (False, True):
        enc = ChunkEncoder(meta, include_usage=include)
        body = b"".join(enc.encode(d) for d in deltas) + DONE
        payloads = sse_payloads(body)
        assert payloads[-1] == "[DONE]"
        chunks = payloads[:-1]
        assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "Hi"}
        back: list = []
        m2: dict = {}
        for c in chunks:
            back.extend(chunk_to_deltas(c, m2))
        expected = deltas if include else deltas[:-1]
        assert back == [d if not isinstance(d, TextDelta) else TextDelta(d.text, d.choice) for d in expected]
        assert any(c["choices"] == [] for c in chunks) is include


def test_error_frame_is_an_openai_error_object() -> None:
    [payload] = sse_payloads(error_frame({"error": {"message": "m", "type": "t", "param": None, "code": "c"}}))
    assert payload["error"]["code"] == "c"


@pytest.mark.parametrize("include", [False, True])
def test_a_text_piece_is_the_same_frame_with_the_top_fields_encoded_once(include: bool) -> None:
    """After a choice's first frame a text piece takes the short way (the top-level fields encoded
    once): byte for byte the frame the long way writes, also after the upstream changes a field."""
    meta: dict = {"id": "c", "created": 1, "model": "m", "system_fingerprint": "fp", "vendor": {"x": [1, None]}}
    enc = ChunkEncoder(meta, include_usage=include)
    enc.encode(TextDelta("first"))
    enc.encode(TextDelta("other choice", choice=1))
    for text, choice in (("plain ", 0), ('"quoted" \\ ü\n\u2028 <PERSON_1>', 0), ("two", 1), ("", 0)):
        assert enc.encode(TextDelta(text, choice)) == enc._frame(choice, {"content": text})
    meta["obfuscation"] = "abc"
    meta["model"] = "m2"
    frame = enc.encode(TextDelta("after"))
    assert frame == enc._frame(0, {"content": "after"})
    assert b'"model":"m2"' in frame and b'"obfuscation":"abc"' in frame


def test_decoder_ignores_other_fields_and_reads_bare_data_lines() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"id: 1\nretry: 5\ndatax: no\ndata\ndata:x\n\n") == ["\nx"]
    with pytest.raises(UpstreamProtocolError):
        dec.feed(b"data: \xff\n\n")
