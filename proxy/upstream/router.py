"""Which upstream serves a model name: the first configured upstream whose patterns match."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from proxy.errors import ModelNotFound
from proxy.pipeline.completion import Completion


class Upstream(Protocol):
    """What the forward stage needs from a model server (``OpenAIUpstream`` or the demo)."""

    name: str

    def matches(self, model: str) -> bool: ...

    async def chat(self, body: dict[str, Any], *, request_id: str | None = None) -> Completion: ...

    async def embeddings(self, body: dict[str, Any], *, request_id: str | None = None) -> dict[str, Any]: ...

    async def models(self) -> list[dict[str, Any]]: ...

    async def ping(self) -> None: ...


class UpstreamRouter:
    def __init__(self, upstreams: Sequence[Upstream]) -> None:
        self.upstreams = tuple(upstreams)
        self._by_name = {u.name: u for u in self.upstreams}

    def named(self, name: str) -> Upstream | None:
        """The upstream called ``name``, if one is configured."""
        return self._by_name.get(name)

    def for_model(self, model: str, *, upstream: str | None = None) -> Upstream:
        """The upstream for ``model`` (or the one named by a policy), else ``ModelNotFound``."""
        if upstream is not None:
            found = self._by_name.get(upstream)
            if found is not None:
                return found
        for candidate in self.upstreams:
            if candidate.matches(model):
                return candidate
        raise ModelNotFound(
            f"No model server is configured for the model '{model}'. "
            "Ask for one of the models listed at GET /v1/models, or ask your operator to route it.",
            param="model",
        )
