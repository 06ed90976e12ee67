"""Export (GDPR Art. 15 and 20): one JSON document of everything Bedside holds about one user, streamed.

:meth:`Exporter.stream` yields the document (:class:`~proxy.privacy.export_document.ExportDocument`)
in pieces as it reads: the header (schema version, time, tenant, user, subject), the processing
facts, the consent in force, then each list section page by page from its
:class:`~proxy.privacy.user_data.ExportSource` (each page read and decrypted in a worker thread,
rendered through the section's model, written, dropped), then the item ``counts`` and
``"complete": true``. Memory use is one page, whatever the user's history; a document that ends
without ``complete`` was cut off (the connection or the database failed midway).

The pages are separate reads, not one snapshot: a turn recorded while the export runs may or may
not be in it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from proxy.privacy.export_document import LIST_SECTIONS, SCHEMA_VERSION, ProcessingFacts, PurposeState
from proxy.privacy.user_data import ExportSource, Who
from proxy.storage.repositories import PrivacyRepository
from proxy.storage.tables import PURPOSES

#: items read per page (and per worker-thread hop)
PAGE_SIZE = 200


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Exporter:
    """Streams the export of one user from ``sources`` (one per list section)."""

    def __init__(
        self,
        repo: PrivacyRepository,
        sources: Sequence[ExportSource],
        facts: Callable[[Who, frozenset[str]], ProcessingFacts],
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        by_section = {s.section: s for s in sources}
        missing = [name for name in LIST_SECTIONS if name not in by_section]
        extra = [s.section for s in sources if s.section not in LIST_SECTIONS]
        if missing or extra or len(by_section) != len(sources):
            raise ValueError(f"export sources must give each section of the document exactly once (missing {missing}, unknown {extra})")
        self.repo = repo
        self.sources = [by_section[name] for name in LIST_SECTIONS]
        self.facts = facts
        self.page_size = page_size

    def consent_sync(self, who: Who) -> dict[str, PurposeState]:
        latest = self.repo.latest_consent(who.scope)
        out: dict[str, PurposeState] = {}
        for purpose in PURPOSES:
            row = latest.get(purpose)
            out[purpose] = PurposeState(granted=bool(row is not None and row.granted), receipt_id=row.receipt_id if row is not None else None)
        return out

    async def stream(self, who: Who) -> AsyncIterator[bytes]:
        consent = await self.repo.run(self.consent_sync, who)
        granted = frozenset(p for p, s in consent.items() if s.granted)
        facts = self.facts(who, granted)
        head = {
            "object": "user.export",
            "schema_version": SCHEMA_VERSION,
            "generated_at": _iso(datetime.now(UTC)),
            "tenant": who.tenant,
            "user": who.user,
            "subject": who.scope.subject,
        }
        yield _json(head)[:-1] + b',"processing":' + facts.model_dump_json().encode() + b',"consent":' + _json({k: v.model_dump(mode="json") for k, v in consent.items()})
        counts: dict[str, int] = {}
        for source in self.sources:
            n = 0
            yield b',"' + source.section.encode() + b'":['
            after: Any = None
            while True:
                items, after = await self.repo.run(source.page, who, after, self.page_size)
                if items:
                    yield (b"," if n else b"") + b",".join(_item(i) for i in items)
                    n += len(items)
                if after is None:
                    break
            yield b"]"
            counts[source.section] = n
        yield b',"counts":' + _json(counts) + b',"complete":true}'


def _item(item: BaseModel) -> bytes:
    return item.model_dump_json().encode("utf-8")


async def collect(stream: AsyncIterator[bytes]) -> bytes:
    """The whole document (the CLI writes pieces as they come; tests read it whole)."""
    return b"".join([piece async for piece in stream])
