"""The ``moderation`` judge: asks an OpenAI-compatible moderation endpoint, or a guard model served
behind any OpenAI-compatible chat API (Llama Guard style), whether a text is harmful.

* ``style: moderations``: ``POST {url}/moderations`` with ``{"model", "input"}``; the answer's
  ``results[0].categories`` names what was flagged.
* ``style: guard_chat``: ``POST {url}/chat/completions`` with the text as the one user message; the
  guard answers ``safe``, or ``unsafe`` and a line of category codes (``S1,S10``).

Calls are bounded by ``timeout_seconds``. Verdicts are cached by the SHA-256 of the text (an LRU of
``cache_size``), so a conversation resent with each turn is judged once; errors are never cached.
What an error (timeout, refused connection, non-2xx, an answer that cannot be read) means is the
policy's ``on_error``: ``block`` (fail closed, the default) returns the reason
``moderation_error``; ``pass`` lets the text through and logs ``moderation_unavailable``. Reasons
are category names, never text; the text goes only to the configured endpoint.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

import httpx
from cachetools import LRUCache

from proxy.logs import get_logger

__all__ = ["ModerationJudge", "ModerationUnreadable"]

_SEVERITY = {"handoff": 4, "block": 3, "reask": 3, "fix": 2, "log": 1}


class ModerationUnreadable(ValueError):
    """The endpoint answered something that is not a verdict."""


class ModerationJudge:
    """An async callable: ``await judge(text)`` -> reasons (empty when the text may pass)."""

    def __init__(self, config: Any, categories: Mapping[str, str], *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._config = config
        self._categories = dict(categories)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._cache: LRUCache[bytes, tuple[str, ...]] | None = LRUCache(config.cache_size) if config.cache_size else None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self._config.timeout_seconds)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client (tests; the process exit closes it otherwise)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __call__(self, text: str) -> tuple[str, ...]:
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        if self._cache is not None and key in self._cache:
            return self._cache[key]
        try:
            flagged = await self._ask(text)
        except (httpx.HTTPError, ModerationUnreadable, ValueError, KeyError, IndexError, TypeError) as exc:
            get_logger().warning("moderation_unavailable", error_type=type(exc).__name__, failure_mode=self._config.on_error)
            return ("moderation_error",) if self._config.on_error == "block" else ()
        reasons = self._reasons(flagged)
        if self._cache is not None:
            self._cache[key] = reasons
        return reasons

    def _reasons(self, flagged: list[str]) -> tuple[str, ...]:
        """``moderation:<category>`` first (the one with the strongest action), then the others."""
        if self._categories:
            flagged = [c for c in flagged if c in self._categories]
        if not flagged:
            return ()
        flagged.sort(key=lambda c: -_SEVERITY.get(self._categories.get(c, "block"), 0))
        return (f"moderation:{flagged[0]}", *(f"also:{c}" for c in flagged[1:]))

    def _headers(self) -> dict[str, str]:
        env = self._config.api_key_env
        key = os.environ.get(env) if env else None
        return {"authorization": f"Bearer {key}"} if key else {}

    async def _ask(self, text: str) -> list[str]:
        base = self._config.url.rstrip("/")
        if self._config.style == "moderations":
            body: dict[str, Any] = {"input": text}
            if self._config.model:
                body["model"] = self._config.model
            resp = await self._http().post(f"{base}/moderations", json=body, headers=self._headers())
            resp.raise_for_status()
            result = resp.json()["results"][0]
            if not isinstance(result.get("flagged"), bool):
                raise ModerationUnreadable("no 'flagged' in the moderation result")
            cats = result.get("categories") or {}
            names = [name for name, hit in cats.items() if hit is True]
            return names or (["flagged"] if result["flagged"] else [])
        body = {"messages": [{"role": "user", "content": text}], "max_tokens": 24, "temperature": 0}
        if self._config.model:
            body["model"] = self._config.model
        resp = await self._http().post(f"{base}/chat/completions", json=body, headers=self._headers())
        resp.raise_for_status()
        answer = resp.json()["choices"][0]["message"]["content"]
        if not isinstance(answer, str):
            raise ModerationUnreadable("the guard model's answer is not text")
        words = answer.strip().split(None, 1)
        verdict = words[0].lower().strip(".:,") if words else ""
        if verdict == "safe":
            return []
        if verdict != "unsafe":
            raise ModerationUnreadable("the guard model answered neither 'safe' nor 'unsafe'")
        codes = [c.strip() for c in (words[1] if len(words) > 1 else "").replace("\n", ",").split(",") if c.strip()]
        return codes or ["unsafe"]
