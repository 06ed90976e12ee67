"""The Responses API end to end: the official ``openai`` client (``client.responses``) against a
listening ``bedside serve``, in front of a real listening upstream that serves the Responses API
and stores responses (``bedside demo-upstream``), and of the in-process demo model (the quick
start: translated to chat completions).

Every Response body and every streamed event the client received is also read raw and checked
against the OpenAI spec's schemas (``tests/e2e/spec.py``: the schema of its type, and no key the
spec does not declare), and parsed with the SDK's own models (no field they do not know).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import Response, ResponseFunctionToolCall
from openai.types.responses.response_stream_event import ResponseStreamEvent
from pydantic import TypeAdapter

from proxy.testing import ServerProcess, bedside_argv, free_port, sse_payloads
from tests.e2e.spec import Spec, load_spec, spec_available

pytestmark = pytest.mark.e2e

Bodies = Callable[[], list[dict[str, Any]]]
REPO = Path(__file__).resolve().parents[2]
ANN, MAIL = "Ann Lee", "ann.lee@example.com"
TOOL: Any = {
    "type": "function",
    "name": "lookup_order",
    "description": "Look up an order by its number.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
}
_EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


# ---- the spec and the SDK's models -----------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> Spec | None:
    """The OpenAI spec's validators (None where the spec is not beside the checkout: bodies are then
    still parsed with the SDK's models)."""
    return load_spec() if spec_available() else None


def _event_schemas(spec: Spec) -> dict[str, str]:
    """Event ``type`` -> the spec's schema of that event (from the ``ResponseStreamEvent`` union)."""
    out: dict[str, str] = {}
    for ref in spec.schemas["ResponseStreamEvent"]["anyOf"]:
        name = ref["$ref"].rsplit("/", 1)[1]
        kind = spec.schemas[name]["properties"]["type"]["enum"][0]
        out[kind] = name
    return out


def _no_extra(model: Any, where: str = "$") -> None:
    assert not model.model_extra, f"{where}: fields unknown to the openai SDK: {sorted(model.model_extra or {})}"
    for name in type(model).model_fields:
        value = getattr(model, name)
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(item, openai.BaseModel):
                _no_extra(item, f"{where}.{name}[{i}]")


def conforms(spec: Spec | None, schema: str, instance: Any, what: str) -> None:
    if spec is None:
        return
    spec.validate(schema, instance, what=what)
    extra = spec.undeclared(schema, instance)
    assert not extra, f"{what} carries keys the OpenAI schema {schema} does not declare: {extra}"


def check_response(spec: Spec | None, body: dict[str, Any], what: str) -> Response:
    conforms(spec, "Response", body, what)
    parsed = Response.model_validate(body)
    _no_extra(parsed)
    return parsed


def check_events(spec: Spec | None, raw: bytes, what: str) -> list[dict[str, Any]]:
    """Every event of a raw SSE body, checked; the last must end the response."""
    events = sse_payloads(raw)
    assert events and "[DONE]" not in events, "a Responses stream has no [DONE]"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    schemas = _event_schemas(spec) if spec is not None else {}
    for event in events:
        if spec is not None:
            assert event["type"] in schemas, f"{what}: an event type the spec does not know: {event['type']}"
            conforms(spec, schemas[event["type"]], event, f"{what} event {event['sequence_number']} ({event['type']})")
        _no_extra(_EVENTS.validate_python(event), f"{what} event {event['type']}")
    assert events[0]["type"] == "response.created"
    assert events[-1]["type"] in ("response.completed", "response.incomplete", "response.failed")
    return events


@pytest.fixture(scope="module")
def http(bedside_url: str) -> Iterator[httpx.Client]:
    """Raw HTTP with the same credential as ``openai_client`` (without user ids, threads belong to the key)."""
    with httpx.Client(base_url=bedside_url, timeout=20, headers={"authorization": "Bearer x"}) as client:
        yield client


def _streamed_text(events: list[dict[str, Any]]) -> str:
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")


def _last(bodies: Bodies) -> dict[str, Any]:
    got = bodies()
    assert got, "the upstream was not called"
    return got[-1]


# ---- create: JSON and streams ------------------------------------------------------------------


