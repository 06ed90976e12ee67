"""The input rails engine: which texts of a request the input checks read, and running them.

* ``user``: the latest user message;
* ``tool``: tool results (``role: tool`` / ``function``) after the last assistant message;
* ``document``: the client's own system/developer messages (where retrieval apps put documents);
  Bedside's own (``[bedside:``) messages are not documents;
* ``pasted``: untrusted text inside a message: blocks the person pasted into the latest user
  message (quotes, fenced blocks, e-mails, a long body after "summarise this:";
  :func:`proxy.detectors.indirect.pasted_blocks`) and content parts of any message the client
  marks ``"document": true``.

Only ``jailbreak`` reads tool results, documents and pasted blocks (as untrusted text, with the
indirect-injection detector); the other input checks judge the person's own words (their
sources are narrowed to ``user`` when compiled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from proxy.checks.base import InputCheck
from proxy.checks.input_memo import VerdictMemo
from proxy.checks.registry import compile_check
from proxy.detectors.indirect import pasted_blocks, pasted_spans
from proxy.marks import BEDSIDE_MARK
from proxy.rails.messages import document_parts, text_of
from proxy.rails.run import run_validators

__all__ = ["InputFailure", "InputText", "compile_input_rails", "evaluate", "evaluate_remote", "input_texts", "strongest"]

#: When several rails fail, the strongest action wins.
SEVERITY = {"handoff": 4, "block": 3, "fix": 2, "reask": 3, "log": 1}


@dataclass(frozen=True, slots=True)
class InputText:
    """One text an input rail may check: where it came from and the message index."""

    source: str
    text: str
    index: int
    #: for a ``user`` text holding pasted blocks: the person's own words around them
    own: str | None = None


@dataclass(frozen=True, slots=True)
class InputFailure:
    """One failed check on one text: reason names (never text), the action, and a fix if any."""

    check: str
    source: str
    reasons: tuple[str, ...]
    action: str
    fix: str | None
    index: int


def input_texts(messages: Any, spans_of: Callable[[str], list[tuple[int, int]]] = pasted_spans) -> list[InputText]:
    """The texts of a chat request the input rails look at, by source (see the module doc).
    ``spans_of``: :func:`~proxy.detectors.indirect.pasted_spans`, or a request's memo of it (the
    stage hands the same one to the spotlight, so a message's pasted parts are found once)."""
    out: list[InputText] = []
    if not isinstance(messages, list):
        return out
    last_user = last_assistant = -1
    for i, m in enumerate(messages):
        if isinstance(m, dict):
            if m.get("role") == "user":
                last_user = i
            elif m.get("role") == "assistant":
                last_assistant = i
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            continue
        out += [InputText("pasted", doc, i) for doc in document_parts(m.get("content"))]
        role = m.get("role")
        text = text_of(m.get("content"))
        if not text.strip():
            continue
        if role == "user" and i == last_user:
            spans = spans_of(text)
            own = "\n".join(text[a:b] for a, b in zip([0, *(e for _, e in spans)], [*(s for s, _ in spans), len(text)], strict=True)) if spans else None
            out.append(InputText("user", text, i, own))
            out += [InputText("pasted", block, i) for block in pasted_blocks(text, spans=spans)]
        elif role in ("tool", "function") and i > last_assistant:
            out.append(InputText("tool", text, i))
        elif role in ("system", "developer") and not text.startswith(BEDSIDE_MARK):
            out.append(InputText("document", text, i))
    return out


def compile_input_rails(policy: Any) -> tuple[InputCheck, ...]:
    """The compiled ``rails.input`` of ``policy``, in order (validators built once per policy version)."""
    out: list[InputCheck] = []
    for rule in policy.rails.input:
        check = compile_check("input", rule, policy)
        assert isinstance(check, InputCheck), rule.check
        out.append(check)
    return tuple(out)


def evaluate(
    checks: Sequence[InputCheck], texts: Sequence[InputText], verdict: Any = None, *, memo: VerdictMemo | None = None, scope: tuple[Any, ...] = ()
) -> list[InputFailure]:
    """Run every check over the texts it applies to; returns the failures (thread-safe).

    ``verdict(check, "pass" | "fail" | "error")`` is called once per check. A validator error
    blocks, and so does a ``fix`` that has no fixed text (fail closed). With a ``memo``, a text
    this ``scope`` (tenant, user, policy version) already had judged by a check is not judged
    again: its remembered reason names stand (see :mod:`proxy.checks.input_memo`)."""
    failures: list[InputFailure] = []
    for position, check in enumerate(checks):
        if check.remote is not None:
            continue  # awaited by the stage (evaluate_remote)
        result = "pass"
        for item in texts:
            if item.source not in check.sources:
                continue
            text = item.own if check.own_words and item.own is not None else item.text
            fragment = text is not item.text
            key = memo.key(scope, position, check.check, item.source, fragment, text) if memo is not None else None
            known = memo.get(key) if memo is not None and key is not None else None
            if known is not None:
                found: tuple[tuple[tuple[str, ...], str | None], ...] = tuple((reasons, None) for reasons in known)
            else:
                outcome = run_validators(text, [check.validator], metadata={"source": item.source, "fragment": fragment})
                found = tuple((f.reasons, f.fix_value) for f in outcome.failures)
                if memo is not None and key is not None and all(fix is None and "validator_error" not in reasons for reasons, fix in found):
                    memo.put(key, tuple(reasons for reasons, _ in found))
            for reasons, fix_value in found:
                error = "validator_error" in reasons
                result = "error" if error else "fail"
                wanted = check.action_for(reasons)
                action = "block" if error or (wanted == "fix" and fix_value is None) else wanted
                failures.append(InputFailure(check.check, item.source, reasons, action, fix_value, item.index))
        if verdict is not None:
            verdict(check.check, result)
    return failures


async def evaluate_remote(checks: Sequence[InputCheck], texts: Sequence[InputText], verdict: Any = None) -> list[InputFailure]:
    """Await the checks that judge remotely (``moderation``); a judge's own failure mode decides
    what an unreachable endpoint means (it returns ``("<check>_error",)`` reasons to block)."""
    failures: list[InputFailure] = []
    for check in checks:
        if check.remote is None:
            continue
        result = "pass"
        for item in texts:
            if item.source not in check.sources:
                continue
            reasons = await check.remote(item.text)
            if reasons:
                result = "error" if reasons[0].endswith("_error") else "fail"
                action = "block" if result == "error" else check.action_for(reasons)
                failures.append(InputFailure(check.check, item.source, tuple(reasons), action, None, item.index))
        if verdict is not None:
            verdict(check.check, result)
    return failures


def strongest(failures: Sequence[InputFailure]) -> InputFailure:
    """The first failure with the strongest action (handoff > block > fix > log)."""
    action = max((f.action for f in failures), key=lambda a: SEVERITY[a])
    return next(f for f in failures if f.action == action)
