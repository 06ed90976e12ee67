"""The live board: the conversations in progress in this process, for the console's event stream.

:meth:`LiveBoard.update` runs on the event loop right after a request finished (with the same
:class:`~proxy.storage.outcomes.OutcomeUpdate` the writer gets): it merges the facts into a small
in-memory entry and hands a copy to every console subscribed for that tenant. Entries hold machine
values only: a short prefix of the conversation's keyed HMAC, policy, turns, the emotion and
frustration trajectory, the latest perception events, tone rules, rail verdicts, handoff. The board
keeps the ``capacity`` most recent conversations and forgets those idle for ``idle_seconds``.
Each process has its own board (replicas each show their own traffic).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from proxy.storage.outcomes import OutcomeUpdate

#: how long the trajectory shown in a sparkline is
SPARK_TURNS = 30
_SUBSCRIBER_QUEUE = 256


class LiveBoard:
    def __init__(self, *, capacity: int = 200, idle_seconds: float = 1800.0) -> None:
        self.capacity = capacity
        self.idle_seconds = idle_seconds
        self._entries: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._subscribers: dict[asyncio.Queue[dict[str, Any]], str] = {}

    def update(self, u: OutcomeUpdate) -> dict[str, Any]:
        """Merge one request's facts; returns the entry as consoles see it (and sends it to them)."""
        key = (u.tenant, u.conversation)
        now = time.time()
        entry = self._entries.pop(key, None)
        if entry is None:
            entry = {
                "id": u.conversation[:12],
                "policy": u.policy_name,
                "version": u.policy_version,
                "started": now,
                "requests": 0,
                "turns": 0,
                "trajectory": [],
                "events": [],
                "tone_rules": [],
                "rails": {},
                "handoff": False,
                "escalated": False,
            }
        entry["requests"] += 1
        entry["updated"] = now
        if u.turns >= entry["turns"]:
            entry["turns"] = u.turns
            if u.trajectory:
                entry["trajectory"] = [{"label": t[0], "intensity": t[1], "frustration": t[2], "distress": bool(t[3])} for t in u.trajectory[-SPARK_TURNS:]]
                last = u.trajectory[-1]
                events = [k for k, on in (("confusion", last[0] == "confusion"), ("distress", bool(last[3]))) if on]
                if events:
                    entry["events"] = ([*entry["events"], *({"kind": k, "turn": u.turns} for k in events)])[-5:]
            if u.sentiment_shift is not None:
                entry["sentiment_shift"] = u.sentiment_shift
        if u.tone_rules:
            entry["tone_rules"] = list(u.tone_rules)
        for verdict in u.rails:
            entry["rails"][verdict] = entry["rails"].get(verdict, 0) + 1
        entry["last_rails"] = list(u.rails)
        entry["handoff"] = entry["handoff"] or u.handoff
        entry["escalated"] = entry["escalated"] or u.escalated
        self._entries[key] = entry
        self._trim(now)
        self._publish(u.tenant, {"type": "conversation", "conversation": entry})
        return entry

    def _trim(self, now: float) -> None:
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if now - oldest["updated"] <= self.idle_seconds:
                break
            self._entries.popitem(last=False)

    def snapshot(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's live conversations, most recent first."""
        self._trim(time.time())
        return [dict(e) for (t, _), e in reversed(self._entries.items()) if t == tenant]

    def _publish(self, tenant: str, event: dict[str, Any]) -> None:
        for q, wanted in list(self._subscribers.items()):
            if wanted != tenant:
                continue
            try:
                q.put_nowait(event)
            except asyncio.QueueFull:  # a console that does not read: it gets a fresh snapshot instead
                while not q.empty():
                    q.get_nowait()
                q.put_nowait({"type": "snapshot", "conversations": self.snapshot(tenant)})

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def subscribe(self, tenant: str, *, heartbeat: float = 15.0) -> AsyncIterator[dict[str, Any]]:
        """A snapshot, then each update of the tenant's conversations as it happens, and a
        ``{"type": "ping"}`` every ``heartbeat`` seconds of silence. Ends when the consumer stops."""
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=_SUBSCRIBER_QUEUE)
        self._subscribers[q] = tenant
        try:
            yield {"type": "snapshot", "conversations": self.snapshot(tenant)}
            while True:
                try:
                    event = await asyncio.wait_for(q.get(), heartbeat)
                except TimeoutError:
                    event = {"type": "ping"}
                yield event
        finally:
            self._subscribers.pop(q, None)
