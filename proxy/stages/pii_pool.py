"""The PII detector's worker pool: built once, analysis off the event loop, bounded queue.

:class:`PiiEngine` owns the detector (built eagerly with :meth:`PiiEngine.warm` when a loaded
policy enables PII, else on first use) and bounds concurrent analyses: ``workers`` threads and at
most ``max_queue`` requests waiting for one; past that :class:`Overloaded` is raised (the stage
fails closed). Texts the detector has already analysed are answered on the event loop without a
thread hop (:meth:`PiiEngine.analyze`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from proxy.logs import get_logger

if TYPE_CHECKING:  # importing presidio is slow: it happens when the engine is first built
    from proxy.detectors.pii import PiiDetectConfig, PiiDetector, PiiSpan
    from proxy.detectors.pii_engine import AnalyzerHandle

__all__ = ["Overloaded", "PiiEngine", "TooMuchToAnalyse"]


class TooMuchToAnalyse(ValueError):
    """A request asks for more new text to be analysed than its policy allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} new characters")
        self.limit = limit


class Overloaded(RuntimeError):
    """More requests wait for PII analysis than the queue allows."""


class PiiEngine:
    """The detector, built once (eagerly with :meth:`warm` or on first use), and the bound on
    concurrent analyses: ``workers`` threads, at most ``max_queue`` requests waiting for one.

    ``build`` returns a ``PiiDetector``; tests pass their own.
    """

    def __init__(self, build: Callable[[], PiiDetector], *, workers: int = 2, max_queue: int = 64) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._detector: PiiDetector | None = None
        self.workers = workers
        self.max_queue = max_queue
        self.limiter = anyio.CapacityLimiter(workers)
        self._inflight = 0  # requests waiting or running, abandoned (timed-out) threads included
        self._count_lock = threading.Lock()

    @classmethod
    def from_model(
        cls,
        model: str | None,
        *,
        workers: int = 2,
        max_queue: int = 64,
        cache_size: int = 4096,
        analyzer: Callable[[], AnalyzerHandle] | None = None,
    ) -> PiiEngine:
        """Presidio with ``model`` (patterns only when it is not installed; never downloads), built
        when the engine is warmed. ``analyzer`` builds the analyzer instead (e.g. tests sharing one
        already loaded); by default each engine builds and owns its own."""

        def build() -> PiiDetector:
            from proxy.detectors.setup import without_unused_libraries

            started = time.perf_counter()
            with without_unused_libraries():  # spaCy and Presidio load without torch (never used; ~500 MB)
                from proxy.detectors.pii import PiiDetector
                from proxy.detectors.pii_engine import build_analyzer

                handle = analyzer() if analyzer is not None else build_analyzer(model)
            get_logger().info("model_loaded", kind="pii", model=handle.model, duration_s=round(time.perf_counter() - started, 3))
            if handle.degraded:
                get_logger().warning("pii_engine_degraded", detail=f"PII ENGINE DEGRADED: {handle.detail}")
            return PiiDetector(handle, cache_size=cache_size)

        return cls(build, workers=workers, max_queue=max_queue)

    @property
    def built(self) -> PiiDetector | None:
        return self._detector

    def warm(self) -> PiiDetector:
        """Build the detector now if it is not built yet (blocking; thread-safe)."""
        with self._lock:
            if self._detector is None:
                self._detector = self._build()
            return self._detector

    def readiness(self) -> dict[str, Any]:
        """``/readyz`` check: built or not, degraded or not, and why."""
        detector = self._detector
        if detector is None:
            return {"ok": True, "loaded": False, "detail": "loads when a policy enables PII"}
        handle = detector.handle
        return {"ok": True, "loaded": True, "model": handle.model, "degraded": bool(handle.degraded), "detail": handle.detail}

    async def analyze(
        self, texts: list[str], config: PiiDetectConfig, timeout: float, *, max_new_chars: int | None = None, scope: tuple[str, ...] = ()
    ) -> dict[str, tuple[PiiSpan, ...]]:
        """Spans for each text, analysed off the event loop; raises on error, timeout or overload,
        and :class:`TooMuchToAnalyse` (before any analysis) when the texts not analysed before
        hold more than ``max_new_chars`` characters. Results are remembered per ``scope`` (the
        stage's tenant and user): a text is analysed once per scope, never answered from
        another's analysis."""
        detector = self._detector
        if detector is None:  # first use after a reload turned PII on: loading is not analysis time
            detector = await anyio.to_thread.run_sync(self.warm)
        cached = getattr(detector, "cached", None)  # test doubles may offer analyze only
        known: dict[str, tuple[PiiSpan, ...]] = cached(texts, config, scope) if cached is not None else {}
        texts = [t for t in dict.fromkeys(texts) if t not in known]
        if not texts:
            return known
        if max_new_chars is not None and sum(len(t) for t in texts) > max_new_chars:
            raise TooMuchToAnalyse(max_new_chars)
        return {**known, **await self._analyze_off_loop(detector, texts, config, timeout, scope)}

    async def _analyze_off_loop(
        self, detector: PiiDetector, texts: list[str], config: PiiDetectConfig, timeout: float, scope: tuple[str, ...] = ()
    ) -> dict[str, tuple[PiiSpan, ...]]:
        with self._count_lock:
            if self._inflight >= self.workers + self.max_queue:
                raise Overloaded("pii analysis queue full")
            self._inflight += 1

        released = False
        started = False

        def release() -> None:  # exactly once: when the work ends, or when it never started
            nonlocal released
            with self._count_lock:
                if not released:
                    released = True
                    self._inflight -= 1

        def work() -> dict[str, tuple[PiiSpan, ...]]:
            nonlocal started
            started = True
            try:
                many = getattr(detector, "analyze_many", None)  # test doubles may offer analyze only
                if getattr(detector, "cached", None) is None:  # a test double: no scopes either
                    return {t: detector.analyze(t, config) for t in texts}
                if many is None or len(texts) < 2:
                    return {t: detector.analyze(t, config, scope) for t in texts}
                return dict(zip(texts, many(texts, config, scope), strict=True))
            finally:
                release()

        try:
            with anyio.fail_after(timeout):
                # on timeout the thread is abandoned; it stays counted in _inflight until it ends
                return await anyio.to_thread.run_sync(work, limiter=self.limiter, abandon_on_cancel=True)
        except BaseException:
            if not started:
                release()
            raise
