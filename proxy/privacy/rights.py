"""A user's data rights in one object: export, erasure, and whether Bedside holds anything about them.

:class:`UserRights` is what the privacy routes and ``bedside users`` call. It is built once
(``proxy.rights_wiring.build_user_rights``) from the export sources and erasure steps of every table
that holds user data (:mod:`proxy.privacy.user_data`, :mod:`proxy.rails.outbox_rights`), the
processing facts of the deployment, and the audit seam.

``known`` decides the 404: a user is known while any source or step still holds a row of theirs
(or their erasure is running). Nothing else is consulted, so another tenant's user and a user never
seen give the same answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from proxy.crypto.subjects import SubjectKey
from proxy.privacy.erasure import Eraser
from proxy.privacy.erasure_receipt import ErasureReceipt
from proxy.privacy.export import Exporter
from proxy.privacy.inventory import coverage_problems
from proxy.privacy.user_data import ErasureStep, ExportSource, Who


@dataclass
class UserRights:
    subjects: SubjectKey
    sources: Sequence[ExportSource]
    steps: Sequence[ErasureStep]
    exporter: Exporter
    eraser: Eraser
    #: records an export in the audit log before it streams (``proxy.audit_rights.export_recorder``); None: not recorded
    on_export: Callable[[Who, int], Awaitable[None]] | None = None

    def who(self, tenant: str, user: str) -> Who:
        """The user ``user`` of ``tenant`` (ScopeError for an empty or too long id)."""
        user = user.strip()
        return Who(tenant, user, self.subjects.scope(tenant, user))

    async def known(self, who: Who) -> bool:
        return await self.eraser.holds(who)

    async def record_export(self, who: Who) -> None:
        """Record the export about to stream (raises when the audit log does not take it: no export then)."""
        if self.on_export is not None:
            await self.on_export(who, len(self.sources))

    def export(self, who: Who) -> AsyncIterator[bytes]:
        return self.exporter.stream(who)

    async def erase(self, who: Who) -> ErasureReceipt:
        return await self.eraser.erase(who)

    def coverage_problems(self, tables: Sequence[sa.Table]) -> list[str]:
        return coverage_problems(tables, self.sources, self.steps)

