"""The outcome services as ``proxy.services`` builds them once: repository, writer, live board.

:meth:`Outcomes.record` is the one call the request path makes (from ``finish_request``): it reads
the request's facts (:func:`~proxy.outcomes.facts.outcome_of`), updates the live board and hands
the facts to the writer thread. It never raises: outcomes fail open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from proxy.crypto.subjects import SubjectKey, conversation_subject
from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.outcomes.facts import outcome_of
from proxy.outcomes.live import LiveBoard
from proxy.outcomes.recorder import OutcomeRecorder
from proxy.pipeline.context import RequestContext
from proxy.storage.erasure_fences import purge_expired_fences
from proxy.storage.outcomes import OutcomeRepository


@dataclass
class Outcomes:
    repo: OutcomeRepository
    recorder: OutcomeRecorder
    board: LiveBoard
    subjects: SubjectKey
    metrics: Metrics
    retention_days: int

    @classmethod
    def build(cls, engine: Engine, subjects: SubjectKey, metrics: Metrics, settings: Any) -> Outcomes:
        """From the ``outcomes`` settings group (``proxy.settings.OutcomeSettings``)."""
        repo = OutcomeRepository(engine)
        counter = metrics.outcomes

        def on_result(result: str, n: int) -> None:
            metrics.child(counter, result).inc(n)

        recorder = OutcomeRecorder(repo, queue_size=settings.queue_size, on_result=on_result)
        board = LiveBoard(capacity=settings.live_conversations, idle_seconds=settings.live_minutes * 60)
        return cls(repo, recorder, board, subjects, metrics, settings.retention_days)

    def record(self, ctx: RequestContext, status: int) -> None:
        """Keep the facts of a finished request (status 200 only: a refused or failed request has no outcome)."""
        if status != 200:
            return
        try:
            update = outcome_of(ctx, self.subjects)
            if update is None:
                if ctx.endpoint == "chat":
                    self.metrics.child(self.metrics.outcomes, "skipped").inc()
                return
            self.board.update(update)
            self.recorder.submit(update)
        except Exception as exc:  # noqa: BLE001 - outcomes fail open: the reply has gone already
            self.metrics.child(self.metrics.outcomes, "failed").inc()
            get_logger().warning("outcomes_record_failed", error_type=type(exc).__name__, request_id=ctx.request_id)

    def conversation_key(self, tenant: str, conversation: str) -> str:
        """The stored key of a conversation id a client names (feedback)."""
        return conversation_subject(self.subjects, tenant, conversation)

    def purge(self, by_policy: dict[str, int], *, now: datetime | None = None) -> int:
        """Delete conversations past their policy's ``outcomes.retention_days``, and erasure fences that
        no longer stand (blocking: call in a thread); returns the conversations deleted."""
        at = now or datetime.now(UTC)
        own = {name: at - timedelta(days=days) for name, days in by_policy.items()}
        purge_expired_fences(self.repo.engine, now=at)
        return self.repo.purge_older_than(at - timedelta(days=self.retention_days), own)


def retention_by_policy(policies: Iterable[Any]) -> dict[str, int]:
    """Policy name -> ``outcomes.retention_days`` for the policies that set one."""
    out: dict[str, int] = {}
    for policy in policies:
        days = getattr(getattr(policy, "outcomes", None), "retention_days", None)
        if days is not None:
            out[str(policy.name)] = int(days)
    return out
