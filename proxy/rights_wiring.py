"""Export and erasure wired over every table that holds user data (``build_user_rights``).

``proxy.services.build_services`` and ``bedside users`` call it; ``proxy/privacy/inventory.py``
checks that its sources and steps cover every table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.engine import Engine

from proxy.logs import get_logger
from proxy.outcomes.wiring import Outcomes
from proxy.privacy.erasure import Eraser, ErasureAudit, pause_hook
from proxy.privacy.export import Exporter
from proxy.privacy.export_document import ProcessingFacts
from proxy.privacy.processing import DEMO, UpstreamInfo, processing_facts
from proxy.privacy.rights import UserRights
from proxy.privacy.threads import ThreadStore
from proxy.privacy.user_data import AuditEvents, ConsentRecords, DataKeys, ErasureStep, ExportSource, Memories, PseudonymValues, Transcripts, Who
from proxy.privacy.user_data_conversations import ConversationOutcomes, ThreadStates
from proxy.privacy.wiring import Privacy
from proxy.rails.outbox_rights import HandoffEvents
from proxy.settings import Settings
from proxy.storage.threads import ThreadRepository


def build_user_rights(
    settings: Settings,
    engine: Engine,
    privacy: Privacy,
    hasher: Callable[[str | None], str | None],
    policies: Callable[[], Iterable[Any]],
    *,
    audit: ErasureAudit | None = None,
    outcomes: Outcomes | None = None,
) -> UserRights:
    """Export and erasure over every table that holds user data (``proxy/privacy/inventory.py`` checks
    that none is missing). Erasure steps run in this order; data keys go last. ``audit`` is the seam
    that records an erasure in the audit log and gives the receipt its proof (None: ``"audit": null``).
    ``outcomes``: the outcome writer is drained before each erasure pass, so no batched row of the
    user is written after it (the table is read and erased whether or not outcomes are enabled)."""
    consent = ConsentRecords(engine)
    memories = Memories(engine, privacy.memories)
    transcripts = Transcripts(engine, privacy.transcripts)
    handoff = HandoffEvents(engine, privacy.envelope, hasher)
    thread_store = privacy.threads or ThreadStore(ThreadRepository(engine), privacy.envelope, privacy.subjects)  # the table exists either way
    threads = ThreadStates(engine, thread_store)
    conversations = ConversationOutcomes(engine)
    keys = DataKeys(engine)
    upstreams = [DEMO] if settings.demo_mode else [UpstreamInfo.of(u) for u in settings.all_upstreams()]
    days = settings.privacy.transcript_retention_days

    def facts(who: Who, granted: frozenset[str]) -> ProcessingFacts:
        mine = [p for p in policies() if p.routing.serves(who.tenant)]
        return processing_facts(who.tenant, mine, upstreams, transcript_days=days, granted=granted)

    def forget_cached(who: Who) -> None:
        privacy.ledger.notify_changed(who.tenant, who.user)  # the consent stage's cache
        privacy.memories.load_sync(who.scope)  # the store's decrypted copy becomes the (empty) current one

    pause = pause_hook()
    if pause is not None:
        get_logger().warning("erasure_test_hook", detail="BEDSIDE_TEST_ERASURE_PAUSE_AFTER is set: erasures pause midway (a test hook; never set it in production).")
    values = PseudonymValues(privacy.memories, engine, thread_store)
    sources: list[ExportSource] = [consent, memories, values, transcripts, threads, conversations, handoff, keys, AuditEvents(engine)]
    steps: list[ErasureStep] = [consent, memories, transcripts, threads, conversations, handoff, keys]
    drain = [outcomes.recorder.flush] if outcomes is not None else []
    exporter = Exporter(privacy.repo, sources, facts)
    eraser = Eraser(engine, steps, run=privacy.repo.run, audit=audit, pause=pause, after=[forget_cached], before=drain)
    return UserRights(privacy.subjects, sources, steps, exporter, eraser)
