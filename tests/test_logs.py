"""Privacy you can prove: no message content or PII reaches the logs, whatever the request does.

Canary strings travel in every place a request can carry text (messages, tool arguments, user ids,
headers, a malformed body, an upstream error) through every kind of outcome; the captured log
lines must contain none of them. The allow-list processor is also tested directly.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.logs import allow_listed_fields, configure_logging, get_logger
from proxy.settings import Settings
from proxy.testing import FakeUpstream

REPO = Path(__file__).resolve().parents[1]
CANARIES = ["CANARY-Ada-Lovelace-7731", "canary.person@example.com", "555-0199-4242", "CANARY-TOOL-ARG-0042", "CANARY-USER-ID-99"]


def test_processor_drops_unknown_fields_and_exception_messages() -> None:
    try:
        raise ValueError(f"bad input {CANARIES[0]}")
    except ValueError as exc:
        event = allow_listed_fields(None, "info", {"event": "x", "status": 200, "content": CANARIES[1], "exc_info": exc})
    assert "content" not in event
    assert event["dropped_fields"] == 1
    assert event["exc_types"] == ["ValueError"]
    assert CANARIES[0] not in json.dumps(event)


async def test_no_canary_reaches_the_logs(tmp_path: Path) -> None:
    sink = io.StringIO()
    configure_logging("debug", "json", stream=sink)
    try:
        with FakeUpstream(faults=True, slow_seconds=1) as fake:
            settings = Settings(data_dir=tmp_path, upstream_url=fake.base_url, policy={"directory": REPO / "policies", "watch": False}, timeouts={"connect": 1, "read": 0.3, "stream_idle": 0.3})
            async with AsyncTestClient(create_app(settings)) as c:
                text = f"Hi, I am {CANARIES[0]}, mail {CANARIES[1]}, call {CANARIES[2]}."
                msgs: list[dict[str, Any]] = [{"role": "user", "content": text}]
                tools = [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object", "properties": {}}}}]
                headers = {"x-bedside-user": CANARIES[4], "x-bedside-conversation": CANARIES[0]}
                for model in ("support-agent", "gpt-4o-mini", "fault-400", "fault-500", "fault-reset", "fault-garbage-stream", "fault-slow"):
                    for stream in (False, True):
                        await c.post("/v1/chat/completions", json={"model": model, "messages": msgs, "stream": stream, "user": CANARIES[4], "tools": tools, "tool_choice": "required"}, headers=headers)
                tool_turn = msgs + [{"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup_order", "arguments": json.dumps({"q": CANARIES[3]})}}]}, {"role": "tool", "tool_call_id": "c1", "content": CANARIES[3]}]
                await c.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": tool_turn})
                await c.post("/v1/chat/completions", content=f'{{"model": "m", "messages": [{{"role": "user", "content": "{CANARIES[0]}"'.encode())
                await c.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": CANARIES[0], "content": "x"}]})
                await c.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": [CANARIES[1]]})
                await c.post(f"/v1/{CANARIES[0]}", json={"x": CANARIES[1]})
                get_logger().info("request", content=CANARIES[2], detail="fixed text")
    finally:
        configure_logging("info", "json")
    output = sink.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert sum(1 for line in lines if line.get("event") == "request") >= 15, "the request lines were captured"
    for canary in CANARIES:
        assert canary not in output, f"{canary} leaked into the logs"
        assert canary.lower() not in output.lower()


def test_library_warnings_keep_their_text_scrubbed_only_when_asked() -> None:
    """An unexpected library warning is readable (quoted values and structured PII removed)."""
    import logging

    from proxy.detectors.structured_pii import scrub

    sink = io.StringIO()
    try:
        configure_logging("info", "json", stream=sink, library_scrub=scrub)
        logging.getLogger("somelib").warning("could not parse %r; mail %s or call %s", CANARIES[0], CANARIES[1], "+1 415 555 0199")
        configure_logging("info", "json", stream=sink)
        logging.getLogger("somelib").warning("second %s", CANARIES[1])
    finally:
        configure_logging("info", "json")
    first, second = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert first["event"] == "library_log" and first["kind"] == "somelib" and first["level"] == "warning"
    assert first["library_message"] == "could not parse '…'; mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>"
    assert "library_message" not in second, "without a scrub the text is dropped, as before"
    for canary in CANARIES:
        assert canary not in sink.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_format_is_console_on_a_terminal_and_json_elsewhere() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    try:
        for stream in (terminal, pipe):
            configure_logging("info", "auto", stream=stream)
            get_logger().info("policies_loaded", count=5)
    finally:
        configure_logging("info", "json")
    assert json.loads(pipe.getvalue())["event"] == "policies_loaded"
    import re

    line = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue())  # a terminal gets colours
    assert "policies_loaded" in line and "count=5" in line and not line.lstrip().startswith("{")
