"""Which tables hold user data, and the check that export and erasure cover every one of them.

Every table of the schema (``SQLModel.metadata``) is in exactly one of three states:

* **covered**: an export source reads it *and* an erasure step removes its rows of the user
  (the sources and steps wired in ``proxy.rights_wiring.build_user_rights``);
* **declared** here, with a reason, as not user data (:data:`NOT_USER_DATA`; a table with a
  ``subject`` column cannot be), or as user-linked but deliberately left out of export
  (:data:`NOT_EXPORTED`) or erasure (:data:`NOT_ERASED`);
* anything else is a **problem**: :func:`coverage_problems` names it, and the test suite fails
  (``tests/privacy/test_rights_inventory.py``), so a new table cannot ship without a decision.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from proxy.privacy.user_data import ErasureStep, ExportSource

NOT_USER_DATA: dict[str, str] = {
    "api_keys": "a tenant's client keys (SHA-256 only), their names and scopes: they belong to the operator's back end, no end user is in them",
    "audit_nodes": "hashes of complete subtrees of the audit log (SHA-256 of other hashes): no event, no subject, nothing about anyone",
    "audit_tree": "one row: the audit log's size, root hash and right edge (hashes only)",
    "audit_checkpoints": "signed checkpoints of the audit log: an origin, a tree size and a root hash, signed; nothing about anyone",
}

NOT_EXPORTED: dict[str, str] = {
    "erasures": "the journal of an erasure: it names the user only while their erasure runs, and then describes the erasure, not the user's data",
    "audit_pending": "audit events waiting a moment for their index (subject HMAC at most, no content): the sequencer moves them into audit_entries within seconds",
    "erasure_fences": "raised by an erasure, not data about the user: a one-way digest of the erased subject and the erasure's time, kept 15 minutes so that late conversation facts are not written",
}

NOT_ERASED: dict[str, str] = {
    "erasures": "the erasure's own journal: finishing the erasure clears its subject and keeps the receipt, which names no user",
    "audit_entries": "an append-only, tamper-evident log: deleting or editing an entry breaks every signed checkpoint after it. "
    "It names the user only by subject HMAC (unlinkable without the server's subject key) and holds no content; it is the record of what was done with their data, the erasure included",
    "audit_pending": "audit events waiting a moment for their index (subject HMAC at most, no content): they become audit_entries entries, which are kept (see there)",
    "erasure_fences": "the erasure's own safeguard (a digest of the subject, never the subject): it must outlive the erasure for its 15 minutes, then expires and is purged",
}


def user_linked(table: sa.Table) -> bool:
    """A table whose rows name a user directly (a ``subject`` column)."""
    return "subject" in table.c


def coverage_problems(tables: Iterable[sa.Table], sources: Iterable[ExportSource], steps: Iterable[ErasureStep]) -> list[str]:
    """What is wrong with the coverage of ``tables`` (empty: every table is covered or declared)."""
    tables = list(tables)
    names = {t.name for t in tables}
    exported = {name for s in sources for name in s.tables}
    erased = {s.table for s in steps}
    problems: list[str] = []
    for table in sorted(tables, key=lambda t: t.name):
        name = table.name
        if name in NOT_USER_DATA:
            if user_linked(table):
                problems.append(f"{name}: declared not user data, but it has a subject column (its rows name users)")
            if name in exported or name in erased or name in NOT_EXPORTED or name in NOT_ERASED:
                problems.append(f"{name}: declared not user data, yet also exported, erased or declared otherwise")
            continue
        if name not in exported and name not in NOT_EXPORTED:
            problems.append(f"{name}: no export source reads it and it is not declared (add a source, or a reason in NOT_EXPORTED / NOT_USER_DATA)")
        if name not in erased and name not in NOT_ERASED:
            problems.append(f"{name}: no erasure step removes a user's rows and it is not declared (add a step, or a reason in NOT_ERASED / NOT_USER_DATA)")
        if name in exported and name in NOT_EXPORTED:
            problems.append(f"{name}: exported and declared not exported")
        if name in erased and name in NOT_ERASED:
            problems.append(f"{name}: erased and declared not erased")
    for declared in sorted({*NOT_USER_DATA, *NOT_EXPORTED, *NOT_ERASED, *exported, *erased} - names):
        problems.append(f"{declared}: covered or declared, but no such table exists (renamed or dropped?)")
    return problems
