"""The mixed workload of ``bench/scale.py`` and the checks that ride on it.

A virtual user runs one script after another, each call on whichever replica the client picks
(so consecutive turns of one conversation land on different replicas):

1. grants memory consent;
2. tells the ``assistant`` (PII and memory on, the demo model) its name, e-mail and that it is
   vegetarian (streamed every other time): the reply must give the e-mail back restored;
3. the second turn of that conversation (history resent) on another replica: the reply must show
   the remembered fact reached the model (as placeholders) and restore the first turn's values;
4. a ``strict`` request (``audit.on_failure: fail_closed``, the fast model) and a streamed default
   one (the fast model; it must end with ``[DONE]``);
5. feedback on the conversation;
6. a Responses turn (stored) on one replica, continued with ``previous_response_id`` on another:
   the reply restores the phone number the first turn carried (the thread state of the first
   replica, read by the second);
7. every third round: withdraws consent, deletes its memories, exports, erases itself (each on
   some replica), then carries on as a new user.

Content problems (a value not restored, a memory missing, a raw value reaching the model) are
counted per check, separately from HTTP failures.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.scale_client import DB_DOWN_CODES, Call, Client
from bench.scale_cluster import TENANTS

MEMORY_LINE = "memories of this user"
#: how often an erasure answered a kind 503 is repeated (0.5 s apart), as its message asks
ERASURE_RETRIES = 30


@dataclass
class Tally:
    """What the workload did and saw, beyond HTTP statuses."""

    content: Counter[str] = field(default_factory=Counter)  # check -> times it held
    problems: Counter[str] = field(default_factory=Counter)  # check -> times it did not
    chat_ok: Counter[tuple[str, str]] = field(default_factory=Counter)  # (tenant, user) -> chat and Responses requests answered 200 (each has outcome facts)
    erased: dict[tuple[str, str], int] = field(default_factory=dict)  # (tenant, user) -> of them, answered before the erasure
    values: set[str] = field(default_factory=set)  # every personal value sent (none may reach the model)
    answered: dict[tuple[str, str], list[Call]] = field(default_factory=dict)  # (tenant, user) -> the calls chat_ok counts (to explain a short count)
    rounds: int = 0

    def answer(self, tenant: str, user: str, call: Call) -> None:
        """Counts a chat or Responses call answered 200 (and whole): it has outcome facts."""
        if call.status == 200 and not call.broken_stream:
            self.chat_ok[tenant, user] += 1
            self.answered.setdefault((tenant, user), []).append(call)

    def check(self, name: str, held: bool) -> None:
        (self.content if held else self.problems)[name] += 1


class Workload:
    def __init__(self, client: Client, tally: Tally | None = None, *, seed: int = 0) -> None:
        self.client = client
        self.tally = tally or Tally()
        self.seed = seed

    async def run(self, users: int, seconds: float) -> Tally:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(self._user(n, deadline) for n in range(users)))
        return self.tally

    async def _user(self, n: int, deadline: float) -> None:
        generation = 0
        rounds = 0
        while time.monotonic() < deadline:
            user = f"u{self.seed}-{n}-g{generation}"
            tenant = TENANTS[n % len(TENANTS)]
            await self.round(tenant, user, rounds)
            rounds += 1
            self.tally.rounds += 1
            if rounds % 3 == 0:
                await self.leave(tenant, user)
                generation += 1

    def _chat_ok(self, tenant: str, user: str, call: Call) -> None:
        self.tally.answer(tenant, user, call)

    async def round(self, tenant: str, user: str, i: int) -> None:
        c, t = self.client, self.tally
        tag = f"{user}-{i}".replace("-", "")
        email, phone = f"{tag}@example.com", f"+1 415 555 {1000 + (hash(tag) % 9000):04d}"
        t.values.update({email, phone})
        consent = await c.call("consent_grant", "PUT", f"/v1/users/{user}/consent", c.auth(tenant), {"purpose": "memory", "granted": True})
        first = f"My name is Ann Lee and my e-mail is {email}. I'm vegetarian."
        body = {"model": "assistant", "messages": [{"role": "user", "content": first}], "stream": i % 2 == 0}
        one = await c.call("chat_memory", "POST", "/v1/chat/completions", c.auth(tenant, user), body)
        self._chat_ok(tenant, user, one)
        if one.status != 200 or one.broken_stream:
            return
        t.check("values restored in the reply", email in one.text())
        conversation = one.headers.get("x-bedside-conversation", "")
        history = [{"role": "user", "content": first}, {"role": "assistant", "content": one.text()}, {"role": "user", "content": "What could I cook tonight?"}]
        served = next((r for r in c.cluster.live() if r.index == one.replica), None)
        two = await c.call("chat_memory", "POST", "/v1/chat/completions", c.auth(tenant, user), {"model": "assistant", "messages": history}, replica=c.pick(avoid=served))
        self._chat_ok(tenant, user, two)
        if two.status == 200 and not two.broken_stream:  # a kill -9 may cut an answer after its status line
            t.check("history restored on another replica", email in two.text())
            if consent.status == 200 and not c.near_db_outage(two):  # without the database, consent fails closed: no memory
                t.check("memory written on one replica reaches the model through another", MEMORY_LINE in two.text())
        strict = await c.call("chat_strict", "POST", "/v1/chat/completions", c.auth(tenant, user), {"model": "strict", "messages": [{"role": "user", "content": "Where is my order?"}]})
        self._chat_ok(tenant, user, strict)
        parcel = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "Track my parcel."}]}
        stream = await c.call("chat_stream", "POST", "/v1/chat/completions", c.auth(tenant, user), parcel)
        self._chat_ok(tenant, user, stream)
        if stream.status == 200 and not (stream.broken_stream and stream.replica in c.killed):  # kill -9 cuts what it was sending
            t.check("streams end with [DONE]", not stream.broken_stream and stream.body.rstrip().endswith(b"data: [DONE]"))
        if conversation:
            fb = await c.call("feedback", "POST", "/v1/feedback", c.auth(tenant, user), {"conversation": conversation, "rating": 4, "resolved": True})
            if fb.status == 404 and fb.code == "conversation_not_found" and c.near_db_outage(fb):
                c.calls.remove(fb)  # another replica's outcome writer still holds the conversation's facts (retrying after the outage)
                t.check("feedback just after the outage may wait for another replica's writer: 404, retry (documented)", True)
        said = {"model": "assistant", "input": f"Please note my phone number, {phone}.", "store": True}
        r1 = await c.call("responses", "POST", "/v1/responses", c.auth(tenant, user), said)
        self._chat_ok(tenant, user, r1)
        if r1.status == 200 and not r1.broken_stream:
            served = next((r for r in c.cluster.live() if r.index == r1.replica), None)
            follow = {"model": "assistant", "input": "What did I ask you to note?", "previous_response_id": r1.json()["id"], "store": True}
            r2 = await c.call("responses", "POST", "/v1/responses", c.auth(tenant, user), follow, replica=c.pick(avoid=served))
            self._chat_ok(tenant, user, r2)
            if r2.status == 404 and r2.code == "previous_response_not_found" and c.near_db_outage(r1):
                c.calls.remove(r2)  # documented: a turn answered while the database was down could not be kept
                t.check("a Responses turn answered during the outage is not kept: continuing it is 404 (documented)", True)
            if r2.status == 200 and not r2.broken_stream:
                t.check("previous_response_id continued on another replica restores values", phone in r2.text())

    async def leave(self, tenant: str, user: str) -> None:
        c = self.client
        await c.call("consent_withdraw", "PUT", f"/v1/users/{user}/consent", c.auth(tenant), {"purpose": "memory", "granted": False})
        await c.call("memory_delete", "DELETE", f"/v1/users/{user}/memories", c.auth(tenant))
        await c.call("export", "GET", f"/v1/users/{user}/export", c.auth(tenant))
        erased = await c.call("erasure", "DELETE", f"/v1/users/{user}", c.auth(tenant))
        retried = False
        for _ in range(ERASURE_RETRIES):
            # a kind 503 near the outage may come after some or all of the data is gone (audit_unavailable:
            # erased, no receipt yet); the message says to send the same DELETE again, and a client does
            if not (erased.status == 503 and erased.code in DB_DOWN_CODES):
                break
            retried = True
            await asyncio.sleep(0.5)
            erased = await c.call("erasure", "DELETE", f"/v1/users/{user}", c.auth(tenant))
        if erased.status == 200:
            self.tally.erased[tenant, user] = self.tally.chat_ok[tenant, user]
            if retried:
                self.tally.check("an erasure answered 503 near the outage finishes when repeated: 200 and a receipt (documented)", True)
        elif erased.status == 404 and erased.code == "user_not_found" and (retried or c.near_db_outage(erased)):
            # the user's whole round fell in the outage (nothing of them had reached the database yet), or the
            # first attempt's 503 came after the data was gone: either way nothing of them is held now
            c.calls.remove(erased)
            self.tally.erased[tenant, user] = self.tally.chat_ok[tenant, user]
            self.tally.check("an erasure right after the outage may find nothing yet: 404 (documented)", True)


async def honoured_everywhere(client: Client, tally: Tally) -> dict[str, str]:
    """A consent withdrawal, a memory deletion and an erasure made through one replica, then the
    next request of the same user on every other replica: honoured at once? (lag in requests and ms)."""
    c = client
    live = c.cluster.live()
    first, others = live[0], live[1:]
    results: dict[str, str] = {}
    tenant = TENANTS[0]

    async def remembered(user: str, replica: object) -> bool:
        body = {"model": "assistant", "messages": [{"role": "user", "content": "Any ideas for dinner?"}]}
        call = await c.call("chat_memory", "POST", "/v1/chat/completions", c.auth(tenant, user), body, replica=replica)  # type: ignore[arg-type]
        tally.answer(tenant, user, call)
        return call.status == 200 and MEMORY_LINE in call.text()

    async def setup(user: str) -> bool:
        await c.call("consent_grant", "PUT", f"/v1/users/{user}/consent", c.auth(tenant), {"purpose": "memory", "granted": True}, replica=first)
        body = {"model": "assistant", "messages": [{"role": "user", "content": "I'm vegetarian and I love tennis."}]}
        call = await c.call("chat_memory", "POST", "/v1/chat/completions", c.auth(tenant, user), body, replica=first)
        tally.answer(tenant, user, call)
        return all([await remembered(user, r) for r in others])  # each replica has read (and would cache) the grant

    async def lag(user: str, change: str, method: str, path: str, body: object = None) -> str:
        if not await setup(user):
            tally.check(f"{change} honoured on every replica", False)
            return "setup failed"
        done = await c.call(change, method, path, c.auth(tenant), body, replica=first)
        at = time.monotonic()
        if change == "erasure" and done.status == 200:
            tally.erased[tenant, user] = tally.chat_ok[tenant, user]
        worst_requests, worst_ms = 1, 0.0
        for replica in others:
            n = 1
            while await remembered(user, replica):
                n += 1
                if n > 50:
                    break
            worst_requests = max(worst_requests, n)
            worst_ms = max(worst_ms, (time.monotonic() - at) * 1000)
        held = done.status == 200 and worst_requests == 1
        tally.check(f"{change} honoured on every replica", held)
        return f"{'next request' if worst_requests == 1 else f'after {worst_requests} requests'} on {len(others)} other replica(s), {worst_ms:.0f} ms"

    results["consent withdrawal"] = await lag("hx-consent", "consent_withdraw", "PUT", "/v1/users/hx-consent/consent", {"purpose": "memory", "granted": False})
    results["memory deletion"] = await lag("hx-memory", "memory_delete", "DELETE", "/v1/users/hx-memory/memories")
    results["erasure"] = await lag("hx-erase", "erasure", "DELETE", "/v1/users/hx-erase")
    return results


async def erasure_leaves_nothing(client: Client, tally: Tally) -> str | None:
    """A user every replica has just served, erased through one. Another replica may still hold the
    user's last outcome facts in its writer's queue (it lingers 0.1 s) and try to write them after
    the erasure: the erasure's fence drops them (their requests began before it), so a DELETE
    repeated a second later through another replica, and a third, find nothing (404). Returns what
    happened, or None when it did not hold."""
    c = client
    live = c.cluster.live()
    tenant, user = TENANTS[1], "hx-residue"
    await c.call("consent_grant", "PUT", f"/v1/users/{user}/consent", c.auth(tenant), {"purpose": "memory", "granted": True}, replica=live[0])
    for replica in live:
        body = {"model": "assistant", "messages": [{"role": "user", "content": f"I'm vegetarian, replica {replica.index} here."}]}
        call = await c.call("chat_memory", "POST", "/v1/chat/completions", c.auth(tenant, user), body, replica=replica)
        tally.answer(tenant, user, call)
    erased = await c.call("erasure", "DELETE", f"/v1/users/{user}", c.auth(tenant), replica=live[0])
    tally.erased[tenant, user] = tally.chat_ok[tenant, user]
    await asyncio.sleep(1.0)
    again = await c.call("erasure_repeat", "DELETE", f"/v1/users/{user}", c.auth(tenant), replica=live[-1])
    last = await c.call("erasure_repeat", "DELETE", f"/v1/users/{user}", c.auth(tenant), replica=live[-1])
    for call in (again, last):
        c.calls.remove(call)  # judged here: 404 is the answer wanted
    held = erased.status == 200 and again.status == 404 and last.status == 404
    tally.check("an erasure repeated a second later leaves nothing (404)", held)
    if not held:
        return None
    return "nothing was left: the repeat 1 s later through another replica, and a third, answered 404"
