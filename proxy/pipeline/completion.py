"""``Completion``: what every stage returns.

A completion is the reply *before* it is written: response metadata plus an async iterator of
typed deltas (``proxy.pipeline.deltas``). It is the same object for ``stream=true`` and
``stream=false``; only the route's encoding differs. Embeddings and other JSON-only endpoints
carry their body in ``json_body`` and no deltas.

Stages wrap ``deltas`` to check or rewrite the reply (see :meth:`Completion.map_deltas`), and build
one from plain text to answer without calling upstream (:meth:`Completion.from_text`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta, UsageDelta


async def _no_deltas() -> AsyncIterator[Delta]:
    return
    yield  # pragma: no cover - makes this an async generator


@dataclass(slots=True)
class Completion:
    """A reply on its way to the client.

    ``meta`` holds the top-level fields of the upstream reply other than ``choices`` and ``usage``
    (``id``, ``created``, ``model``, ``system_fingerprint``, ``service_tier`` and anything unknown),
    passed through untouched. ``template`` is, for non-streaming upstream replies, the original
    ``choices`` list: the collector keeps every field of it it does not rebuild (``logprobs``,
    ``message.refusal``, ``message.annotations``, ...).
    """

    deltas: AsyncIterator[Delta] = field(default_factory=_no_deltas)
    meta: dict[str, Any] = field(default_factory=dict)
    template: list[dict[str, Any]] | None = None
    json_body: dict[str, Any] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: set when the reply was produced by Bedside without calling the upstream
    short_circuit: str | None = None
    #: the upstream's decoded JSON body: while ``deltas`` is still the iterator made from it (no
    #: stage wrapped or replaced it), the collector returns it as it came instead of rebuilding it
    passthrough: dict[str, Any] | None = None
    _passthrough_of: Any = None
    #: the id under which the upstream keeps this reply (a stored Responses response; None when it
    #: keeps nothing): the thread stage files Bedside's side of the conversation under it
    kept_as: str | None = None

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        model: str,
        finish_reason: str = "stop",
        short_circuit: str = "bedside",
        n: int = 1,
    ) -> "Completion":
        """A reply written by Bedside itself (refusal, handoff, demo), no upstream call."""

        async def gen() -> AsyncIterator[Delta]:
            for i in range(n):
                yield TextDelta(text, choice=i)
                yield FinishDelta(finish_reason, choice=i)
            yield UsageDelta({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})

        return cls(deltas=gen(), meta=new_meta(model), short_circuit=short_circuit)

    def map_deltas(self, wrap: Callable[[AsyncIterator[Delta]], AsyncIterator[Delta]]) -> "Completion":
        """Replace the delta iterator by ``wrap(old)``; returns self for chaining."""
        self.deltas = wrap(self.deltas)
        return self

    def untouched_body(self) -> dict[str, Any] | None:
        """The upstream's body when no stage has wrapped or replaced the deltas, else None."""
        if self.passthrough is not None and self.deltas is self._passthrough_of:
            return self.passthrough
        return None

    async def aclose(self) -> None:
        """Close the delta iterator (cancelling the upstream request)."""
        aclose = getattr(self.deltas, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception:  # noqa: BLE001, S110 - closing must not mask the real outcome
                pass


def new_meta(model: str) -> dict[str, Any]:
    """Top-level fields for a reply Bedside writes itself."""
    return {"id": f"chatcmpl-bedside-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": model}
