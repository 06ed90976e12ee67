"""The demo as an in-process ``Upstream``: no socket, the same decoding path as a real stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from proxy.demo import replies
from proxy.pipeline.completion import Completion
from proxy.pipeline.deltas import Delta
from proxy.pipeline.sse import chunk_to_deltas
from proxy.upstream.openai import json_completion


class DemoUpstream:
    """Answers every model deterministically and says it is a demo."""

    name = "demo"

    def matches(self, model: str) -> bool:
        return True

    async def chat(self, body: dict[str, Any], *, request_id: str | None = None) -> Completion:
        if not body.get("stream"):
            return json_completion(replies.chat_body(body))
        meta: dict[str, Any] = {}
        chunks = replies.chat_chunks(body)

        async def deltas() -> AsyncIterator[Delta]:
            for chunk in chunks:
                for delta in chunk_to_deltas(chunk, meta):
                    yield delta

        # fill meta before the route builds its encoder, as a real stream's first chunk would
        for key, value in chunks[0].items():
            if key not in ("choices", "usage", "object"):
                meta[key] = value
        return Completion(deltas=deltas(), meta=meta)

    async def embeddings(self, body: dict[str, Any], *, request_id: str | None = None) -> dict[str, Any]:
        return replies.embeddings_body(body)

    async def models(self) -> list[dict[str, Any]]:
        return list(replies.models_body()["data"])

    async def ping(self) -> None:
        return None
