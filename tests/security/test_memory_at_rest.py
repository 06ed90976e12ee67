"""Evidence that memories are unreadable at rest, driven through the app, on SQLite and PostgreSQL.

A user grants ``memory`` through the consent API and states facts carrying a canary (an e-mail and
"my membership code is canary-77x..." (the extractor keeps the identifiers it knows: order, membership, ...)); the memory API shows them remembered. Then:

* SQLite: a raw byte scan of ``bedside.db`` **and** ``bedside.db-wal`` (while the app runs, and
  again after it stopped) finds no plaintext canary, while a value stored in clear (the consent
  notice version, in every receipt) is found, so the scan does see the rows;
* PostgreSQL: a ``pg_dump`` of the database holds no canary, while it holds the control value.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from proxy.app import create_app
from proxy.settings import Settings
from proxy.testing import FakeUpstream
from tests.storage.dbs import pg_url  # noqa: F401 - fixture

CONTROL = "control-notice-visible-in-clear"


def _policies(tmp_path: Path) -> Path:
    # none of the repository's policies enables memory: one that does, with PII on (memory needs it)
    pdir = tmp_path / "policies"
    pdir.mkdir()
    (pdir / "default.yaml").write_text("description: memory at rest\nowner: tests\npii: {enabled: true}\nmemory: {enabled: true}\n")
    return pdir


def _canaries() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:10]
    return f"locker.{tag}@example.com", f"canary-77x{tag}"


async def _remember(tmp_path: Path, upstream: FakeUpstream, database: dict[str, Any], mail: str, code: str, scan: Any = None) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("We remember what you tell us about yourself, if you agree.")
    settings = Settings(
        data_dir=tmp_path,
        upstream_url=upstream.base_url,
        database=database,
        policy={"directory": str(_policies(tmp_path)), "watch": False},
        privacy={"notice_file": str(notice), "notice_version": CONTROL},
    )
    async with AsyncTestClient(create_app(settings)) as c:
        r = await c.put("/v1/users/ann/consent", json={"purpose": "memory", "granted": True})
        assert r.status_code == 200, r.text
        said = f"Hello. My e-mail is {mail}. My membership code is {code}."
        r = await c.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": said}]}, headers={"x-bedside-user": "ann", "x-bedside-conversation": "one"})
        assert r.status_code == 200, r.text
        listed = (await c.get("/v1/users/ann/memories")).json()["data"]
        texts = " ".join(m["text"] for m in listed)
        assert mail in texts and code in texts, f"the facts were not remembered: {listed}"
        if scan is not None:
            scan()


def _assert_no_canary(raw: bytes, canaries: tuple[str, ...], where: str) -> None:
    for canary in canaries:
        for needle in (canary.encode(), canary.encode("utf-16-le"), canary.upper().encode()):
            assert needle not in raw, f"plaintext canary {canary!r} found in {where}"


async def test_sqlite_file_and_wal_hold_no_plaintext_memory(tmp_path: Path) -> None:
    mail, code = _canaries()
    path = tmp_path / "bedside.db"
    seen: dict[str, bytes] = {}

    def scan() -> None:  # while the app (and its connections) still run: the rows are in the WAL
        wal = Path(f"{path}-wal")
        assert wal.exists() and wal.stat().st_size > 0, "the test needs the rows in the WAL file"
        seen["wal"] = wal.read_bytes()
        seen["db"] = path.read_bytes()

    async with FakeUpstream(faults=False) as up:
        await _remember(tmp_path, up, {"url": f"sqlite:///{path}"}, mail, code, scan)
    assert CONTROL.encode() in seen["wal"] + seen["db"], "the scan does not see the rows"
    _assert_no_canary(seen["wal"], (mail, code), "bedside.db-wal")
    _assert_no_canary(seen["db"], (mail, code), "bedside.db")
    after = path.read_bytes() + (Path(f"{path}-wal").read_bytes() if Path(f"{path}-wal").exists() else b"")
    assert CONTROL.encode() in after
    _assert_no_canary(after, (mail, code), "bedside.db and -wal after the app stopped")


@pytest.mark.postgres
async def test_pg_dump_holds_no_plaintext_memory(tmp_path: Path, pg_url: str) -> None:  # noqa: F811 - the imported fixture
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed (apt-get install postgresql-client): the dump scan cannot run")
    mail, code = _canaries()
    async with FakeUpstream(faults=False) as up:
        await _remember(tmp_path, up, {"url": pg_url}, mail, code)
    url = make_url(pg_url)
    argv = [pg_dump, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres", "--no-password", str(url.database)]
    done = subprocess.run(argv, capture_output=True, timeout=120)
    if done.returncode != 0 and b"version mismatch" in done.stderr:
        pytest.skip(f"pg_dump cannot dump this server: {done.stderr.decode(errors='replace').strip()[:200]}")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    dump = done.stdout
    assert b"COPY public.memories" in dump and CONTROL.encode() in dump, "the dump does not hold the rows"
    _assert_no_canary(dump, (mail, code), "pg_dump output")
