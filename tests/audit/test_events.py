"""Events keep machine values only: sentences, e-mails and odd strings never reach an entry."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from proxy.audit.events import AdminAction, RequestEvent, check_reason, machine_values, parse_event
from proxy.audit.request_event import token
from proxy.audit.store import leaf_bytes


def test_machine_values_keep_names_and_numbers_and_drop_text() -> None:
    decisions = {
        "pii": {"redacted": {"EMAIL_ADDRESS": 2, "PERSON": 1}},
        "input_rails": {"failures": [{"check": "jailbreak", "reasons": ["override", "I am Ann Smith"], "action": "block"}]},
        "tone": {"rules": ["acknowledge-frustration", "ann@example.com"], "escalated": False},
        "emotion": {"intensity": 0.123456, "emotion": "frustration"},
        "a sentence key": 1,
    }
    kept = machine_values(decisions)
    assert kept["pii"] == {"redacted": {"EMAIL_ADDRESS": 2, "PERSON": 1}}
    assert kept["input_rails"]["failures"][0]["reasons"] == ["override", "<dropped>"]
    assert kept["tone"]["rules"] == ["acknowledge-frustration", "<dropped>"]
    assert kept["emotion"]["intensity"] == 0.1235
    assert "a sentence key" not in kept
    assert machine_values({"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}) == {"a": {"b": {"c": {"d": {"e": {"f": "<dropped>"}}}}}}


def test_tokens_and_reasons() -> None:
    assert token("support-agent") == "support-agent"
    assert token("Zebulon Quartermaine").startswith("h:")
    assert check_reason("  quarterly   review ") == "quarterly review"
    for bad in ("asked by ann@example.com", "call +1 415 555 0172", "x"):
        with pytest.raises(ValueError):
            check_reason(bad)
    with pytest.raises(ValidationError):
        RequestEvent(request_id="a b", endpoint="chat", status=200, tenant="t", latency_ms=1.0)


def test_an_entry_round_trips_to_its_typed_event() -> None:
    event = AdminAction(action="backup_restored", reason="restore drill")
    data = json.loads(leaf_bytes(7, event.to_json()))
    assert list(data)[:3] == ["index", "v", "kind"] and data["index"] == 7
    assert parse_event(data) == event
    with pytest.raises(ValueError, match="unknown audit event kind"):
        parse_event({"kind": "gossip"})


def test_machine_values_are_the_same_when_read_again_and_for_every_container() -> None:
    """The remembered tokens change nothing: a second reading, a dropped string seen before, and
    containers other than dicts of built-in types give what the first reading gave."""
    from collections import OrderedDict
    from enum import StrEnum

    class Verdict(StrEnum):
        BLOCK = "block"

    decisions = {
        "a": ["x", "two words", 3, 1.23456, None, True, ("t",), {"s"}],
        "b": OrderedDict(k="v", sentence="Ann Smith lives here"),
        Verdict.BLOCK: Verdict.BLOCK,
        "many": {f"k{i}": i for i in range(40)},
        "deep": {"a": {"b": {"c": {"d": {"e": {"f": "g"}}}}}},
    }
    first = machine_values(decisions)
    assert machine_values(decisions) == first
    assert first["a"] == ["x", "<dropped>", 3, 1.2346, None, True, ["t"], ["s"]]
    assert first["b"] == {"k": "v", "sentence": "<dropped>"}
    assert first["block"] == "block" and len(first["many"]) == 32
    assert first["deep"] == {"a": {"b": {"c": {"d": {"e": "<dropped>"}}}}}  # six levels below the top
    assert machine_values("two words") == "<dropped>"  # never remembered as a token


def test_a_trusted_event_is_the_constructed_one() -> None:
    """``trusted`` (the request path's constructor) gives the event ``model_construct`` gives,
    byte for byte, and takes exactly the model's fields."""
    fields = dict(request_id="r1", endpoint="chat", status=200, stream=False, error_code=None, tenant="t", subject=None, conversation=None, model="m")
    fields |= dict(policy="p", policy_version="v1", upstream="u", upstream_status=None, latency_ms=1.5, decisions={"policy": {"name": "p"}})
    fast = RequestEvent.trusted(**fields)
    slow = RequestEvent.model_construct(v=fast.v, id=fast.id, at=fast.at, **fields)
    assert fast == slow and fast.to_json() == slow.to_json()
    assert parse_event(json.loads(fast.to_json())) == fast  # and it is a valid event
    with pytest.raises(TypeError):
        RequestEvent.trusted(**fields, extra="x")
    with pytest.raises((KeyError, TypeError)):
        RequestEvent.trusted(**{k: v for k, v in fields.items() if k != "model"})


def test_an_entry_is_written_as_the_standard_library_writes_it() -> None:
    """The request path's encoder (msgspec) gives the bytes ``json.dumps`` gives for what an entry
    holds: tokens, non-ASCII text, rounded floats, nested decisions."""
    decisions = machine_values({"emotion": {"intensity": 0.45, "frustration": 0.35, "trend": "steady"}, "pii": {"redacted": {"PERSON": 1}, "shadow": False}, "rails": {"checks": ["jailbreak", "crisis"], "n": None}})
    event = RequestEvent.trusted(
        request_id="r1", endpoint="chat", status=200, stream=False, error_code=None, tenant="t", subject=None, conversation=None, model="m",
        policy="p", policy_version="v1", upstream="u", upstream_status=200, latency_ms=12.345, decisions=decisions,
    )
    data = {k: v for k, v in event.__dict__.items() if v is not None}
    expected = json.dumps({"v": data.pop("v"), "kind": "request", **data}, separators=(",", ":"), ensure_ascii=False).encode()
    assert event.to_json() == expected
    admin = AdminAction(action="backup_restored", reason="Prüfung der Sicherung", details={"rows": 3, "ratio": 0.125})
    assert json.loads(admin.to_json())["reason"] == "Prüfung der Sicherung"
