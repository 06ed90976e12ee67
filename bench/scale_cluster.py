"""The replicas of ``bench/scale.py``: N ``bedside serve`` processes with exactly a replica's settings.

What a Kubernetes replica gets, here on one machine:

* one PostgreSQL for all (a throwaway cluster, ``proxy.testing.ThrowawayPostgres``, so stopping it
  disturbs nobody; ``--database-url`` uses an existing one), migrated once beforehand by
  ``bedside db upgrade`` (the chart's migration Job) and never by the replicas
  (``BEDSIDE_DATABASE__AUTO_MIGRATE=false``);
* the same policy directory, client keys (``BEDSIDE_API_KEYS``, two tenants), key-encryption key,
  privacy subject key, identifier key, PII hash key (files) and audit signing key (a variable);
* its **own** empty data directory: nothing may depend on a replica's local disk.

Two upstreams: the demo model (``bedside demo-upstream --record``: it says what reached it, keeps
Responses for ``previous_response_id``, and records every request so the bench can prove no raw
value reached it) for models named ``demo-*``, and ``bench/fast_upstream.py`` for everything else.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from proxy.audit.note import Signer
from proxy.crypto.subjects import SubjectKey
from proxy.testing import ServerProcess, bedside_argv, free_port

REPO = Path(__file__).resolve().parents[1]
TENANTS = ("acme", "globex")
SORRY = "Sorry, our records are offline for a moment. Please try again shortly."

POLICIES = {
    # memory and PII on; answered by the demo model, which says what reached it
    "assistant.yaml": "description: scale bench, memory\nowner: bench\nrouting: {aliases: [assistant], upstream_model: demo-chat}\n"
    "pii: {enabled: true}\nmemory: {enabled: true}\n",
    # every request audited or refused, with the policy's own words
    "strict.yaml": "description: scale bench, fail_closed audit\nowner: bench\nrouting: {aliases: [strict], upstream_model: gpt-4o-mini}\n"
    f"audit: {{on_failure: fail_closed}}\nmicrocopy: {{texts: {{en: {{error: '{SORRY}'}}}}}}\n",
    # everything else: PII on, the fast model
    "default.yaml": "description: scale bench, default\nowner: bench\npii: {enabled: true}\n",
}


@dataclass
class Replica:
    index: int
    server: ServerProcess
    exit_code: int | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def pid(self) -> int:
        assert self.server.proc is not None
        return self.server.proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the process so far (from /proc; 0 once it has exited)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def error_lines(self, limit: int = 20) -> list[str]:
        """The replica's error-level log lines (event, error type and message: logs carry no content)."""
        out: list[str] = []
        for line in self.server.output().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("level") in ("error", "critical"):
                detail = {k: entry[k] for k in ("event", "result", "code", "exception", "error") if k in entry}
                out.append(json.dumps(detail)[:1500])
        return out[-limit:]


