"""The audit log in the database: pending events, the sequencer, proofs and checkpoints (synchronous).

**Order is decided once, by the database.** Every index is given inside one transaction that
holds the log's lock (a PostgreSQL advisory transaction lock, SQLite's write lock through ``BEGIN
IMMEDIATE``): it reads the tree state, gives the next indexes, writes the entries (leaf bytes =
``{"index": i,`` + the event's JSON), the completed subtree hashes and the new tree state.
:meth:`AuditStore.integrate` takes events from ``audit_pending`` (where :meth:`add_pending` puts
them; the database numbers them) in id order and deletes them; :meth:`add_and_integrate`, what the
writer thread runs, does the same and then appends its own batch in the same transaction. Any
process may run either, as often as it likes: two never interleave, and a process killed
mid-transaction rolls back whole (its pending rows stay for the next one).

Every method here blocks: async callers run them in a worker thread (``proxy/audit/log.py``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from proxy.audit import merkle
from proxy.audit.checkpoint import Checkpoint, parse_body, sign_checkpoint
from proxy.audit.note import Signer, split
from proxy.storage.audit_tables import AuditCheckpoint, AuditEntry, AuditNode, AuditPending, AuditTree

#: pg_advisory_xact_lock key of the sequencer ("bedside-audit" in ASCII, first 8 bytes)
ADVISORY_KEY = int.from_bytes(b"bedsidea", "big") & 0x7FFF_FFFF_FFFF_FFFF
_P = AuditPending.__table__  # type: ignore[attr-defined]  # SQLModel tables are sa.Table at run time
_E = AuditEntry.__table__  # type: ignore[attr-defined]
_N = AuditNode.__table__  # type: ignore[attr-defined]
_T = AuditTree.__table__  # type: ignore[attr-defined]
_C = AuditCheckpoint.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class TreeState:
    size: int
    root: bytes
    edge: bytes

    @property
    def compact(self) -> merkle.CompactRange:
        return merkle.CompactRange.from_bytes(self.size, self.edge)


EMPTY = TreeState(0, merkle.EMPTY_ROOT, b"")


@dataclass(frozen=True)
class PendingEvent:
    uid: str
    event: bytes  # the event's JSON (an object), without its index
    #: (kind, tenant, subject) when the caller knows them (saves parsing the JSON again)
    fields: tuple[str, str | None, str | None] | None = None


def leaf_bytes(index: int, event: bytes) -> bytes:
    """The leaf of an event at ``index``: its JSON with ``"index"`` as the first member."""
    if not event.startswith(b"{") or event == b"{}":
        raise ValueError("an audit event is a non-empty JSON object")
    return b'{"index":%d,' % index + event[1:]


def _now() -> datetime:
    return datetime.now(UTC)


def _bytes(value: Any) -> bytes:
    """A binary column's value (a hand-edited SQLite row may hold text instead of a blob)."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)


def _fields(event: bytes) -> tuple[str, str | None, str | None]:
    data = json.loads(event)
    kind = str(data.get("kind", "unknown"))[:32]
    tenant = data.get("tenant")
    subject = data.get("subject")
    return kind, (str(tenant)[:128] if tenant else None), (str(subject)[:64] if subject else None)


