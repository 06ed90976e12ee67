"""Export and erasure of what Bedside keeps per conversation: the Responses API's thread states
(decrypted: the user's own values) and the conversation outcome facts (derived, no text).

Both follow :class:`~proxy.privacy.user_data.ExportSource` / ``ErasureStep``; wired in
``proxy.rights_wiring.build_user_rights``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import Connection, Engine

from proxy.privacy.export_document import OutcomeFacts, PolicyRef, ThreadStateItem
from proxy.privacy.threads import ThreadStore, vault_values
from proxy.privacy.user_data import StepResult, Who, open_thread, utc
from proxy.storage import user_rows
from proxy.storage.erasure_fences import raise_fence


class ThreadStates:
    """``thread_states``: each state decrypted page by page (its pseudonym vault holds the user's own
    values; a state that does not open appears with ``unreadable``); erasure deletes them."""

    section = "thread_states"
    tables: tuple[str, ...] = ("thread_states",)
    table = "thread_states"

    def __init__(self, engine: Engine, threads: ThreadStore) -> None:
        self.engine = engine
        self.threads = threads

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]:
        rows = user_rows.thread_state_page(self.engine, who.scope, after, limit)
        items: list[BaseModel] = []
        with self.threads.envelope.batch():
            for row in rows:
                state = open_thread(self.threads, who, row)
                times = {"id": row.id, "created_at": utc(row.created_at), "updated_at": utc(row.updated_at)}
                if isinstance(state, str):
                    empty: dict[str, Any] = {"conversation": None, "user_turns": None, "resume_from": None, "upstream": None, "altered": None, "values": {}, "emotion": None}
                    items.append(ThreadStateItem(**times, **empty, unreadable=state))
                    continue
                items.append(
                    ThreadStateItem(
                        **times,
                        conversation=state.conversation_id,
                        user_turns=state.user_turns,
                        resume_from=state.resume_from,
                        upstream=state.upstream,
                        altered=state.altered,
                        values={p: v for p, _, v in vault_values(state)},
                        emotion=state.emotion,
                    )
                )
        last = rows[-1] if len(rows) == limit else None
        return items, ((last.created_at, last.id) if last is not None else None)

    def holds(self, who: Who) -> bool:
        return user_rows.holds(self.engine, self.table, who.scope)

    def erase(self, who: Who, conn: Connection, tombstone: str) -> StepResult:
        return StepResult(user_rows.delete_scoped(conn, self.table, who.scope))


# ---- conversation outcomes -----------------------------------------------------------------------


def _optutc(value: datetime | None) -> datetime | None:
    return utc(value) if value is not None else None


class ConversationOutcomes:
    """``conversation_outcomes``: the user's rows exported as derived facts (machine values, no text);
    erasure *deletes* them (the KPIs are computed from the rows that exist, as after a retention
    purge; ``docs/privacy.md`` says why they are not detached) and, in the same transaction, raises a
    fence: facts of the user's requests that began before it, still held by an outcome writer
    somewhere, are not written afterwards (:mod:`proxy.storage.erasure_fences`). Rows without a
    user never name anyone and are not touched."""

    section = "conversation_outcomes"
    tables: tuple[str, ...] = ("conversation_outcomes",)
    table = "conversation_outcomes"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]:
        rows = user_rows.outcome_page(self.engine, who.scope, after, limit)
        items: list[BaseModel] = [
            OutcomeFacts(
                id=int(r.id or 0),
                conversation=r.conversation,
                policy=PolicyRef(name=r.policy_name, version=r.policy_version),
                started_at=utc(r.started_at),
                ended_at=utc(r.ended_at),
                requests=r.requests,
                turns=r.turns,
                trajectory=[list(t) for t in r.trajectory or []],
                sentiment_shift=r.sentiment_shift,
                confusion_events=r.confusion_events,
                distress_events=r.distress_events,
                tone_rules={str(k): int(v) for k, v in (r.tone_rules or {}).items()},
                escalations=r.escalations,
                rails={str(k): int(v) for k, v in (r.rails or {}).items()},
                handoff_at=_optutc(r.handoff_at),
                handoff_turn=r.handoff_turn,
                rating=r.rating,
                resolved=r.resolved,
                feedback_at=_optutc(r.feedback_at),
            )
            for r in rows
        ]
        return items, (rows[-1].id if len(rows) == limit else None)

    def holds(self, who: Who) -> bool:
        return user_rows.holds(self.engine, self.table, who.scope)

    def erase(self, who: Who, conn: Connection, tombstone: str) -> StepResult:
        raise_fence(conn, who.scope.tenant, who.scope.subject)  # before the delete, in its transaction
        return StepResult(user_rows.delete_scoped(conn, self.table, who.scope))


# ---- data keys -----------------------------------------------------------------------------------

