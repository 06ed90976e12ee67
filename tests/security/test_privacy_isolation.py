"""Memory never crosses users or tenants: a seeded, randomized run through the real app.

Three tenants (chat keys in ``Settings.api_keys``, privacy keys in the database), several users
each, and the same user ids reused across tenants (``u0`` of acme is not ``u0`` of globex). In a
random order, users grant ``memory`` and state facts carrying their own canaries (a membership
code, kept as said, and an e-mail, which the model only ever sees as a placeholder). Then, in new
conversations, in a random order: the memory Bedside injects into the upstream request holds the
user's own code and no one else's, no other user's canary reaches the upstream in that request at
all, and ``GET /v1/users/{user}/memories`` lists the user's own facts only. Users who never granted
memory get no memory message and a 404 on the memory API, and a chat key may not read memories.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.auth import create_db_key
from proxy.marks import MEMORY_MARK
from proxy.settings import Settings
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.testing import FakeUpstream

SEED = 1307
TENANTS = ("acme", "globex", "initech")
USERS = ("u0", "u1", "u2", "u3")
SILENT = "u3"  # never grants memory


def _chat(tenant: str) -> dict[str, str]:
    return {"authorization": f"Bearer chat-key-{tenant}"}


def _setup(tmp_path: Path, upstream: FakeUpstream) -> tuple[Settings, dict[str, dict[str, str]]]:
    pdir = tmp_path / "policies"
    pdir.mkdir()
    (pdir / "default.yaml").write_text("description: isolation\nowner: tests\npii: {enabled: true}\nmemory: {enabled: true}\n")
    keys = [{"tenant": t, "sha256": hashlib.sha256(f"chat-key-{t}".encode()).hexdigest()} for t in TENANTS]
    url = f"sqlite:///{tmp_path / 'bedside.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:  # settings keys have the chat scope only; the privacy API needs keys with the privacy scope
        privacy = {t: {"authorization": f"Bearer {create_db_key(engine, t, scopes='privacy')[0]}"} for t in TENANTS}
    finally:
        engine.dispose()
    settings = Settings(data_dir=tmp_path, upstream_url=upstream.base_url, policy={"directory": str(pdir), "watch": False}, api_keys=keys)
    return settings, privacy


def _canaries(rng: random.Random) -> dict[tuple[str, str], tuple[str, str]]:
    out = {}
    for t in TENANTS:
        for u in USERS:
            tag = f"{t}{u}{rng.randrange(10**6):06d}"
            out[(t, u)] = (f"canary-77x{tag}", f"mail.{tag}@example.com")
    return out


def _memory_message(body: dict[str, Any]) -> str | None:
    found = [m["content"] for m in body["messages"] if str(m.get("content", "")).startswith(MEMORY_MARK)]
    assert len(found) <= 1
    return found[0] if found else None


async def test_memories_stay_with_their_user_and_tenant(tmp_path: Path) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    canaries = _canaries(rng)
    people = [(t, u) for t in TENANTS for u in USERS]
    async with FakeUpstream(faults=False) as up:
        settings, privacy = _setup(tmp_path, up)
        async with AsyncTestClient(create_app(settings)) as c:

            async def say(t: str, u: str, conversation: str, text: str) -> dict[str, Any]:
                up.recorded.clear()
                headers = {**_chat(t), "x-bedside-user": u, "x-bedside-conversation": conversation}
                r = await c.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}, headers=headers)
                assert r.status_code == 200, r.text
                bodies = [e["body"] for e in up.recorded if e.get("body") and "messages" in e["body"]]
                assert len(bodies) == 1
                return bodies[0]

            # 1. grants and statements, interleaved across tenants and users in a random order
            rng.shuffle(people)
            for t, u in people:
                if u != SILENT:
                    r = await c.put(f"/v1/users/{u}/consent", json={"purpose": "memory", "granted": True}, headers=privacy[t])
                    assert r.status_code == 200, r.text
            rng.shuffle(people)
            for t, u in people:
                code, mail = canaries[(t, u)]
                await say(t, u, f"first-{rng.randrange(10**9)}", f"Hi. My membership code is {code}. My e-mail is {mail}.")

            # 2. new conversations, random order, several rounds: only one's own memory comes back
            for _ in range(2):
                rng.shuffle(people)
                for t, u in people:
                    code, mail = canaries[(t, u)]
                    body = await say(t, u, f"later-{rng.randrange(10**9)}", rng.choice(["What is my membership code?", "How do you reach me?", "Remind me what you know."]))
                    seen = json.dumps(body, ensure_ascii=False)
                    others = [c_ for k, pair in canaries.items() if k != (t, u) for c_ in pair]
                    assert not [o for o in others if o in seen], f"{t}/{u}'s upstream request holds another user's canary"
                    assert mail not in seen, "a remembered e-mail reached the model in clear"
                    memory = _memory_message(body)
                    if u == SILENT:
                        assert memory is None
                    else:
                        assert memory is not None and code in memory, f"{t}/{u} did not get their own memory"

            # 3. the memory API lists one's own facts only; another tenant's user is a 404
            for t, u in people:
                r = await c.get(f"/v1/users/{u}/memories", headers=privacy[t])
                if u == SILENT:
                    assert r.status_code == 404
                    continue
                assert r.status_code == 200, r.text
                listed = json.dumps(r.json(), ensure_ascii=False)
                assert canaries[(t, u)][0] in listed and canaries[(t, u)][1] in listed
                others = [c_ for k, pair in canaries.items() if k != (t, u) for c_ in pair]
                assert not [o for o in others if o in listed], f"{t}/{u}'s memories list another user's canary"
            for t in TENANTS:
                r = await c.get("/v1/users/nobody/memories", headers=privacy[t])
                assert r.status_code == 404
                # a chat key cannot read memories
                assert (await c.get("/v1/users/u0/memories", headers=_chat(t))).status_code == 403
    assert time.monotonic() - started < 20
