"""Checking the audit log: the whole store (``bedside audit verify``), or one entry offline (a receipt).

:func:`verify_log` reads every entry in index order, recomputes each leaf and the tree from the
entries' own bytes, and compares with what is stored and signed. Each problem is named by the
check that found it and the entry index (or range) it concerns:

* ``missing``: an index has no entry (deleted);
* ``index``: the entry at an index says it is another one (moved, inserted or renumbered);
* ``leaf_hash``: the entry's bytes do not give its stored leaf hash (edited);
* ``node``: a stored subtree hash differs from the recomputed one (entries and leaf hashes rewritten together);
* ``tree_size`` / ``tree_root``: the stored tree state disagrees with the entries (truncated or extended);
* ``checkpoint_signature``: a checkpoint's signature does not verify under a known key;
* ``checkpoint_root``: a signed checkpoint commits to other entries than the stored ones;
* ``truncated``: a signed checkpoint covers more entries than the log holds.

A rewrite that also rewrites leaf hashes, subtree hashes and the tree state is still caught by
every signed checkpoint after it; only a checkpoint kept outside the database (``--checkpoint``)
catches a truncation that also deleted the checkpoints.

:func:`verify_entry` checks one entry against an inclusion proof and a signed checkpoint with
nothing but the verifier key: what a deletion receipt needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from proxy.audit import merkle
from proxy.audit.checkpoint import Checkpoint, open_checkpoint
from proxy.audit.note import NoteError, Verifier
from proxy.audit.store import AuditStore
from proxy.storage.audit_tables import AuditNode

_N = AuditNode.__table__  # type: ignore[attr-defined]  # SQLModel tables are sa.Table at run time
PAGE = 8192


class VerificationError(ValueError):
    """An entry, proof or checkpoint that does not verify (the message says which check failed)."""


@dataclass(frozen=True)
class Problem:
    check: str
    index: int | None
    detail: str

    def __str__(self) -> str:
        where = f"index {self.index}" if self.index is not None else "log"
        return f"{self.check} at {where}: {self.detail}"


@dataclass
class Report:
    entries: int = 0
    tree_size: int = 0
    pending: int = 0
    checkpoints: int = 0
    checkpoints_verified: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Signed:
    label: str
    size: int
    root: bytes


def embedded_index(payload: bytes) -> int | None:
    """The index an entry's bytes say they are (``{"index":N,...``), or None when malformed."""
    if not payload.startswith(b'{"index":'):
        return None
    end = payload.find(b",", 9)
    digits = payload[9:end] if end > 0 else b""
    return int(digits) if digits.isdigit() else None


def _signed_checkpoints(store: AuditStore, verifiers: Sequence[Verifier], origin: str | None, external: Sequence[tuple[str, str]], report: Report) -> list[_Signed]:
    out: list[_Signed] = []
    notes = [(f"checkpoint #{cid} (size {size})", note) for cid, size, _root, note in store.checkpoints()] + list(external)
    report.checkpoints = len(notes)
    for label, note in notes:
        try:
            cp = open_checkpoint(note, list(verifiers), origin)
        except NoteError as exc:
            report.problems.append(Problem("checkpoint_signature", None, f"{label}: {exc}"))
            continue
        out.append(_Signed(label, cp.size, cp.root))
    out.sort(key=lambda s: s.size)
    return out


