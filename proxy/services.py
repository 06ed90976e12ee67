"""What is built once at start-up: settings-derived objects shared by every request.

``build_services`` creates them without touching the network or the event loop; ``start`` and
``stop`` run inside the app's lifespan (database migration, key refresh task, policy watcher,
closing pooled connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import anyio.to_thread
from sqlalchemy.engine import Engine

from proxy.audit.events import PolicyReload, retention_events
from proxy.audit.log import AuditLog
from proxy.audit.wiring import build_audit_log
from proxy.audit_rights import AuditedErasure, export_recorder
from proxy.auth import KEY_REFRESH_SECONDS, KeyRing
from proxy.checks.harmful_request import harm_policy_issues
from proxy.demo.upstream import DemoUpstream
from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.outcomes.wiring import Outcomes
from proxy.outcomes.wiring import retention_by_policy as outcome_retention
from proxy.pipeline.stage import Pipeline, Readiness
from proxy.policy import PolicyStore, ReloadResult
from proxy.privacy.memory_retention import memory_retention_days, purge_expired_memories
from proxy.privacy.rights import UserRights
from proxy.privacy.threads import purge_expired_threads
from proxy.privacy.transcripts import purge_expired, retention_by_policy
from proxy.privacy.wiring import Privacy, build_privacy, missing_keks
from proxy.rails.handoff import HandoffNotifier
from proxy.rails.outbox import DatabaseOutbox
from proxy.rights_wiring import build_user_rights
from proxy.secrets_store import SubjectHasher, configured_key
from proxy.settings import Settings
from proxy.stage_wiring import build_stages, build_transport
from proxy.stages.emotion import emotion_policy_issues
from proxy.stages.forward import Forwarder
from proxy.stages.memory_extractor import LlmExtractor
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.upstream.openai import OpenAIUpstream
from proxy.upstream.router import Upstream, UpstreamRouter
from proxy.upstream.transport import HttpTransport


@dataclass
class Services:
    settings: Settings
    metrics: Metrics
    keyring: KeyRing
    engine: Engine
    transport: HttpTransport | None
    router: UpstreamRouter
    pipeline: Pipeline
    hasher: SubjectHasher
    policies: PolicyStore | None = None
    handoff: HandoffNotifier | None = None
    #: consent ledger, encrypted storage and their keys (see docs/privacy.md)
    privacy: Privacy | None = None
    #: conversation outcome facts: writer thread, live board (None when ``outcomes.enabled`` is off)
    outcomes: Outcomes | None = None
    #: the tamper-evident audit log (None with ``audit.enabled: false``; see docs/audit.md)
    audit: AuditLog | None = None
    #: KEK ids that wrap live data keys but that this process does not hold (checked at start-up)
    missing_keks: dict[str, int] = field(default_factory=dict)
    #: the LLM memory extractor's background jobs (policies with ``memory.extractor: llm``)
    memory_extractor: LlmExtractor | None = None
    #: export and erasure of a user's data (the privacy routes and `bedside users`)
    rights: UserRights | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _stop_watch: asyncio.Event | None = None

    @property
    def demo(self) -> bool:
        return self.settings.demo_mode

    def readiness_details(self) -> dict[str, Any]:
        """Extra ``/readyz`` checks and warnings from optional services (policies, detectors)."""
        checks: dict[str, Any] = {}
        if self.policies is not None:
            current = self.policies.current
            checks["policies"] = {"ok": True, "version": current.version, "count": len(current.policies), "last_reload_ok": self.last_reload_ok}
        warnings: list[str] = []
        for stage in self.pipeline.stages:  # stages with a detector report it (e.g. pii: degraded engine)
            check = stage.readiness() if isinstance(stage, Readiness) else None
            if check is not None:
                checks[stage.name] = check
                if check.get("degraded"):
                    warnings.append(f"{stage.name.upper()} DEGRADED: {check.get('detail')}")
        if self.audit is not None:
            health = self.audit.health()
            checks["audit"] = health
            if not health["healthy"]:
                warnings.append(
                    f"AUDIT LOG FAILING ({health['last_error']}): {health['queued']} entries are waiting; fail_open requests are served, fail_closed ones refused. Check the database."
                )
            if health["dropped"]:
                warnings.append(f"AUDIT ENTRIES LOST: {health['dropped']} entries could not be recorded since start-up (fail_open); see bedside_audit_dropped.")
        if not self.last_reload_ok:
            warnings.append("POLICY RELOAD FAILED: the last good policy set is still active; run `bedside policy check`.")
        return {"checks": checks, "warnings": warnings}

    last_reload_ok: bool = True
    #: whether the keys were read once (start-up says the mode; later reads log a change)
    _keys_read: bool = False

    def on_policy_reload(self, result: ReloadResult) -> None:
        self.metrics.policy_reloads.labels("ok" if result.ok else "rejected").inc()
        self.last_reload_ok = result.ok
        log = get_logger()
        if self.audit is not None:
            count = len(self.policies.current.policies) if self.policies is not None else None
            self.audit.submit(PolicyReload(ok=result.ok, version=result.version, changed=result.changed, policies=count, issues=len(result.issues)))
        if result.ok:
            log.info("policy_reload", ok=True, version=result.version, duration_s=round(result.duration_s, 4))
        else:
            log.error("policy_reload", ok=False, version=result.version, issues=[str(i) for i in result.issues[:20]], count=len(result.issues))

    def load_models(self, policy_set: Any) -> dict[str, list[str]]:
        """Load what the policies of ``policy_set`` use and is not loaded yet (PII engine, emotion
        classifiers, input-rail models), blocking; the policy store calls it in its reloading
        thread before it swaps a reloaded set in, so no request loads a model on the event loop.
        Logs ``models_ready`` per stage that had policies to prepare, with how long it took.
        Returns ``{stage: [what was prepared]}``."""
        view = SimpleNamespace(current=policy_set)  # the stages' warm_policies read a store's ``current``
        done: dict[str, list[str]] = {}
        for stage in self.pipeline.stages:
            warm = getattr(stage, "warm_policies", None)
            if warm is None:
                continue
            started = time.perf_counter()
            prepared = list(warm(view))
            if prepared:
                done[stage.name] = prepared
                get_logger().info("models_ready", stage=stage.name, count=len(prepared), duration_s=round(time.perf_counter() - started, 3))
        return done

    def model_aliases(self, tenant: str | None = None) -> list[str]:
        """Model names the policies define for ``tenant`` (listed first by GET /v1/models)."""
        return self.policies.current.aliases(tenant) if self.policies is not None else []

    async def start(self) -> None:
        log = get_logger()
        if self.settings.database.auto_migrate:
            await anyio.to_thread.run_sync(migrate.upgrade, self.settings.database_url())
        if self.privacy is not None:
            self.missing_keks = await anyio.to_thread.run_sync(missing_keks, self.engine, self.privacy.keys)
            if self.missing_keks:
                log.error(
                    "kek_missing",
                    detail="Users' data keys are wrapped by key-encryption keys this Bedside does not hold: their data cannot be read. "
                    "Give every replica the same KEK (BEDSIDE_PRIVACY__KEK_FILE or __KEK_ENV); see docs/privacy.md.",
                    keks=sorted(self.missing_keks),
                )
        await self.refresh_keys()
        self._tasks.append(asyncio.create_task(self._refresh_keys_forever()))
        if self.audit is not None:
            self.audit.start()
            if self.audit.signer is not None:
                self._tasks.append(asyncio.create_task(self._checkpoint_forever()))
            a = self.settings.audit
            if not (a.signing_key_file or a.signing_key_env):
                log.warning(
                    "audit_signing_key",
                    detail="The audit log's checkpoint signing key is kept in the data directory: whoever can read it can sign checkpoints. "
                    "In production keep it elsewhere (BEDSIDE_AUDIT__SIGNING_KEY_FILE or __SIGNING_KEY_ENV); see docs/audit.md.",
                )
        if self.handoff is not None:
            try:
                await self.handoff.start()  # handoff events an earlier process left in the outbox
            except Exception:  # serving must not depend on the webhook backlog
                log.error("handoff_outbox", result="resume_failed", detail="pending handoff events were not resumed; they stay in handoff_outbox", exc_info=True)
        if self.outcomes is not None:
            self.outcomes.recorder.start()
        if self.privacy is not None or self.outcomes is not None:
            self._tasks.append(asyncio.create_task(self._purge_forever()))
            if self.policies is not None and any(p.memory.enabled for p in self.policies.current.policies.values()):
                self._tasks.append(asyncio.create_task(self._warm_memory_relevance()))
        if self.policies is not None:
            if self.settings.policy.watch:
                self._stop_watch = asyncio.Event()
                self._tasks.append(asyncio.create_task(self.policies.watch(self._stop_watch)))
            self.policies.install_sighup(asyncio.get_running_loop())
            log.info("policies_loaded", directory=str(self.policies.directory), version=self.policies.current.version, count=len(self.policies.current.policies))
        self.metrics.open_tenant.set(1 if self.keyring.open else 0)
        if not self.keyring.open:
            log.info("auth_mode", auth="keys", count=len(self.keyring))
        if self.keyring.open:
            log.warning(
                "open_tenant",
                detail="No API key is configured: anyone who can reach this port can use Bedside. "
                "Create one with `bedside keys create --tenant NAME` before exposing it.",
            )
        if self.demo:
            log.warning("demo_upstream", detail="No upstream is configured: replies come from the offline demo model. Set BEDSIDE_UPSTREAM_URL.")

    async def refresh_keys(self) -> None:
        """Read the keys table again (every few seconds); say loudly when authentication turns on or off."""
        was_open = self.keyring.open
        try:
            await anyio.to_thread.run_sync(self.keyring.refresh_from_db, self.engine)
        except Exception:  # noqa: BLE001 - keep the last known keys; readyz reports the database
            get_logger().warning("key_refresh_failed", exc_info=True)
        self.metrics.open_tenant.set(1 if self.keyring.open else 0)
        if self._keys_read and was_open != self.keyring.open:
            self._log_auth_change()
        self._keys_read = True

    def _log_auth_change(self) -> None:
        log = get_logger()
        if self.keyring.open:
            log.warning(
                "auth_mode",
                auth="open",
                detail="AUTHENTICATION IS NOW OFF: the last API key was revoked, so anyone who can reach this port can use Bedside as the "
                "open tenant. Create a key (`bedside keys create --tenant NAME`) to turn it back on.",
            )
        else:
            log.warning(
                "auth_mode",
                auth="keys",
                count=len(self.keyring),
                detail="AUTHENTICATION IS NOW ON: an API key was created, so every request now needs one ('Authorization: Bearer <key>'); "
                "callers without one get 401. `bedside keys list` shows the keys.",
            )

    async def _refresh_keys_forever(self) -> None:
        while True:
            await asyncio.sleep(KEY_REFRESH_SECONDS)
            await self.refresh_keys()

    async def purge_transcripts(self) -> dict[str, int]:
        """One retention purge (in a worker thread): transcripts past their policy's ``transcripts.retention_days``
        (``privacy.transcript_retention_days`` for policies that set none), and thread states not used
        for ``privacy.thread_retention_days``."""
        by_policy = retention_by_policy(self.policies.current.policies.values()) if self.policies is not None else {}
        days = self.settings.privacy.transcript_retention_days
        counts = await anyio.to_thread.run_sync(functools.partial(purge_expired, self.engine, days, by_policy=by_policy))
        if counts:
            get_logger().info("retention_purge", kind="transcripts", count=sum(counts.values()), n=len(counts))
            if self.audit is not None:
                for event in retention_events("transcripts", counts, days):
                    self.audit.submit(event)
        threads = await anyio.to_thread.run_sync(purge_expired_threads, self.engine, self.settings.privacy.thread_retention_days)
        if threads:
            get_logger().info("retention_purge", kind="thread_states", count=threads)
        return counts

    async def purge_memories(self) -> dict[str, int]:
        """One retention purge of memories (in a worker thread): those not updated for longer than the
        longest ``memory.retention_days`` of the current policies that enable memory (docs/privacy.md)."""
        days = memory_retention_days(self.policies.current.policies.values() if self.policies is not None else ())
        counts = await anyio.to_thread.run_sync(purge_expired_memories, self.engine, days)
        if counts:
            get_logger().info("retention_purge", kind="memories", count=sum(counts.values()), n=len(counts))
            if self.audit is not None:
                for event in retention_events("memories", counts, days):
                    self.audit.submit(event)
        return counts

    async def purge_outcomes(self) -> int:
        """One retention purge of conversation outcomes (in a worker thread): past their policy's
        ``outcomes.retention_days`` (``outcomes.retention_days`` for policies that set none)."""
        if self.outcomes is None:
            return 0
        by_policy = outcome_retention(self.policies.current.policies.values()) if self.policies is not None else {}
        count = await anyio.to_thread.run_sync(self.outcomes.purge, by_policy)
        if count:
            get_logger().info("retention_purge", kind="outcomes", count=count)
        return count

    async def _purge_forever(self) -> None:
        while True:
            purges = (self.purge_transcripts, self.purge_memories) if self.privacy is not None else ()
            for purge in (*purges, self.purge_outcomes):
                try:
                    await purge()
                except Exception:  # noqa: BLE001 - a failed purge is retried at the next interval
                    get_logger().warning("retention_purge_failed", exc_info=True)
            await asyncio.sleep(self.settings.privacy.purge_interval_seconds)

    async def _warm_memory_relevance(self) -> None:
        """Load the embeddings memory ranking reads (~80 ms, in a worker thread) before the first request needs them."""
        assert self.privacy is not None
        try:
            await anyio.to_thread.run_sync(self.privacy.memories.relevance.warm)
        except Exception:  # noqa: BLE001 - the first memory read loads them instead
            get_logger().warning("memory_relevance_warm_failed", exc_info=True)

    async def sign_checkpoint(self) -> None:
        """Sign a checkpoint when the log has grown since the newest one (the schedule in ``serve``)."""
        if self.audit is None or self.audit.signer is None:
            return
        try:
            await self.audit.checkpoint()
        except Exception:  # noqa: BLE001 - retried at the next interval; readyz reports the store
            get_logger().warning("audit_checkpoint_failed", exc_info=True)

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.audit.checkpoint_interval_seconds)
            await self.sign_checkpoint()

    async def stop(self) -> None:
        if self._stop_watch is not None:
            self._stop_watch.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.memory_extractor is not None:
            await self.memory_extractor.aclose()
        if self.audit is not None:
            await anyio.to_thread.run_sync(self.audit.stop)  # write what is queued
            await self.sign_checkpoint()
        if self.handoff is not None:
            await self.handoff.aclose()
        if self.outcomes is not None:
            await anyio.to_thread.run_sync(self.outcomes.recorder.stop)  # writes what is waiting
        if self.transport is not None:
            await self.transport.aclose()
        self.engine.dispose()


def policy_issues(policy_set: Any) -> list[Any]:
    """What a loaded policy set asks for that this installation cannot load: an emotion reader
    (:func:`~proxy.stages.emotion.emotion_policy_issues`) or the encoder harmful-request reader
    (:func:`~proxy.checks.harmful_request.harm_policy_issues`); the store rejects such a set."""
    return [*emotion_policy_issues(policy_set), *harm_policy_issues(policy_set)]


def _load_models(holder: list[Services], policy_set: Any) -> None:
    """The policy store's ``before_swap``: the services' :meth:`Services.load_models` once they exist."""
    if holder:
        holder[0].load_models(policy_set)


def build_services(settings: Settings, *, upstream_transport: Any = None) -> Services:
    metrics = Metrics()
    keyring = KeyRing((k.sha256, k.tenant, k.scopes) for k in settings.api_keys)
    engine = make_engine(settings.database_url())
    hasher = SubjectHasher(configured_key(settings.privacy.identifier_key_file, settings.data_dir, "subject.key"))
    transport: HttpTransport | None = None
    upstreams: list[Upstream]
    if settings.demo_mode and upstream_transport is None:
        upstreams = [DemoUpstream()]
    else:
        transport = build_transport(settings, upstream_transport)
        configured = settings.all_upstreams()
        if not configured:
            raise ValueError("an upstream transport was given but no upstream is configured (set BEDSIDE_UPSTREAM_URL)")
        upstreams = [OpenAIUpstream(u, transport, settings.timeouts) for u in configured]
    router = UpstreamRouter(upstreams)
    policies: PolicyStore | None = None
    holder: list[Services] = []
    if settings.policy.enabled:
        # raises PolicyLoadError (file, line, what is wrong) so a broken set never starts serving
        policies = PolicyStore(
            settings.policy.directory,
            default_policy=settings.policy.default,
            unknown_model=settings.policy.unknown_model,
            on_reload=lambda result: holder[0].on_policy_reload(result) if holder else None,
            before_swap=lambda fresh: _load_models(holder, fresh),
            check=policy_issues,  # a policy naming a reader that is not installed is rejected
        )
    privacy = build_privacy(settings, engine)
    handoff = HandoffNotifier(hasher, metrics, outbox=DatabaseOutbox(engine, privacy.envelope))  # events wait in handoff_outbox
    extractor = LlmExtractor(router, privacy.memories, metrics)  # used by policies with memory.extractor: llm
    audit: AuditLog | None = None
    if settings.audit.enabled:
        audit = build_audit_log(settings, engine, privacy.subjects, on_drop=metrics.audit_dropped.inc)
        writer = audit.writer
        metrics.audit_queued.set_function(lambda: writer.queued)
    pipeline = Pipeline(build_stages(settings, keyring, metrics, policies, hasher, handoff, privacy, extractor, audit), Forwarder(router, metrics))
    outcomes = Outcomes.build(engine, privacy.subjects, metrics, settings.outcomes) if settings.outcomes.enabled else None
    services = Services(
        settings, metrics, keyring, engine, transport, router, pipeline, hasher, policies, handoff=handoff, privacy=privacy, memory_extractor=extractor, outcomes=outcomes, audit=audit
    )
    erasure_audit = AuditedErasure(audit) if audit is not None and audit.signer is not None else None
    services.rights = build_user_rights(
        settings, engine, privacy, hasher, (lambda: policies.current.policies.values()) if policies is not None else (lambda: ()), audit=erasure_audit, outcomes=outcomes
    )
    if audit is not None:
        services.rights.on_export = export_recorder(audit)
    holder.append(services)
    return services

