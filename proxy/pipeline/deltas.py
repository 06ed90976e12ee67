"""Typed deltas: the one shape every reply takes inside Bedside, streaming or not.

An upstream reply, whether it arrived as one JSON body or as an SSE stream, becomes an async
iterator of these. Output checks transform that iterator, so each check is written once and
behaves the same in both modes. The route either encodes the deltas as SSE chunks
(``proxy.pipeline.sse``) or collects them into one JSON body (``proxy.pipeline.collect``).

``choice`` is the index of the choice (``n > 1``). Fields Bedside does not model travel in
``extra`` untouched (e.g. ``refusal`` or a server's ``reasoning_content``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class TextDelta:
    """Assistant text for one choice. ``logprobs`` is the upstream's, passed through."""

    text: str
    choice: int = 0
    logprobs: Any = None


@dataclass(slots=True)
class ToolCallDelta:
    """A piece of one tool call. The first piece carries ``id`` and ``name``; later ones arguments."""

    index: int
    choice: int = 0
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    type: str | None = "function"


@dataclass(slots=True)
class ExtraDelta:
    """Delta fields Bedside does not model (e.g. ``refusal``), passed through unchanged."""

    fields: dict[str, Any]
    choice: int = 0


@dataclass(slots=True)
class FinishDelta:
    """The end of one choice: ``stop``, ``length``, ``tool_calls``, ``content_filter``, ..."""

    reason: str
    choice: int = 0


@dataclass(slots=True)
class UsageDelta:
    """Token usage, as the upstream reported it."""

    usage: dict[str, Any] = field(default_factory=dict)


Delta = TextDelta | ToolCallDelta | ExtraDelta | FinishDelta | UsageDelta


def coalesce(deltas: list[Delta]) -> list[Delta]:
    """``deltas`` with each run of text pieces of one choice joined into one delta (the pieces of
    one upstream read: what arrived together is checked and sent together, once). Pieces carrying
    logprobs, and everything that is not text, are left as they are."""
    out: list[Delta] = []
    prev: Delta | None = None
    for d in deltas:
        if type(d) is TextDelta and type(prev) is TextDelta and d.choice == prev.choice and d.logprobs is None and prev.logprobs is None:
            prev = out[-1] = TextDelta(prev.text + d.text, d.choice)
            continue
        out.append(d)
        prev = d
    return out