def test_responses_create_json_restores_what_the_model_saw_redacted(openai_client: openai.OpenAI, upstream_bodies: Bodies, spec: Spec | None) -> None:
    raw = openai_client.responses.with_raw_response.create(
        model="support-agent", instructions="Answer in one line.", input=f"Hello, my name is {ANN} and my mail is {MAIL}.", metadata={"ticket": "T-1"}
    )
    check_response(spec, raw.http_response.json(), "the JSON response")
    response = raw.parse()
    assert response.status == "completed" and response.object == "response"
    assert f'You said: "Hello, my name is {ANN} and my mail is {MAIL}."' in response.output_text
    assert response.instructions == "Answer in one line." and response.metadata == {"ticket": "T-1"}
    sent = _last(upstream_bodies)
    assert sent["input"] == [{"type": "message", "role": "user", "content": "Hello, my name is <PERSON_1> and my mail is <EMAIL_ADDRESS_1>."}]
    assert sent["instructions"].startswith("[bedside:persona]") and sent["instructions"].endswith("Answer in one line.")
    assert raw.http_response.headers["x-bedside-policy"] == "customer-service"


def test_responses_stream_with_the_official_client_and_every_event_conforms(openai_client: openai.OpenAI, http: httpx.Client, spec: Spec | None) -> None:
    request = {"model": "support-agent", "input": f"Hello, my name is {ANN} and my mail is {MAIL}.", "stream": True}
    events = list(openai_client.responses.create(**request))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert f'You said: "Hello, my name is {ANN} and my mail is {MAIL}."' in text
    final = events[-1].response  # type: ignore[union-attr]
    assert final.output_text == text and final.status == "completed"
    raw = http.post("/v1/responses", json=request)
    assert raw.headers["content-type"].startswith("text/event-stream")
    raw_events = check_events(spec, raw.content, "the stream")
    assert _streamed_text(raw_events) == text
    check_response(spec, raw_events[-1]["response"], "the completed response")


def test_a_function_tool_round_trip(openai_client: openai.OpenAI, upstream_bodies: Bodies, http: httpx.Client, spec: Spec | None) -> None:
    first = openai_client.responses.create(model="support-agent", input="Where is my order A-1042?", tools=[TOOL], tool_choice="required")
    (call,) = first.output
    assert isinstance(call, ResponseFunctionToolCall) and call.name == "lookup_order"
    assert json.loads(call.arguments) == {"query": "Where is my order A-1042?"}, "the order number is restored in the arguments"
    assert "A-1042" not in json.dumps(_last(upstream_bodies)), "the model only saw its placeholder"
    # the result goes back in the stored conversation (previous_response_id) ...
    second = openai_client.responses.create(
        model="support-agent", previous_response_id=first.id, tools=[TOOL], input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Shipped on Monday."}]
    )
    assert "I received the tool result" in second.output_text
    sent = _last(upstream_bodies)
    assert sent["previous_response_id"] == first.id and sent["input"][0]["type"] == "function_call_output"
    # ... or stateless, the client resending the call (streamed, every event checked)
    stateless = {
        "model": "support-agent",
        "tools": [TOOL],
        "store": False,
        "stream": True,
        "input": [{"role": "user", "content": "Where is my order A-1042?"}, call.model_dump(exclude_none=True), {"type": "function_call_output", "call_id": call.call_id, "output": "Shipped."}],
    }
    events = check_events(spec, http.post("/v1/responses", json=stateless).content, "the stateless tool round trip")
    assert "I received the tool result" in _streamed_text(events)
    types = [i["type"] for i in _last(upstream_bodies)["input"]]
    assert types == ["message", "function_call", "function_call_output"]


def test_previous_response_id_keeps_stable_placeholders(openai_client: openai.OpenAI, upstream_bodies: Bodies) -> None:
    first = openai_client.responses.create(model="support-agent", input=f"Hello, my name is {ANN} and my mail is {MAIL}.")
    stream = openai_client.responses.create(
        model="support-agent", previous_response_id=first.id, input=f"Please copy Bob Stone in, and keep {MAIL} as my address.", stream=True
    )
    events = list(stream)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    sent = _last(upstream_bodies)
    assert sent["previous_response_id"] == first.id
    assert sent["input"][0]["content"] == "Please copy <PERSON_2> in, and keep <EMAIL_ADDRESS_1> as my address.", "the same value keeps its placeholder; a new one numbers on"
    assert f'Earlier you said: "Hello, my name is {ANN} and my mail is {MAIL}."' in text, "the upstream's stored history comes back with the user's values"
    third = openai_client.responses.create(model="support-agent", previous_response_id=events[-1].response.id, input="Thanks, Bob Stone.")  # type: ignore[union-attr]
    assert _last(upstream_bodies)["input"][0]["content"] == "Thanks, <PERSON_2>."
    assert "Thanks, Bob Stone." in third.output_text
    other = openai_client.with_options(default_headers={"X-Bedside-User": "someone-else"})
    with pytest.raises(openai.NotFoundError):
        other.responses.create(model="support-agent", previous_response_id=first.id, input="What is my name?")


