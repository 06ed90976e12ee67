"""The output rails engine: scan one reply in the hold-back window with a policy's compiled checks.

:class:`OutputScan` takes the :class:`~proxy.checks.output_rails.OutputRules` of
:func:`~proxy.checks.output_rails.compile_output_rails` (cached by the stage per policy version)
and holds one reply's state (per choice: apologies
counted, disclosure seen, checks failed) and provides the two hold-back processors
(:mod:`proxy.pipeline.holdback`): ``text`` for each choice's text and ``tool_args`` for each tool
call's arguments.

How a processor call works on ``pending`` (the unreleased text):

1. **Where it is safe to cut.** Everything up to ``cut`` is released; the rest is held. ``cut``
   starts at the end (or, before the end of the reply, at the last word boundary) and moves left
   past anything that might still become a match: a match crossing ``cut``, a *partial* match at
   the end (``regex`` partial matching: ``"…please cal"`` may become "calm down"), a complete match
   that optional words may still extend ("I'm sorry" → "I'm sorry for the delay."), and the last
   words of the reply when they begin a run of the persona prompt, and a span ``fix`` removes until
   the word after it is in sight (the removal takes the comma and spaces after it and capitalises
   that word), and with a ``fix`` rail the trailing spaces (the one before "calm down." goes with
   it). So the window is dynamic:
   usually only the last, unfinished word is held, and time to first token grows by that.
2. **Acting on matches before ``cut``**, in text order, each exactly once (released text never
   comes back): ``block`` / ``handoff`` stop the choice here with the policy's text and
   ``finish_reason: "content_filter"``; ``fix`` rewrites the span (phrases and extra apologies are
   removed, personal data becomes ``<ENTITY>``); ``log`` records; ``reask`` raises
   :class:`ReaskNeeded` when the stage allows one (non-streaming, first attempt) and otherwise acts
   as ``block``. In ``shadow`` mode every failure is recorded as ``would_<action>`` and the text is
   left alone.

The required disclosure is a prefix check: while the reply is shorter than the disclosure plus 40
characters and does not contain it yet, everything is held; then it passes, or fails (``fix``
prepends it). Because each match is judged once, whole, a stream and the same reply as one JSON
body get the same verdicts at every chunk split.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from proxy.checks.base import SpanCheck
from proxy.checks.output_rails import OutputRules
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import Delta
from proxy.pipeline.holdback import WindowResult, windowed
from proxy.rails.metrics import RailsMetrics
from proxy.rails.text import capitalise_at, extend_removal, word_cut

__all__ = ["DECISION", "OutputScan", "ReaskNeeded"]

#: the decision the scan records its failures under (the output rails stage's name)
DECISION = "output_rails"
_MAX_RECORDED = 20


class ReaskNeeded(Exception):
    """Raised inside the scan when a ``reask`` rail fails and a reask is allowed."""

    def __init__(self, check: str, correction: str) -> None:
        super().__init__(check)
        self.check = check
        self.correction = correction


@dataclass(slots=True)
class _Choice:
    counts: dict[str, int] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    disclosure_pending: bool = False
    #: the last character released, and the last one that is not a space or tab
    last_char: str = ""
    last_mark: str = ""
    finished: bool = False


class OutputScan:
    """One reply's output-rail state and its hold-back processors."""

    def __init__(
        self,
        rules: OutputRules,
        ctx: RequestContext,
        metrics: RailsMetrics,
        *,
        enforce: bool,
        allow_reask: bool,
        refusal: str,
        handoff_text: str,
        on_handoff: Callable[[str, tuple[str, ...]], Awaitable[None] | None] | None = None,
    ) -> None:
        self.rules = rules
        self.ctx = ctx
        self.metrics = metrics
        self.enforce = enforce
        self.allow_reask = allow_reask
        self.refusal = refusal
        self.handoff_text = handoff_text
        self.on_handoff = on_handoff
        self.policy = getattr(ctx.policy, "name", "none")
        messages = ctx.body.get("messages") or []
        history = ctx.facts.get("thread")  # earlier turns an upstream keeps (not resent) make this a later turn too
        first_turn = not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages) and not (history is not None and history.user_turns)
        d = rules.disclosure
        self._disclosure_due = d is not None and (d.every_turn or first_turn)
        self._choices: dict[int, _Choice] = {}
        #: whether a ``fix`` may remove a span (and the space before it): trailing spaces are then held
        self._removes = any(r.action == "fix" for r in rules.rules)
        self._handed_off = False
        #: whether a rail of these rules hands off (only then can a window callback start work to await)
        self._may_hand_off = any(r.action == "handoff" for r in rules.rules) or (d is not None and d.action == "handoff")
        #: handoff work (the outbox write) started by a window callback, awaited before the next delta leaves
        self._pending: list[Awaitable[None]] = []
        #: the choice of the delta being processed (set by :meth:`run`'s tracker)
        self.current = 0

    # ---- wiring -----------------------------------------------------------------------------
    def run(self, deltas: AsyncIterator[Delta], choices: int) -> AsyncIterator[Delta]:
        """``deltas`` through the hold-back window with this scan's processors (a reply collected
        into one JSON body is read once, whole)."""
        tool_args = self.tool_args if self.rules.tool_rules else None
        window = windowed(self._track(deltas), text=self.text, tool_args=tool_args, choices=choices, whole=not self.ctx.stream)
        if self.on_handoff is None or not self._may_hand_off:
            return window  # no rail can start handoff work: nothing to wait for between deltas
        return self._settled(window)

    async def _settled(self, deltas: AsyncIterator[Delta]) -> AsyncIterator[Delta]:
        """Each delta once the handoff work its window raised is done (the event is in the outbox
        before the handoff text reaches the person)."""
        try:
            async for delta in deltas:
                while self._pending:
                    await self._pending.pop(0)
                yield delta
            while self._pending:
                await self._pending.pop(0)
        finally:
            aclose = getattr(deltas, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _track(self, deltas: AsyncIterator[Delta]) -> AsyncIterator[Delta]:
        # holdback calls a processor while handling a delta of one choice: remember which
        try:
            async for delta in deltas:
                choice = getattr(delta, "choice", None)
                if choice is not None:
                    self.current = choice
                yield delta
        finally:
            aclose = getattr(deltas, "aclose", None)
            if aclose is not None:
                await aclose()

    def _state(self) -> _Choice:
        st = self._choices.get(self.current)
        if st is None:
            st = self._choices[self.current] = _Choice(disclosure_pending=self._disclosure_due)
        return st

    # ---- failures ---------------------------------------------------------------------------
    def _fail(self, st: _Choice | None, check: str, action: str, reasons: tuple[str, ...], correction: str) -> str:
        """Record a failure; returns the action to take (``shadow`` when only recording)."""
        if action == "reask":
            if self.allow_reask and self.enforce:
                raise ReaskNeeded(check, correction)
            action = "block"
        if st is None or check not in st.failed:
            if st is not None:
                st.failed.add(check)
            self.metrics.child(self.metrics.verdicts, self.policy, "output", check, "fail").inc()
        taken = action if self.enforce else "shadow"
        self.metrics.child(self.metrics.actions, self.policy, "output", check, taken).inc()
        decision = self.ctx.decisions.setdefault(DECISION, {})
        recorded = decision.setdefault("failures", [])
        if len(recorded) < _MAX_RECORDED:
            recorded.append({"check": check, "action": action if self.enforce else f"would_{action}", "reasons": list(reasons)})
        if taken == "handoff" and not self._handed_off:
            self._handed_off = True
            self.ctx.response_headers["x-bedside-rails"] = "handoff"
            if self.on_handoff is not None:
                started = self.on_handoff(check, reasons)
                if started is not None:
                    self._pending.append(started)
        elif taken == "block":
            self.ctx.response_headers.setdefault("x-bedside-rails", "blocked")
        return taken

    def _stop_text(self, action: str) -> str:
        return self.handoff_text if action == "handoff" else self.refusal

    def _finish(self, st: _Choice) -> None:
        if st.finished:
            return
        st.finished = True
        for rule in self.rules.rules:
            if rule.check not in st.failed:
                self.metrics.child(self.metrics.verdicts, self.policy, "output", rule.check, "pass").inc()

    # ---- processors -------------------------------------------------------------------------
    def text(self, pending: str, final: bool) -> WindowResult:
        st = self._state()
        prefix = ""
        if st.disclosure_pending:
            d = self.rules.disclosure
            assert d is not None
            folded = " ".join(pending[: d.need].split()).casefold()
            found = " ".join(d.text.split()).casefold() in folded
            if not found and not final and len(pending) < d.need:
                return WindowResult(pending, hold=len(pending))
            st.disclosure_pending = False
            if found:
                self.metrics.child(self.metrics.verdicts, self.policy, "output", "required_disclosure", "pass").inc()
            else:
                taken = self._fail(st, "required_disclosure", d.action, ("disclosure_missing",), f'Begin your reply with this disclosure, word for word: "{d.text}"')
                if taken in ("block", "handoff"):
                    st.finished = True
                    return WindowResult("", stop=self._stop_text(taken))
                if taken == "fix":
                    prefix = d.text + "\n\n"
                    pending = pending.lstrip()
        result = self._scan(st, pending, final, self.rules.rules, prose=True, trigger=self.rules.trigger)
        if prefix:
            result = WindowResult(prefix + result.text, hold=result.hold, stop=result.stop)
        released = result.text[: len(result.text) - result.hold] if result.stop is None else result.text
        if released:
            st.last_char = released[-1]
            stripped = released.rstrip(" \t")
            if stripped:
                st.last_mark = stripped[-1]
        if final or result.stop is not None:
            self._finish(st)
        return result

    def tool_args(self, pending: str, final: bool) -> WindowResult:
        return self._scan(None, pending, final, self.rules.tool_rules, prose=False)

    def _scan(self, st: _Choice | None, text: str, final: bool, rules: tuple[SpanCheck, ...], *, prose: bool, trigger: Any = None) -> WindowResult:
        # no mirror matches (one search for all rules): only a prompt-run check can still find a span
        mirrored = None if trigger is None or trigger.search(text) is not None else False
        spans = [(s, e, reason, rule) for rule in rules if mirrored is None or rule.shingles for s, e, reason in rule.spans(text, mirrored)]
        cut = len(text)
        if not final:
            cut = word_cut(text)
            for rule in rules:
                cut = min(cut, rule.hold_from(text, final))
            for s, e, _, rule in spans:
                if rule.action == "fix" and not text[e:].strip(" \t,;:"):
                    cut = min(cut, s)  # a removal also takes the punctuation and spaces after it, and
                    # capitalises the next word: hold it until that word is in sight
            if self._removes:
                while cut > 0 and text[cut - 1] in " \t":
                    cut -= 1  # "please calm down." becomes "please.": the space before may yet go
            moved = True
            while moved:
                moved = False
                for s, e, _, _ in spans:
                    if s < cut < e:
                        cut, moved = s, True
        out: list[str] = []
        caps: list[int] = []
        pos = 0
        for s, e, reason, rule in sorted((x for x in spans if x[1] <= cut), key=lambda x: (x[0], -x[1])):
            if s < pos:
                continue  # inside a span already rewritten
            if rule.limit is not None and st is not None:
                st.counts[rule.check] = st.counts.get(rule.check, 0) + 1
                if st.counts[rule.check] <= rule.limit:
                    continue
            taken = self._fail(st, rule.check, rule.action, (reason,) if rule.limit is None else (f"apologies:{st.counts[rule.check] if st else 0}",), rule.correction)
            if taken in ("block", "handoff"):
                before = "".join(out) + text[pos:s]
                for p in caps:  # a word an earlier removal left at a sentence start
                    before = capitalise_at(before, p)
                last = before[-1:] or (st.last_char if st is not None else "")
                sep = " " if prose and last and not last.isspace() else ""
                if st is not None:
                    st.finished = True
                return WindowResult(before, stop=sep + self._stop_text(taken))
            if taken != "fix":
                continue
            out.append(text[pos:s])
            replacement = rule.replacement(reason)
            if not replacement:
                before_last = (out[-1][-1:] if out[-1] else "") or (st.last_char if st is not None and len(out) == 1 else "")
                if e < len(text) and text[e] in ".!?" and s - 1 >= pos and text[s - 1] in " \t":
                    out[-1] = out[-1][:-1]  # "please calm down." -> "please." rather than "please ."
                else:
                    e = extend_removal(text, s, e, before_last)
                so_far = "".join(out)
                stripped = so_far.rstrip(" \t")
                prev = stripped[-1:] if stripped else (st.last_mark if st is not None else "")
                if prose and prev in ("", ".", "!", "?", "\n"):
                    caps.append(len(so_far))
            out.append(replacement)
            pos = e
        released = "".join(out) + (text[pos:cut] if pos < cut else "")
        rest = text[max(pos, cut) :]
        new = released + rest
        for p in caps:
            new = capitalise_at(new, p)
        return WindowResult(new, hold=len(rest))