class AuditStore:
    """Reads and writes the audit tables through one engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"

    # ---- writing ---------------------------------------------------------------------------

    def add_pending(self, events: Sequence[PendingEvent]) -> None:
        """Queue events for the sequencer (one transaction)."""
        if not events:
            return
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(sa.insert(_P), [{"uid": e.uid, "event": e.event, "created_at": now} for e in events])

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        """A transaction holding the sequencer's lock: one sequencer at a time across processes."""
        if self.sqlite:
            with self.engine.connect() as raw:
                conn = raw.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, taken before reading the state
                try:
                    yield conn
                except BaseException:
                    conn.exec_driver_sql("ROLLBACK")
                    raise
                conn.exec_driver_sql("COMMIT")
        else:
            with self.engine.begin() as conn:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_KEY)))
                yield conn

    @staticmethod
    def _state(conn: Connection) -> TreeState:
        row = conn.execute(sa.select(_T.c.size, _T.c.root, _T.c.edge).where(_T.c.id == 1)).first()
        return EMPTY if row is None else TreeState(int(row.size), bytes(row.root), bytes(row.edge))

    def integrate(self, limit: int = 1000) -> int:
        """The sequencer: give up to ``limit`` pending events, oldest first, their indexes. Returns how many."""
        with self._locked() as conn:
            tree, before = self._tree(conn)
            found = self._take_pending(conn, tree, limit)
            self._save(conn, tree, before)
            return len(found)

    def add_and_integrate(self, events: Sequence[PendingEvent], limit: int = 1000) -> dict[str, int]:
        """Sequence a batch of this process's events (what the writer thread does), in one
        transaction under the sequencer's lock: first every event already pending (other
        processes', the CLI's, a dead process's), oldest first, then this batch. A batch that
        finds more than ``limit`` pending waits in ``audit_pending`` behind them. Returns the index
        of every event integrated (by uid)."""
        with self._locked() as conn:
            tree, before = self._tree(conn)
            found = self._take_pending(conn, tree, limit)
            if len(found) < limit:
                now = _now()
                found.update(self._sequence(conn, tree, [(e.uid, e.event, now, e.fields) for e in events]))
            elif events:
                now = _now()
                conn.execute(sa.insert(_P), [{"uid": e.uid, "event": e.event, "created_at": now} for e in events])
            self._save(conn, tree, before)
            return found

    @staticmethod
    def _tree(conn: Connection) -> tuple[merkle.CompactRange, int]:
        """The tree's right edge and size (-1: no state row yet), read under the lock."""
        row = conn.execute(sa.select(_T.c.size, _T.c.edge).where(_T.c.id == 1)).first()
        if row is None:
            return merkle.CompactRange(), -1
        return merkle.CompactRange.from_bytes(int(row.size), bytes(row.edge)), int(row.size)

    def _take_pending(self, conn: Connection, tree: merkle.CompactRange, limit: int) -> dict[str, int]:
        rows = conn.execute(sa.select(_P.c.id, _P.c.uid, _P.c.event, _P.c.created_at).order_by(_P.c.id).limit(limit)).all()
        if not rows:
            return {}
        found = self._sequence(conn, tree, [(str(r.uid), bytes(r.event), r.created_at, None) for r in rows])
        conn.execute(sa.delete(_P).where(_P.c.id.in_([r.id for r in rows])))
        return found

    @staticmethod
    def _sequence(conn: Connection, tree: merkle.CompactRange, items: list[tuple[str, bytes, datetime, tuple[str, str | None, str | None] | None]]) -> dict[str, int]:
        """Give ``items`` (uid, event JSON, time, known fields) the next indexes: entries and new subtree hashes."""
        if not items:
            return {}
        entries: list[dict[str, Any]] = []
        nodes: list[dict[str, Any]] = []
        for uid, event, created_at, fields in items:
            index = tree.size
            payload = leaf_bytes(index, event)
            leaf = merkle.leaf_hash(payload)
            kind, tenant, subject = fields if fields is not None else _fields(event)
            entries.append({"idx": index, "uid": uid, "kind": kind, "tenant": tenant, "subject": subject, "leaf_hash": leaf, "payload": payload, "created_at": created_at})
            nodes.extend({"level": level, "idx": idx, "hash": h} for level, idx, h in tree.append(leaf))
        conn.execute(sa.insert(_E), entries)
        if nodes:
            conn.execute(sa.insert(_N), nodes)
        return {str(e["uid"]): int(e["idx"]) for e in entries}

    @staticmethod
    def _save(conn: Connection, tree: merkle.CompactRange, before: int) -> None:
        """Store the tree state when it grew (``before`` -1: no state row yet)."""
        if tree.size == max(before, 0):
            return
        values = {"size": tree.size, "root": tree.root(), "edge": tree.to_bytes(), "updated_at": _now()}
        if before < 0:
            conn.execute(sa.insert(_T).values(id=1, **values))
        else:
            conn.execute(sa.update(_T).where(_T.c.id == 1).values(**values))

    def integrate_all(self, limit: int = 1000) -> int:
        """Integrate until nothing is pending; returns how many were integrated."""
        total = 0
        while True:
            n = self.integrate(limit)
            total += n
            if n < limit:
                return total

    def indexes(self, uids: Iterable[str]) -> dict[str, int]:
        """The index of each integrated event among ``uids`` (events still pending are absent)."""
        wanted = list(uids)
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                for uid, idx in conn.execute(sa.select(_E.c.uid, _E.c.idx).where(_E.c.uid.in_(wanted[i : i + 500]))):
                    out[str(uid)] = int(idx)
        return out

    def pending_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(_P)).scalar_one())

    # ---- reading ---------------------------------------------------------------------------

    def state(self) -> TreeState:
        with self.engine.connect() as conn:
            return self._state(conn)

    def subtrees(self, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The hashes of complete subtrees ``(level, index)``; level 0 is a leaf hash."""
        out: dict[tuple[int, int], bytes] = {}
        leaves = sorted(i for level, i in wanted if level == 0)
        inner = sorted((level, i) for level, i in wanted if level > 0)
        with self.engine.connect() as conn:
            if leaves:
                for idx, h in conn.execute(sa.select(_E.c.idx, _E.c.leaf_hash).where(_E.c.idx.in_(leaves))):
                    out[(0, int(idx))] = bytes(h)
            if inner:
                for level, idx, h in conn.execute(sa.select(_N.c.level, _N.c.idx, _N.c.hash).where(sa.tuple_(_N.c.level, _N.c.idx).in_(inner))):
                    out[(int(level), int(idx))] = bytes(h)
        missing = wanted - set(out)
        if missing:
            raise LookupError(f"the audit store lacks {len(missing)} subtree hash(es), e.g. level {min(missing)[0]} index {min(missing)[1]}: run `bedside audit verify`")
        return out

    def _proof(self, ranges: list[merkle.Range]) -> list[bytes]:
        hashes = self.subtrees(merkle.needed_subtrees(ranges))
        return [merkle.range_hash(a, b, lambda level, i: hashes[(level, i)]) for a, b in ranges]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check_size(size)
        return self._proof(merkle.inclusion_ranges(index, size))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        self._check_size(new)
        return self._proof(merkle.consistency_ranges(old, new))

    def root_at(self, size: int) -> bytes:
        """The root of the tree's first ``size`` leaves (from stored subtrees)."""
        self._check_size(size)
        if size == 0:
            return merkle.EMPTY_ROOT
        return self._proof([(0, size)])[0]

    def _check_size(self, size: int) -> None:
        current = self.state().size
        if not 0 <= size <= current:
            raise ValueError(f"the log has {current} entries; a tree size of {size} is not one of its trees")

    def entry(self, index: int) -> tuple[bytes, bytes] | None:
        """``(payload, leaf_hash)`` of the entry at ``index``."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_E.c.payload, _E.c.leaf_hash).where(_E.c.idx == index)).first()
        return None if row is None else (_bytes(row.payload), _bytes(row.leaf_hash))

    def entries(self, *, start: int = 0, since: datetime | None = None, limit: int | None = None, batch: int = 5000) -> Iterator[tuple[int, bytes, bytes]]:
        """``(index, payload, leaf_hash)`` from ``start`` (and created at or after ``since``), by index, in pages."""
        after = start - 1
        taken = 0
        while limit is None or taken < limit:
            page = batch if limit is None else min(batch, limit - taken)
            query = sa.select(_E.c.idx, _E.c.payload, _E.c.leaf_hash).where(_E.c.idx > after)
            if since is not None:
                query = query.where(_E.c.created_at >= since)
            with self.engine.connect() as conn:
                rows = conn.execute(query.order_by(_E.c.idx).limit(page)).all()
            for row in rows:
                yield int(row.idx), _bytes(row.payload), _bytes(row.leaf_hash)
            taken += len(rows)
            if len(rows) < page:
                return
            after = int(rows[-1].idx)

    def last_index(self) -> int | None:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.max(_E.c.idx))).scalar()
        return None if value is None else int(value)

    # ---- checkpoints -----------------------------------------------------------------------

    def latest_checkpoint(self) -> tuple[int, str] | None:
        """``(size, note)`` of the newest checkpoint (largest tree), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_C.c.size, _C.c.note).order_by(_C.c.size.desc(), _C.c.id.desc()).limit(1)).first()
        return None if row is None else (int(row.size), str(row.note))

    def checkpoints(self) -> list[tuple[int, int, bytes, str]]:
        """Every stored checkpoint as ``(id, size, root, note)``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(_C.c.id, _C.c.size, _C.c.root, _C.c.note).order_by(_C.c.id)).all()
        return [(int(r.id), int(r.size), bytes(r.root), str(r.note)) for r in rows]

    def sign(self, signer: Signer, origin: str) -> Checkpoint:
        """Integrate what is pending, then sign the current tree (or return the newest checkpoint when
        it already covers the whole tree)."""
        self.integrate_all()
        state = self.state()
        latest = self.latest_checkpoint()
        if latest is not None and latest[0] == state.size:
            found_origin, size, root = parse_body(split(latest[1])[0])
            if found_origin == origin and root == state.root:
                return Checkpoint(origin, size, root, latest[1])
        cp = sign_checkpoint(signer, origin, state.size, state.root)
        with self.engine.begin() as conn:
            conn.execute(sa.insert(_C).values(size=cp.size, root=cp.root, note=cp.note, created_at=_now()))
        return cp


def b64(h: bytes) -> str:
    return base64.b64encode(h).decode()