def test_retrieve_and_delete_a_stored_response(openai_client: openai.OpenAI, spec: Spec | None, http: httpx.Client) -> None:
    created = openai_client.responses.create(model="support-agent", input=f"My name is {ANN}.")
    got = http.get(f"/v1/responses/{created.id}")
    assert got.status_code == 200, got.text
    retrieved = check_response(spec, got.json(), "GET /v1/responses/{id}")
    assert retrieved.output_text == created.output_text and ANN in retrieved.output_text
    assert retrieved.instructions is None
    openai_client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(created.id)


def test_a_fault_mid_stream_is_an_error_event(openai_client: openai.OpenAI, http: httpx.Client, spec: Spec | None) -> None:
    events = list(openai_client.responses.create(model="fault-reset", input="hi", stream=True))
    assert [e.type for e in events[-2:]] == ["error", "response.failed"]
    assert events[-2].code == "upstream_unavailable"  # type: ignore[union-attr]
    raw = http.post("/v1/responses", json={"model": "fault-garbage-stream", "input": "hi", "stream": True})
    assert raw.status_code == 200
    check_events(spec, raw.content, "the broken stream")


def test_errors_are_openai_errors(openai_client: openai.OpenAI, http: httpx.Client, spec: Spec | None) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.responses.create(model="support-agent", input="hi", background=True)
    assert err.value.code == "unsupported_parameter"
    for body, status in (({"model": "support-agent", "input": 3}, 400), ({"model": "fault-429", "input": "hi"}, 429), ({"model": "fault-error-event", "input": "hi", "stream": True}, 502)):
        resp = http.post("/v1/responses", json=body)
        assert resp.status_code == status
        conforms(spec, "ErrorResponse", resp.json(), f"the {status} error")


# ---- the quick start: the in-process demo model, translated ----------------------------------------


@pytest.fixture(scope="module")
def demo_bedside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``bedside serve`` with no upstream: the offline demo model, which speaks chat completions only."""
    port = free_port()
    server = ServerProcess(bedside_argv("serve", "--port", str(port), "--quickstart"), port=port, timeout=60)
    server.env = {
        **{k: v for k, v in __import__("os").environ.items() if not k.startswith("BEDSIDE_")},
        "BEDSIDE_DATA_DIR": str(tmp_path_factory.mktemp("bedside-demo-data")),
        "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"),
        "BEDSIDE_POLICY__WATCH": "false",
    }
    with server:
        yield server.url


def test_the_quick_start_answers_responses_from_the_demo_model(demo_bedside: str, spec: Spec | None) -> None:
    client = openai.OpenAI(base_url=f"{demo_bedside}/v1", api_key="unused-in-open-mode", max_retries=0, timeout=20)
    try:
        response = client.responses.create(model="support-agent", input=f"Where is my order A-1042? I'm {ANN}.")
        assert "offline demo model" in response.output_text and "A-1042" in response.output_text
        check_response(spec, client.responses.with_raw_response.create(model="support-agent", input="Hello").http_response.json(), "the demo's response")
        with httpx.Client(base_url=demo_bedside, timeout=20) as http:
            events = check_events(spec, http.post("/v1/responses", json={"model": "support-agent", "input": "Hello", "stream": True}).content, "the demo's stream")
            assert "offline demo model" in _streamed_text(events)
            tool = http.post("/v1/responses", json={"model": "support-agent", "input": "Where is A-1042?", "tools": [TOOL], "tool_choice": "required"}).json()
            check_response(spec, tool, "the demo's function call")
            assert tool["output"][0]["type"] == "function_call"
        with pytest.raises(openai.NotFoundError) as err:  # a chat-only model server keeps no responses
            client.responses.create(model="support-agent", previous_response_id=response.id, input="and now?")
        assert err.value.code == "previous_response_not_found" and "send the earlier turns in 'input'" in str(err.value.message)
    finally:
        client.close()