def verify_log(
    store: AuditStore,
    verifiers: Sequence[Verifier],
    *,
    origin: str | None = None,
    external: Sequence[tuple[str, str]] = (),
    progress: Callable[[int, int], None] | None = None,
    progress_every: int = 100_000,
) -> Report:
    """Recompute the tree from the entries and check it against everything stored and signed.

    ``external``: ``(label, note)`` checkpoints kept outside the database."""
    started = time.perf_counter()
    report = Report()
    state = store.state()
    report.tree_size = state.size
    report.pending = store.pending_count()
    signed = _signed_checkpoints(store, verifiers, origin, external, report)
    pending_sizes = sorted({s.size for s in signed} | {state.size})
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    tree = merkle.CompactRange()
    expected = 0
    created: dict[tuple[int, int], bytes] = {}
    size_i = 0
    last = store.last_index()
    total = max(state.size, last + 1 if last is not None else 0)
    for idx, payload, stored_leaf in store.entries(batch=PAGE):
        if idx != expected:
            report.problems.append(Problem("missing", expected, f"no entry at index {expected}" + (f" to {idx - 1}" if idx - 1 > expected else "") + " (deleted)"))
            expected = idx
        said = embedded_index(payload)
        if said != idx:
            report.problems.append(Problem("index", idx, f"the entry stored at index {idx} says it is {'index ' + str(said) if said is not None else 'no index'} (moved, inserted or renumbered)"))
        leaf = merkle.leaf_hash(payload)
        if leaf != stored_leaf:
            report.problems.append(Problem("leaf_hash", idx, "the entry's bytes do not match its stored leaf hash (the entry was edited)"))
        for level, i, h in tree.append(leaf):
            created[(level, i)] = h
        expected += 1
        # every size at or below this one is passed (a checkpoint of the empty log, size 0, has its
        # root already; without stepping over it no later root would be recorded)
        while size_i < len(pending_sizes) and pending_sizes[size_i] <= tree.size:
            if pending_sizes[size_i] == tree.size:
                roots[tree.size] = tree.root()
            size_i += 1
        if len(created) >= PAGE:
            _check_nodes(store, created, report)
        if progress is not None and tree.size % progress_every == 0:
            progress(tree.size, total)
    _check_nodes(store, created, report)
    report.entries = tree.size
    if tree.size < state.size:
        report.problems.append(Problem("tree_size", tree.size, f"the tree state says {state.size} entries were sequenced but only {tree.size} are stored (the log was truncated)"))
    elif tree.size > state.size:
        report.problems.append(Problem("tree_size", state.size, f"{tree.size - state.size} entries beyond the sequenced tree of {state.size} (written outside the sequencer)"))
    elif roots.get(state.size) != state.root:
        report.problems.append(Problem("tree_root", None, f"the stored tree root for {state.size} entries differs from the one recomputed from the entries"))
    last_good = 0
    for s in signed:
        root = roots.get(s.size)
        if root is None:
            report.problems.append(Problem("truncated", tree.size, f"{s.label} commits to {s.size} entries but the log holds {tree.size}: entries {tree.size} to {s.size - 1} were deleted"))
        elif root != s.root:
            report.problems.append(Problem("checkpoint_root", last_good, f"{s.label}: the entries' root differs from the signed one: an entry in [{last_good}, {s.size}) was changed"))
        else:
            report.checkpoints_verified += 1
            last_good = s.size
    if progress is not None:
        progress(tree.size, total)
    report.seconds = time.perf_counter() - started
    return report


def _check_nodes(store: AuditStore, created: dict[tuple[int, int], bytes], report: Report) -> None:
    """Compare recomputed complete-subtree hashes with the stored ones (a range query per level)."""
    if not created:
        return
    by_level: dict[int, list[int]] = {}
    for level, i in created:
        by_level.setdefault(level, []).append(i)
    stored: dict[tuple[int, int], bytes] = {}
    with store.engine.connect() as conn:
        for level, idxs in by_level.items():
            rows = conn.execute(sa.select(_N.c.idx, _N.c.hash).where(_N.c.level == level, _N.c.idx >= min(idxs), _N.c.idx <= max(idxs)))
            stored.update(((level, int(i)), bytes(h)) for i, h in rows)
    for (level, i), h in sorted(created.items()):
        found = stored.get((level, i))
        if found != h:
            first, last = i << level, ((i + 1) << level) - 1
            what = "is missing" if found is None else "differs from the one recomputed from the entries"
            report.problems.append(Problem("node", first, f"the stored hash of entries {first} to {last} {what} (entries rewritten together with their leaf hashes)"))
    created.clear()


def verify_entry(payload: bytes, index: int, proof: Sequence[bytes], checkpoint_note: str, verifiers: Sequence[Verifier], *, origin: str | None = None) -> Checkpoint:
    """Check offline that ``payload`` is entry ``index`` of the log a signed checkpoint commits to.

    Returns the checkpoint; raises VerificationError naming the failed check."""
    try:
        cp = open_checkpoint(checkpoint_note, list(verifiers), origin)
    except NoteError as exc:
        raise VerificationError(f"checkpoint: {exc}") from None
    if embedded_index(payload) != index:
        raise VerificationError(f"entry: the entry's bytes say index {embedded_index(payload)}, not {index}")
    if not 0 <= index < cp.size:
        raise VerificationError(f"inclusion: index {index} is outside the checkpoint's tree of {cp.size} entries")
    if not merkle.verify_inclusion(index, cp.size, merkle.leaf_hash(payload), list(proof), cp.root):
        raise VerificationError("inclusion: the proof does not lead from this entry to the checkpoint's root (entry or proof altered)")
    return cp


def verify_consistency(old_note: str, new_note: str, proof: Sequence[bytes], verifiers: Sequence[Verifier], *, origin: str | None = None) -> tuple[Checkpoint, Checkpoint]:
    """Check offline that the log of ``new_note`` extends the log of ``old_note`` (append-only)."""
    try:
        old = open_checkpoint(old_note, list(verifiers), origin)
        new = open_checkpoint(new_note, list(verifiers), origin)
    except NoteError as exc:
        raise VerificationError(f"checkpoint: {exc}") from None
    if not merkle.verify_consistency(old.size, old.root, new.size, new.root, list(proof)):
        raise VerificationError(f"consistency: the tree of {new.size} entries does not extend the tree of {old.size} (the log was rewritten)")
    return old, new
