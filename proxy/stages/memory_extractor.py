"""The LLM memory extractor at work: after the reply, in the background, bounded.

The memory stage hands an :class:`ExtractionJob` to :meth:`LlmExtractor.submit` once an exchange
ended normally (the last delta went to the client). The job runs as its own task, so the client's
reply and its ``[DONE]`` never wait for it; at most ``concurrency`` jobs call the extractor model at
once and at most ``backlog`` wait, beyond which a job is dropped (counted ``busy``).

A job: load the user's memories (decrypted, ranked against the turn, in a worker thread), show the
``memory.llm.max_memories`` most relevant ones to the extractor model with short ids and this
request's placeholders, call the model through Bedside's own upstream client
(``UpstreamRouter``: ``memory.llm.upstream``, else the policy's ``routing.upstream``, else the
upstream serving the model) within ``memory.llm.timeout_seconds``, validate its operations
(:func:`proxy.privacy.memory_llm.parse_operations`) and apply the valid ones in one write.

Fails **closed for storage, open for the chat**: a timeout, an upstream error, garbage or a storage
failure stores nothing, logs ``memory_extraction_failed`` with the result and exception type only,
and counts ``bedside_memory_extractions_total{extractor="llm",result=...}``. The job works on a copy
of the request's vault, so it never changes what the request restores.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.pipeline.collect import collect
from proxy.policy.sections.memory import MemoryLlm
from proxy.privacy.memory import MemoryStore, with_placeholders
from proxy.privacy.memory_llm import ExtractorGarbage, Operations, Prompt, Shown, packaged_prompt, parse_operations, policy_prompt, request_body
from proxy.privacy.pseudonyms import PLACEHOLDER_RE, PseudonymVault
from proxy.storage.repositories import UserScope
from proxy.upstream.router import UpstreamRouter


@dataclass(frozen=True, slots=True)
class ExtractionJob:
    """Everything one extraction needs, captured when the request's reply ended."""

    request_id: str
    tenant: str
    scope: UserScope
    conversation: str
    turn: int
    #: the user's last turn, as the PII stage redacted it
    said: str
    #: a private copy of the request's vault
    vault: PseudonymVault
    llm: MemoryLlm
    upstream: str | None
    kinds: tuple[str, ...]
    prompt: Prompt
    #: memories updated before this timestamp are past the policy's retention: not shown
    since: float
    #: the turn instructs the assistant: only ``forget`` operations are applied
    poisoned: bool = False


class LlmExtractor:
    """Runs :class:`ExtractionJob` objects after their replies; see the module doc."""

    def __init__(self, router: UpstreamRouter, store: MemoryStore, metrics: Metrics, *, concurrency: int = 4, backlog: int = 64) -> None:
        self._router = router
        self._store = store
        self._metrics = metrics
        self._concurrency = concurrency
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None  # bound to the loop that runs the jobs
        self._backlog = backlog
        self._tasks: set[asyncio.Task[None]] = set()
        self.packaged = packaged_prompt()

    def prompt(self, custom: str | None) -> Prompt:
        return policy_prompt(custom, self.packaged)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(self, job: ExtractionJob) -> bool:
        """Start ``job`` in the background; False (counted ``busy``) when the backlog is full."""
        if len(self._tasks) >= self._backlog:
            self._outcome(job, "busy")
            return False
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def drain(self) -> None:
        """Wait until no job is running or waiting (shutdown; tests, which may drive the app's loop
        from another thread through a portal: then the waiting is done on the jobs' own loop)."""
        while tasks := list(self._tasks):
            loop = tasks[0].get_loop()
            if loop is asyncio.get_running_loop():
                await asyncio.gather(*tasks, return_exceptions=True)
            else:
                await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.drain(), loop))

    async def aclose(self, timeout: float = 5.0) -> None:
        """Let running jobs finish for up to ``timeout`` seconds, then cancel the rest."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), timeout)
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self._concurrency))
        return self._slots[1]

    async def _run(self, job: ExtractionJob) -> None:
        async with self._semaphore():
            phase = "read"
            try:
                shown = await self._shown(job)
                phase = "model"
                async with asyncio.timeout(job.llm.timeout_seconds):
                    content = await self._ask(job, shown)
                ops = parse_operations(content, shown=shown, kinds=job.kinds, resolves=lambda p: job.vault.value_for(p) is not None, writes=not job.poisoned)
                phase = "write"
                await self._apply(job, ops)
            except TimeoutError as exc:
                self._failed(job, "timeout", phase, exc)
            except ExtractorGarbage as exc:
                self._failed(job, "garbage", phase, exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - fails closed for storage, never reaches the chat
                self._failed(job, "error", phase, exc)

    async def _shown(self, job: ExtractionJob) -> list[Shown]:
        if job.llm.max_memories == 0:
            return []
        shown: list[Shown] = []
        for memory in await self._store.ranked(job.scope, job.said, since=job.since):
            text = with_placeholders(memory, job.vault)
            if text is None:
                continue
            shown.append(Shown(f"m{len(shown) + 1}", memory.id, memory.kind, memory.topic, text))
            if len(shown) >= job.llm.max_memories:
                break
        return shown

    async def _ask(self, job: ExtractionJob, shown: list[Shown]) -> object:
        upstream = self._router.for_model(job.llm.model, upstream=job.upstream)
        body = request_body(job.llm.model, job.prompt, job.said, shown, job.kinds)
        reply = await collect(await upstream.chat(body, request_id=f"{job.request_id}-memory"))
        try:
            return reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ExtractorGarbage("no choices[0].message.content") from exc

    async def _apply(self, job: ExtractionJob, ops: Operations) -> None:
        for reason, n in ops.rejected.items():
            self._metrics.memory_operations.labels(f"rejected_{reason}").inc(n)
        rejected = sum(ops.rejected.values())
        if not ops:
            self._outcome(job, "nothing", rejected=rejected)
            return
        texts = [item.text for item in ops.add] + list(ops.update.values())
        values = {m.group(0): v for t in texts for m in PLACEHOLDER_RE.finditer(t) if (v := job.vault.value_for(m.group(0))) is not None}
        done = await self._store.revise(
            job.scope, add=ops.add, update=ops.update, forget=ops.forget, values=values, tenant=job.tenant, conversation=job.conversation, turn=job.turn
        )
        for outcome, n in (("added", done.added), ("replaced", done.replaced), ("updated", done.updated), ("forgotten", done.forgotten)):
            if n:
                self._metrics.memory_operations.labels(outcome).inc(n)
        self._outcome(job, "ok", added=done.added, replaced=done.replaced, updated=done.updated, forgotten=done.forgotten, rejected=rejected)

    def _outcome(self, job: ExtractionJob, result: str, **counts: int) -> None:
        self._metrics.memory_extractions.labels("llm", result).inc()
        level = get_logger().warning if result == "busy" else get_logger().info
        level("memory_extracted", stage="memory", extractor="llm", result=result, prompt_version=job.prompt.label, request_id=job.request_id, **counts)

    def _failed(self, job: ExtractionJob, result: str, phase: str, exc: BaseException) -> None:
        self._metrics.memory_extractions.labels("llm", result).inc()
        get_logger().warning(
            "memory_extraction_failed",
            stage="memory",
            extractor="llm",
            result=result,
            phase=phase,
            error_type=type(exc).__name__,
            prompt_version=job.prompt.label,
            request_id=job.request_id,
        )
