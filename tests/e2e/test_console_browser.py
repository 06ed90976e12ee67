"""The console in a real browser: Playwright for Python driving Debian's chromium (`/usr/bin/chromium`).

A real `bedside serve` (with an admin key) and the demo upstream run as processes; the page is
opened, signed in with the keyboard, a conversation is driven through the proxy with the official
`openai` client while the page is open, and it must appear live (server-sent events) with its
readings and no message content; then the KPI panels and the version comparison fill. A screenshot
is saved in the test's tmp dir and copied to `bench/results/console.png`.

Skips with the reason when chromium or playwright is missing on a developer's machine; in CI
(`CI` set) that is a failure instead: `.ci/run` installs chromium with apt.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from proxy.auth import hash_key
from proxy.testing import ServerProcess, bedside_argv, free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BEDSIDE_TEST_CHROMIUM", "/usr/bin/chromium"))
ADMIN_KEY = "bsk-console-admin-test"
CHAT_KEY = "bsk-console-chat-test"
CANARY = "zebra-canary-5521"
TURNS = [
    f"Hello, my parcel {CANARY} has not arrived yet.",
    "It is two weeks late and nobody answers my emails. I am getting annoyed.",
    "This is ridiculous! I am furious, I just want my money back now!",
]


def _browser_or_skip() -> Any:
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; .ci/run does it)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            reason = "playwright is not installed (it is in the dev extra: `make test` installs it)"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the console browser test cannot run in CI: {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    up_port, port = free_port(), free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    upstream = ServerProcess(bedside_argv("demo-upstream", "--port", str(up_port)), port=up_port, ready_path="/v1/models")
    upstream.env = {**base, "BEDSIDE_QUICKSTART": "1"}
    keys = [{"tenant": "acme", "sha256": hash_key(ADMIN_KEY), "scopes": ["admin"]}, {"tenant": "acme", "sha256": hash_key(CHAT_KEY), "scopes": ["chat"]}]
    bedside = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, ready_path="/healthz", timeout=90)
    bedside.env = {
        **base,
        "BEDSIDE_QUICKSTART": "1",
        "BEDSIDE_UPSTREAM_URL": f"http://127.0.0.1:{up_port}/v1",
        "BEDSIDE_DATA_DIR": str(tmp_path_factory.mktemp("console-e2e")),
        "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"),
        "BEDSIDE_POLICY__WATCH": "false",
        "BEDSIDE_API_KEYS": json.dumps(keys),
    }
    with upstream, bedside:
        yield bedside


def _feedback(url: str, conversation: str, rating: int, resolved: bool) -> None:
    body = json.dumps({"conversation": conversation, "rating": rating, "resolved": resolved}).encode()
    req = urllib.request.Request(f"{url}/v1/feedback", data=body, method="POST", headers={"content-type": "application/json", "authorization": f"Bearer {CHAT_KEY}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200


def test_the_console_shows_a_live_conversation_and_the_kpis(servers: ServerProcess, tmp_path: Path) -> None:
    sync_playwright = _browser_or_skip()
    url = servers.url
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.on("request", lambda r: requested.append(r.url))
            page.goto(f"{url}/console")

            # signed out: the key panel has the focus; sign in with the keyboard only
            page.wait_for_selector("#key-panel:not([hidden])")
            assert page.evaluate("document.activeElement.id") == "key-input"
            page.keyboard.type(ADMIN_KEY)
            page.keyboard.press("Enter")
            page.wait_for_selector("#live-state:text('live')", timeout=15000)
            assert page.is_hidden("#open-warning")  # keys exist: no open-mode warning

            # a conversation through the proxy while the page is open
            client = openai.OpenAI(base_url=f"{url}/v1", api_key=CHAT_KEY, max_retries=0, timeout=30)
            messages: list[Any] = []
            for text in TURNS:
                messages.append({"role": "user", "content": text})
                reply = client.chat.completions.create(model="support-agent", messages=messages, extra_headers={"x-bedside-conversation": "console-e2e-1"})
                messages.append({"role": "assistant", "content": reply.choices[0].message.content})
            client.close()

            page.wait_for_selector("#live-body tr[data-conversation]", timeout=15000)
            page.wait_for_function("document.querySelector('#live-body tr[data-conversation] td.num').textContent === '3'", timeout=15000)
            row = page.query_selector("#live-body tr[data-conversation]")  # the table is re-rendered on every event: take the row now
            assert row is not None and len(row.query_selector_all("svg.spark rect")) == 3  # one bar per user turn
            text = page.inner_text("#live-table")
            assert "customer-service" in text and "frustration" in text
            assert "input:pass" in text or "output:pass" in text
            label = row.query_selector("svg.spark").get_attribute("aria-label") or ""
            assert "Frustration now" in label

            # feedback, then the KPI panels, activated from the keyboard
            _feedback(url, "console-e2e-1", 5, True)
            page.focus("#kpi-form button")
            page.keyboard.press("Enter")
            page.wait_for_selector("#kpi-groups table", timeout=15000)
            cards = page.inner_text("#kpi-cards")
            assert "Conversations\n1" in cards and "CSAT (4-5 of 5)\n100.0%" in cards and "Resolution rate\n100.0%" in cards
            page.focus("#compare-form button")
            page.keyboard.press("Enter")
            page.wait_for_selector("#compare-result table", timeout=15000)
            assert "csat" in page.inner_text("#compare-result")

            # never any message content on the page; nothing fetched from anywhere but Bedside
            html = page.content()
            for secret in (CANARY, "ridiculous", "furious", ADMIN_KEY):
                assert secret not in html
            assert requested and all(r.startswith(url) for r in requested), [r for r in requested if not r.startswith(url)]

            shot = tmp_path / "console.png"
            page.screenshot(path=str(shot), full_page=True)
            results = REPO / "bench" / "results"
            results.mkdir(exist_ok=True)
            shutil.copy(shot, results / "console.png")
        finally:
            browser.close()


def test_the_console_refuses_a_key_without_the_admin_scope(servers: ServerProcess) -> None:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{servers.url}/console")
            page.wait_for_selector("#key-panel:not([hidden])")
            page.keyboard.type(CHAT_KEY)
            page.keyboard.press("Enter")
            page.wait_for_selector("#key-error:text('admin')", timeout=15000)
            assert page.is_hidden("#main")
        finally:
            browser.close()
