"""Deleting memories past their retention (``bedside retention purge`` and ``serve``'s periodic purge).

A memory row does not record a policy, and it should not: one user's memories are read by every
policy that serves them with memory on (a user may talk through several aliases). A request skips
memories older than *its* policy's ``memory.retention_days``; the purge deletes a memory once **no**
loaded policy would use it any more, that is when it was last updated longer ago than the longest
``memory.retention_days`` among the loaded (non-abstract) policies that enable memory. With no such
policy, the section's default (180 days) applies, so turning memory off for a while does not wipe
what users agreed to have remembered, and nothing is kept longer than the default either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from proxy.policy.schema import Policy
from proxy.policy.sections.memory import Memory as MemorySection
from proxy.storage.repositories import MemoryMaintenance

DEFAULT_RETENTION_DAYS: int = MemorySection().retention_days


def memory_retention_days(policies: Iterable[Policy]) -> int:
    """The longest ``memory.retention_days`` of the policies that enable memory (abstract ones,
    named ``_...``, serve nobody and do not count); the default when none does."""
    days = [p.memory.retention_days for p in policies if p.memory.enabled and not p.name.startswith("_")]
    return max(days, default=DEFAULT_RETENTION_DAYS)


def purge_expired_memories(engine: Engine, retention_days: int, *, dry_run: bool = False, now: datetime | None = None) -> dict[str, int]:
    """Delete memories not updated for ``retention_days`` (or only count them); rows per tenant."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    maintenance = MemoryMaintenance(engine)
    return maintenance.older_than(cutoff) if dry_run else maintenance.purge_older_than(cutoff)
