"""The hold-back window: check and rewrite reply text that may span chunk boundaries.

A placeholder (``<PERSON_1>``), a banned phrase or a leaked e-mail can arrive split across stream
chunks. :func:`windowed` keeps the unreleased tail of each choice's text (and of each tool call's
arguments) in a buffer, hands the buffer to a processor after every delta, and releases all but
the characters the processor asks to hold back. Nothing reaches the client before a processor has
seen it in full context, and time to first token grows only by the window.

For ``stream=false`` replies the same code runs over the deltas of the whole body, so a check
written once behaves identically in both modes; with ``whole=True`` (nobody reads a JSON reply
before it ends) each choice's text and each tool call's arguments go to the processor once, whole,
at their end, instead of once per delta.

How much to hold is each processor's own answer, derived from what it looks for, never a fixed
span: the text that could still become a match (a partial e-mail or phone number, a fragment that
may grow into a placeholder, the first words of a banned phrase, the unfinished last word). When
stages nest windows (the PII stage's around the output rails'), the client waits for the longer of
their holds: an inner window releases only what its checks have settled, and the outer one holds
what its own checks have not.

A processor is a plain function ``(pending, final) -> WindowResult``:

* ``pending`` is the text not yet released (for the first call: the start of the reply);
* ``final`` is True at the end of the choice (or tool call): hold nothing back then;
* it returns the (possibly rewritten) pending text, how many trailing characters of it to keep
  back, and optionally ``stop``: a message that ends the choice here with
  ``finish_reason="content_filter"`` (the released part of ``text`` is sent first).

Invariant the processors rely on: if every match a processor looks for is at most ``L`` characters
long and it holds back at least ``L - 1`` characters, every match lies wholly inside ``pending``
when it is first complete.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta, ToolCallDelta


@dataclass(frozen=True, slots=True)
class WindowResult:
    text: str
    hold: int = 0
    stop: str | None = None
    stop_reason: str = "content_filter"


Processor = Callable[[str, bool], WindowResult]


class _Buffer:
    """Unreleased text of one choice, and the logprob entries of it with their character spans."""

    __slots__ = ("pending", "tokens")

    def __init__(self) -> None:
        self.pending = ""
        #: (start, end, entry) relative to the start of ``pending``
        self.tokens: list[tuple[int, int, Any]] = []

    def add(self, text: str, logprobs: Any) -> None:
        start = len(self.pending)
        self.pending += text
        entries = logprobs.get("content") if isinstance(logprobs, dict) else None
        if not isinstance(entries, list):
            return
        lengths = [len(e.get("token", "")) if isinstance(e, dict) else 0 for e in entries]
        if sum(lengths) == len(text):
            pos = start
            for entry, n in zip(entries, lengths, strict=True):
                self.tokens.append((pos, pos + n, entry))
                pos += n
        else:  # tokens do not spell the text: tie every entry to the whole delta
            self.tokens.extend((start, start + len(text), e) for e in entries)

    def release(self, cut: int, rewritten: bool) -> Any:
        """Logprobs for ``pending[:cut]``; entries of rewritten text are dropped, never released."""
        if not self.tokens:
            return None
        if rewritten:
            self.tokens = []
            return None
        out = [e for s, end, e in self.tokens if end <= cut]
        self.tokens = [(s - cut, end - cut, e) for s, end, e in self.tokens if end > cut]
        return {"content": out, "refusal": None} if out else None


async def windowed(
    deltas: AsyncIterator[Delta],
    text: Processor | None = None,
    tool_args: Processor | None = None,
    *,
    choices: int = 1,
    whole: bool = False,
) -> AsyncIterator[Delta]:
    """Run ``text`` over each choice's text and ``tool_args`` over each tool call's arguments.

    When all ``choices`` have been stopped by a processor, the upstream is closed (cancelled) at
    once rather than drained. ``whole``: call the processors only at the end of each text and
    tool call (a reply collected into one JSON body), so each is read once.
    """
    texts: dict[int, _Buffer] = {}
    args: dict[tuple[int, int], str] = {}
    stopped: set[int] = set()

    def release_text(choice: int, final: bool) -> tuple[list[Delta], bool]:
        buf = texts.get(choice)
        if buf is None or text is None or (not final and (whole or not buf.pending)):
            return [], False
        result = text(buf.pending, final)
        out: list[Delta] = []
        rewritten = result.text != buf.pending
        if result.stop is not None:
            if result.text:
                out.append(TextDelta(result.text, choice, buf.release(len(result.text), rewritten)))
            buf.tokens = []  # nothing after the stop is described to the client
            out.append(TextDelta(result.stop, choice))
            out.append(FinishDelta(result.stop_reason, choice))
            buf.pending = ""
            return out, True
        hold = 0 if final else max(0, min(result.hold, len(result.text)))
        cut = len(result.text) - hold
        if rewritten:
            buf.release(0, True)
        if cut > 0:
            out.append(TextDelta(result.text[:cut], choice, buf.release(cut, False)))
        buf.pending = result.text[cut:]
        return out, False

    def release_args(key: tuple[int, int], final: bool) -> tuple[list[Delta], bool]:
        pending = args.get(key)
        if pending is None or tool_args is None or (whole and not final):
            return [], False
        result = tool_args(pending, final)
        choice, index = key
        if result.stop is not None:
            args.pop(key, None)
            return [TextDelta(result.stop, choice), FinishDelta(result.stop_reason, choice)], True
        hold = 0 if final else max(0, min(result.hold, len(result.text)))
        cut = len(result.text) - hold
        args[key] = result.text[cut:]
        if cut > 0:
            return [ToolCallDelta(index=index, choice=choice, arguments=result.text[:cut], type=None)], False
        return [], False

    try:
        async for delta in deltas:
            choice = getattr(delta, "choice", None)
            if choice is not None and choice in stopped:
                continue
            if isinstance(delta, TextDelta) and text is not None:
                buf = texts.setdefault(delta.choice, _Buffer())
                buf.add(delta.text, delta.logprobs)
                out, stop = release_text(delta.choice, False)
            elif isinstance(delta, ToolCallDelta) and tool_args is not None:
                out, stop = release_text(delta.choice, True)
                key = (delta.choice, delta.index)
                if not stop and (delta.id is not None or delta.name is not None):
                    # flush the previous call of this choice before a new one starts
                    for other in [k for k in args if k[0] == delta.choice and k != key]:
                        more, stop = release_args(other, True)
                        out += more
                        args.pop(other, None)
                        if stop:
                            break
                    if not stop:
                        out.append(ToolCallDelta(delta.index, delta.choice, delta.id, delta.name, "", delta.type))
                if not stop:
                    args[key] = args.get(key, "") + delta.arguments
                    more, stop = release_args(key, False)
                    out += more
            elif isinstance(delta, FinishDelta):
                out, stop = release_text(delta.choice, True)
                for key in [k for k in args if k[0] == delta.choice]:
                    if stop:
                        break
                    more, stop = release_args(key, True)
                    out += more
                    args.pop(key, None)
                if not stop:
                    out.append(delta)
                    texts.pop(delta.choice, None)  # released whole: the end of the reply has nothing left to flush here
            else:
                out, stop = [delta], False
            for item in out:
                yield item
            if stop and choice is not None:
                stopped.add(choice)
                texts.pop(choice, None)
                if len(stopped) >= choices:
                    return
        # upstream ended without a finish for some choices: flush what is held
        for choice in list(texts):
            if choice not in stopped:
                out, _ = release_text(choice, True)
                for item in out:
                    yield item
    finally:
        aclose = getattr(deltas, "aclose", None)
        if aclose is not None:
            await aclose()