@dataclass
class Cluster:
    """Shared settings in ``root``; replicas started and stopped one by one."""

    root: Path
    database_url: str
    demo_url: str
    fast_url: str
    grace: float = 15.0
    keys: dict[str, str] = field(default_factory=dict)  # tenant -> client key
    replicas: list[Replica] = field(default_factory=list)
    ended: list[Replica] = field(default_factory=list)  # stopped by stop_all: their logs stay readable
    _started: int = 0

    def prepare(self) -> None:
        pdir = self.root / "policies"
        pdir.mkdir(parents=True, exist_ok=True)
        for name, text in POLICIES.items():
            (pdir / name).write_text(text)
        for name in ("kek.key", "subject.key", "identifier.key", "pii-hash.key"):
            path = self.root / name
            path.write_text(secrets.token_hex(32) + "\n")
            path.chmod(0o600)
        (self.root / "audit-signing.key").write_text(Signer.generate("bedside.scale/audit").text())
        self.keys = {tenant: f"bsk-{tenant}-{secrets.token_hex(16)}" for tenant in TENANTS}
        migrate = subprocess.run(bedside_argv("db", "upgrade"), env=self.env(self.root / "migrate"), capture_output=True, text=True, timeout=300, cwd=self.root)
        if migrate.returncode != 0:
            raise RuntimeError(f"bedside db upgrade failed:\n{migrate.stdout}{migrate.stderr}")

    def env(self, data_dir: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
        api_keys = [{"tenant": t, "sha256": hashlib.sha256(k.encode()).hexdigest(), "scopes": ["chat", "privacy"]} for t, k in self.keys.items()]
        upstreams = [{"name": "demo", "base_url": self.demo_url, "models": ["demo-*"]}, {"name": "fast", "base_url": self.fast_url, "models": ["*"]}]
        env.update(
            {
                "BEDSIDE_DATA_DIR": str(data_dir),
                "BEDSIDE_DATABASE__URL": self.database_url,
                "BEDSIDE_DATABASE__AUTO_MIGRATE": "false",
                "BEDSIDE_POLICY__DIRECTORY": str(self.root / "policies"),
                "BEDSIDE_POLICY__WATCH": "false",
                "BEDSIDE_PRIVACY__KEK_FILE": str(self.root / "kek.key"),
                "BEDSIDE_PRIVACY__SUBJECT_KEY_FILE": str(self.root / "subject.key"),
                "BEDSIDE_PRIVACY__IDENTIFIER_KEY_FILE": str(self.root / "identifier.key"),
                "BEDSIDE_PRIVACY__PII_HASH_KEY_FILE": str(self.root / "pii-hash.key"),
                "BEDSIDE_SCALE_AUDIT_KEY": (self.root / "audit-signing.key").read_text(),
                "BEDSIDE_AUDIT__SIGNING_KEY_ENV": "BEDSIDE_SCALE_AUDIT_KEY",
                "BEDSIDE_AUDIT__CHECKPOINT_INTERVAL_SECONDS": "5",
                "BEDSIDE_API_KEYS": json.dumps(api_keys),
                "BEDSIDE_UPSTREAMS": json.dumps(upstreams),
                "BEDSIDE_SERVER__SHUTDOWN_GRACE_SECONDS": str(self.grace),
                "BEDSIDE_LOG__LEVEL": "warning",
                "BEDSIDE_LOG__FORMAT": "json",
                "BEDSIDE_QUICKSTART": "0",
                "OMP_NUM_THREADS": "1",
            }
        )
        return env

    def start(self, count: int) -> list[Replica]:
        """Start ``count`` more replicas at once and wait until each answers ``/readyz``."""
        fresh: list[Replica] = []
        for _ in range(count):
            self._started += 1
            port = free_port()
            server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, ready_path="/readyz", timeout=240)
            server.env = self.env(self.root / f"replica-{self._started}")
            fresh.append(Replica(self._started, server))
        errors: list[BaseException] = []

        def enter(replica: Replica) -> None:
            try:
                replica.server.__enter__()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=enter, args=(r,)) for r in fresh]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.replicas += fresh
        if errors:
            raise RuntimeError(f"a replica did not start: {errors[0]}")
        return fresh

    def live(self) -> list[Replica]:
        return [r for r in self.replicas if r.server.proc is not None and r.server.proc.poll() is None]

    def sigterm(self, replica: Replica) -> None:
        assert replica.server.proc is not None
        replica.server.proc.send_signal(signal.SIGTERM)

    def kill(self, replica: Replica) -> None:
        assert replica.server.proc is not None
        replica.server.proc.send_signal(signal.SIGKILL)

    def wait(self, replica: Replica, timeout: float) -> int | None:
        assert replica.server.proc is not None
        try:
            replica.exit_code = replica.server.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            replica.exit_code = None
        return replica.exit_code

    def stop_all(self) -> None:
        for replica in self.replicas:
            if replica.server.proc is not None and replica.server.proc.poll() is None:
                self.sigterm(replica)
        for replica in self.replicas:
            if replica.server.proc is not None and replica.exit_code is None:
                self.wait(replica, self.grace + 15)
            replica.server.__exit__()
        self.ended += self.replicas
        self.replicas = []

    def audit_verify(self) -> tuple[bool, str]:
        """``bedside audit verify`` over every replica's entries (run as one more replica would)."""
        done = subprocess.run(bedside_argv("audit", "verify"), env=self.env(self.root / "verify"), capture_output=True, text=True, timeout=600, cwd=self.root)
        lines = (done.stdout.strip().splitlines() or [done.stderr.strip()[-300:]])
        problems = [line for line in lines if line.startswith("FAIL")]
        if problems:  # the first few say what broke
            print("\n".join(problems[:8]), flush=True)
        return done.returncode == 0, lines[-1]


class Ledger:
    """What the database says happened: audit entries by request id, outcome facts."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)

    def request_ids(self) -> dict[str, int]:
        """Request id -> how many ``request`` entries the audit log holds for it (run after
        ``audit verify``, which integrates what is pending)."""
        counts: dict[str, int] = {}
        with self.engine.connect() as conn:
            for (payload,) in conn.execute(sa.text("SELECT payload FROM audit_entries WHERE kind = 'request'")):
                rid = json.loads(bytes(payload)).get("request_id")
                counts[rid] = counts.get(rid, 0) + 1
        return counts

    def outcome_requests(self) -> dict[str | None, int]:
        """Requests counted in the outcome facts, per user subject (keyed HMAC; None without a user)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT subject, sum(requests) FROM conversation_outcomes GROUP BY subject")).all()
        return {r[0]: int(r[1]) for r in rows}

    def close(self) -> None:
        self.engine.dispose()


def subjects(root: Path) -> SubjectKey:
    """The deployment's subject key (shared by every replica), to find a user's rows."""
    return SubjectKey(bytes.fromhex((root / "subject.key").read_text().strip()))


def upstream_processes(root: Path) -> tuple[ServerProcess, ServerProcess]:
    """The demo model (recording) and the fast model, not started yet."""
    demo_port, fast_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    demo = ServerProcess(bedside_argv("demo-upstream", "--record", "--port", str(demo_port)), port=demo_port, ready_path="/_recorded", env={}, timeout=120)
    demo.env = env
    fast = ServerProcess([sys.executable, str(REPO / "bench" / "fast_upstream.py"), "--port", str(fast_port), "--chunk-gap-ms", "10"], port=fast_port, timeout=60)
    fast.env = env
    return demo, fast


def recorded(demo: ServerProcess, *, clear: bool = False) -> list[dict[str, Any]]:
    """What the demo model received (and, with ``clear``, forget it)."""
    import urllib.request

    with urllib.request.urlopen(demo.url + "/_recorded", timeout=30) as resp:
        data: list[dict[str, Any]] = json.loads(resp.read())
    if clear:
        urllib.request.urlopen(urllib.request.Request(demo.url + "/_recorded", method="DELETE"), timeout=30).close()
    return data
