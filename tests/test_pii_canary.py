"""Canary PII in requests never reaches the logs, the ``/metrics`` output or an error message.

Canary values (a name, an e-mail, a phone, a card, an SSN, an IBAN) travel through the real app
with PII on: JSON and streamed replies that echo them back, tool-call arguments and results,
embeddings, a shadow-mode policy, a policy whose custom recognizer cannot compile (the analysis
fails: 503), and an analyzer that crashes with the PII in its exception message. Captured log
lines, the metrics page and every error body must contain none of them, while the user still
reads their own values back.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.detectors.pii import PiiDetectConfig, PiiDetector, PiiSpan
from proxy.logs import configure_logging
from proxy.services import build_services
from proxy.settings import Settings
from proxy.stages.pii import PiiEngine, PiiStage
from proxy.testing import FakeUpstream
from tests.detectors.analyzers import patterns_analyzer

NAME = "Zebulon Quartermaine"
CANARIES = [NAME, "zebulon.canary@example.com", "+1 415 555 0172", "4111 1111 1111 1111", "078-05-1120", "DE89 3704 0044 0532 0130 00"]
TEXT = f"I am {NAME}, mail {CANARIES[1]}, phone {CANARIES[2]}, card {CANARIES[3]}, SSN {CANARIES[4]}, IBAN {CANARIES[5]}."

POLICIES = {
    "default.yaml": "description: canary default\nowner: tests\npii: {enabled: true}\n",
    "shadow.yaml": "description: canary shadow\nowner: tests\nmode: shadow\nrouting: {aliases: [shadow-model]}\npii: {enabled: true}\n",
    "broken.yaml": (
        "description: a custom recognizer that cannot compile\nowner: tests\nrouting: {aliases: [broken-model]}\npii:\n  enabled: true\n  custom:\n    - {entity: ORDER_ID, patterns: ['(unclosed']}\n"
    ),
}


class CrashingDetector(PiiDetector):
    """Fails with the analysed text (the PII) in its exception message."""

    def __init__(self) -> None:
        super().__init__(patterns_analyzer())

    def analyze(self, text: str, config: PiiDetectConfig, scope: tuple[str, ...] = ()) -> tuple[PiiSpan, ...]:
        raise RuntimeError(f"cannot analyse {text}")


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [c for c in CANARIES if c.lower() in low or c.replace(" ", "").lower() in low.replace(" ", "")]


async def test_no_canary_in_logs_metrics_or_errors(tmp_path: Path) -> None:
    pdir = tmp_path / "policies"
    pdir.mkdir()
    for name, text in POLICIES.items():
        (pdir / name).write_text(text)
    sink = io.StringIO()
    errors: list[str] = []
    replies: list[str] = []
    metrics_pages: list[str] = []
    configure_logging("debug", "json", stream=sink)
    try:
        with FakeUpstream() as fake:
            settings = Settings(data_dir=tmp_path / "data", upstream_url=fake.base_url, policy={"directory": pdir, "watch": False})
            async with AsyncTestClient(create_app(settings)) as c:
                msgs: list[dict[str, Any]] = [{"role": "user", "content": TEXT}]
                for model in ("gpt-4o-mini", "shadow-model", "broken-model"):
                    for stream in (False, True):
                        r = await c.post("/v1/chat/completions", json={"model": model, "messages": msgs, "stream": stream})
                        (errors if r.status_code >= 400 else replies).append(r.text)
                tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]
                tool_turn = msgs + [
                    {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": json.dumps({"q": TEXT})}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"owner": NAME, "email": CANARIES[1]})},
                ]
                for stream in (False, True):
                    r = await c.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": tool_turn, "tools": tools, "tool_choice": "required", "stream": stream})
                    replies.append(r.text)
                r = await c.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": [TEXT]})
                replies.append(r.text)
                metrics_pages.append((await c.get("/metrics")).text)
                assert "bedside_pii_redactions_total" in metrics_pages[-1]

            services = build_services(settings, upstream_transport=None)
            stage = next(s for s in services.pipeline.stages if isinstance(s, PiiStage))
            stage._engine = PiiEngine(CrashingDetector)  # the crash path, with PII in the exception
            async with AsyncTestClient(create_app(settings, services=services)) as c:
                for stream in (False, True):
                    r = await c.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": msgs, "stream": stream})
                    assert r.status_code == 503
                    errors.append(r.text)
                metrics_pages.append((await c.get("/metrics")).text)
                assert 'bedside_stage_failures_total{mode="closed",stage="pii"} 2.0' in metrics_pages[-1]
            # shadow mode forwards the request untouched, by design; every other request is redacted
            redacted_bodies = [e for e in fake.recorded if (e.get("body") or {}).get("model") != "shadow-model"]
            assert len(redacted_bodies) >= 5
            upstream_saw = json.dumps(redacted_bodies)
            assert any((e.get("body") or {}).get("model") == "shadow-model" for e in fake.recorded)
    finally:
        configure_logging("info", "json")

    logs = sink.getvalue()
    assert sum(1 for line in logs.splitlines() if '"event": "request"' in line or '"event":"request"' in line) >= 10
    assert _leaks(logs) == [], "PII leaked into the logs"
    for page in metrics_pages:
        assert _leaks(page) == [], "PII leaked into /metrics"
    assert len(errors) == 4
    for body in errors:
        assert _leaks(body) == [], "PII leaked into an error message"
        assert "could not check this message for personal data" in json.loads(body)["error"]["message"]
    assert _leaks(upstream_saw) == []
    # and the user still reads their own data back where the model echoed it
    assert any(NAME in reply for reply in replies)
