"""``bedside policy test`` runs every case on both APIs: chat completions and the Responses API."""

from __future__ import annotations

import shutil
from pathlib import Path

from proxy.cli.policy_cases import as_responses_request, run_cases

REPO = Path(__file__).resolve().parents[2]


def _one_case(tmp_path: Path, text: str) -> Path:
    directory = tmp_path / "policies"
    shutil.copytree(REPO / "policies", directory, ignore=shutil.ignore_patterns("tests"))
    (directory / "tests").mkdir()
    (directory / "tests" / "case.yaml").write_text(text, encoding="utf-8")
    return directory


def test_a_case_runs_as_chat_and_as_responses_json_and_stream(tmp_path: Path) -> None:
    directory = _one_case(
        tmp_path,
        """cases:
  - name: persona, redaction and restore
    request:
      model: support-agent
      messages:
        - {role: system, content: "Customer on file: Ann Lee, ann.lee@example.com."}
        - {role: user, content: "Hello, where is order A-1042?"}
      max_tokens: 5000
    upstream: {reply: "Hello <PERSON_1>, it ships today."}
    expect:
      upstream:
        system_contains: ["You are Ava", "Customer on file: <PERSON_1>, <EMAIL_ADDRESS_1>."]
        system_not_contains: ["Ann Lee"]
        params: {max_tokens: 800}
      response: {finish_reason: stop, contains: ["Hello Ann Lee, it ships today."]}
""",
    )
    results, problems = run_cases(directory)
    assert problems == []
    assert sorted(r.mode for r in results) == ["json", "responses json", "responses stream", "stream"]
    assert [r.failures for r in results if not r.ok] == []


def test_a_wrong_expectation_fails_on_both_apis(tmp_path: Path) -> None:
    directory = _one_case(
        tmp_path,
        """cases:
  - name: expects no persona
    request: {model: support-agent, messages: [{role: user, content: "hi"}]}
    upstream: {reply: "Ahoy."}
    expect:
      upstream: {system_not_contains: ["You are Ava"]}
      response: {finish_reason: length, contains: ["Farewell"]}
""",
    )
    results, _ = run_cases(directory)
    assert len(results) == 4
    for result in results:
        assert "upstream system messages contain 'You are Ava'" in result.failures, result.mode
        assert "finish_reason: expected 'length', got 'stop'" in result.failures, result.mode
        assert "reply lacks 'Farewell'" in result.failures, result.mode


def test_apis_narrow_a_case_to_one_api(tmp_path: Path) -> None:
    directory = _one_case(tmp_path, "cases:\n  - name: chat only\n    request: {model: gpt-4o-mini, messages: [{role: user, content: hi}]}\n    apis: [chat]\n")
    results, _ = run_cases(directory)
    assert [r.mode for r in results] == ["json", "stream"]


def test_a_chat_case_request_becomes_the_responses_request_that_means_the_same() -> None:
    chat = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "R"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "max_tokens": 10,
        "response_format": {"type": "json_object"},
    }
    assert as_responses_request(chat) == {
        "model": "m",
        "input": [
            {"type": "message", "role": "system", "content": "S"},
            {"type": "message", "role": "user", "content": "Q"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "R"},
        ],
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
        "tool_choice": {"type": "function", "name": "f"},
        "max_output_tokens": 10,
        "text": {"format": {"type": "json_object"}},
    }
