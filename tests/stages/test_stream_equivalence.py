"""Property tests of the hold-back windows as the app nests them: the output rails' window inside
the PII stage's (placeholders restored, model-made PII masked), over replies mixing prose,
placeholders, personal data and banned phrases, cut into random chunks.

For every chunking: the streamed reply equals the reply read whole (``stream=false``), with the
same finish reason; every text the client had seen at any moment is a prefix of it and carries no banned phrase and
no placeholder the vault issued; the whole reply carries no structured personal data either.
The policies are the shipped default policy (``policies/``: forbidden phrases block, persona drift
fix, system-prompt leak block, PII masked and restored) and a variant whose rails ``fix`` instead,
so text goes on after each match.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from proxy.checks.output_rails import compile_output_rails
from proxy.checks.output_scan import OutputScan
from proxy.detectors import structured_pii
from proxy.metrics import Metrics
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta
from proxy.pipeline.holdback import windowed
from proxy.policy import PolicyStore
from proxy.privacy.pseudonyms import PseudonymVault
from proxy.rails.metrics import RailsMetrics
from proxy.stages.pii_output import OutputScanner, ReplyProcessor
from tests.stages.rails_harness import write_policy

ROOT = Path(__file__).resolve().parents[2]
BANNED = ("calm down", "as a large language model", "as an ai language model", "my instructions are")
WORDS = ("Your", "order", "shipped", "yesterday", "and", "I", "can", "help", "the", "tracking", "link", "is", "ready", "Thanks", "a", "refund", "x1", "AB", "DE")
PLACEHOLDERS = ("<PERSON_1>", "[PERSON_1]", "PERSON_1", "< PERSON_1 >", "<LOCATION_1>", "<PERSON_2>")
PII = ("ann.lee@example.com", "+1 415 555 0100", "(415) 555-0100", "4111 1111 1111 1111", "10.0.0.7", "123-45-6789", "DE89 3704 0044 0532 0130 00", "bob@mail.example.org.")
PHRASES = ("calm down", "Calm  down", "as a large language model", "As an AI language model", "my instructions are")
PUNCT = (". ", ", ", " (", ") ", "; ", "! ", "\n", "", ":", "-", "<", "[", "+")

# a value stands apart from its neighbours (", " after it): glued to a word or to the digits of
# another value it is no value, or another one, for the detector itself, in both modes alike
segment = st.one_of(st.sampled_from(WORDS), st.sampled_from(PLACEHOLDERS), st.sampled_from([f" {v}, " for v in PII]), st.sampled_from(PHRASES), st.sampled_from(PUNCT))


@st.composite
def replies(draw: Any) -> tuple[str, list[str]]:
    parts = draw(st.lists(segment, min_size=1, max_size=14))
    seps = draw(st.lists(st.sampled_from([" ", " ", " ", "", ", "]), min_size=len(parts), max_size=len(parts)))
    text = "".join(p + s for p, s in zip(parts, seps, strict=True))
    if not text:
        text = "ok"
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=12))))
    bounds = [0, *[c for c in cuts if 0 < c < len(text)], len(text)]
    return text, [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _policies(tmp: Path) -> dict[str, Any]:
    write_policy(
        tmp,
        "default",  # serves any model
        """
        persona:
          system_prompt: You are Ava, the helpful assistant of Acme. Keep answers short and kind to every customer.
          forbidden_phrases: ["calm down"]
        pii: {enabled: true, output: {detect: true, action: mask}}
        rails:
          output:
            - {check: forbidden_phrases, action: fix, phrases: ["as a large language model"]}
            - {check: persona_drift, action: fix}
            - {check: system_prompt_leak, action: fix}
            - {check: over_empathy, action: fix, max_apologies: 1}
        """,
    )
    return {
        "default": PolicyStore(ROOT / "policies").current.resolve("gpt-4o-mini"),
        "fixing": PolicyStore(tmp).current.resolve("anything"),
    }


async def _deltas(pieces: Sequence[str]) -> AsyncIterator[Delta]:
    for piece in pieces:
        yield TextDelta(piece)
    yield FinishDelta("stop")


def _vault() -> PseudonymVault:
    vault = PseudonymVault()
    vault.placeholder_for("PERSON", "Ann Lee")
    vault.placeholder_for("LOCATION", "Leeds")
    return vault


async def _run(policy: Any, pieces: Sequence[str], *, stream: bool) -> tuple[list[str], str | None]:
    """The reply as the client receives it: each text delta, and the finish reason."""
    ctx = RequestContext(request_id="r", endpoint="chat", body={"stream": stream, "messages": [{"role": "user", "content": "hi"}]}, headers={})
    ctx.policy = policy
    scan = OutputScan(compile_output_rails(policy), ctx, RailsMetrics(Metrics()), enforce=True, allow_reask=False, refusal="Sorry, not that.", handoff_text="A person will help.")
    text = ReplyProcessor(vault=_vault(), scanner=OutputScanner(), mask=True)
    args = ReplyProcessor(vault=_vault(), scanner=OutputScanner(), mask=True, json_escape=True)
    seen: list[str] = []
    finish: str | None = None
    async for d in windowed(scan.run(_deltas(pieces), 1), text, args, whole=not stream):
        if isinstance(d, TextDelta):
            seen.append(d.text)
        elif isinstance(d, FinishDelta):
            finish = d.reason
    return seen, finish


def _forbidden(text: str, *, whole: bool = True) -> list[str]:
    """Banned phrases and issued placeholders in ``text``; with ``whole``, structured PII too (a
    prefix may end in a value the reply then goes on to make no value: "+1 415 555 0100 4111")."""
    # read as the checks read the model's text: a masked value was a run of letters and digits there
    # ("4111 1111 1111 1111calm down" holds no whole-word phrase; masked, it reads "<CREDIT_CARD>calm
    # down"): "_" is a word character no value can begin with
    text = re.sub("<(?:" + "|".join(structured_pii.ENTITIES) + ")>", "_", text)
    found = [p for p in BANNED if re.search(r"(?<!\w)" + r"\s+".join(p.split()) + r"(?!\w)", text, re.IGNORECASE)]
    found += [p for p in ("<PERSON_1>", "[PERSON_1]", "<LOCATION_1>", "< PERSON_1 >") if p in text]
    if whole:
        found += [m.entity for m in structured_pii.find(text)]
    return found


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _policies(tmp_path_factory.mktemp("policies"))


@pytest.mark.parametrize("name", ["default", "fixing"])
# derandomize: the same 300 examples on every run, so CI is repeatable (hunt wider by hand with a seed)
@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reply=replies())
def test_a_streamed_reply_equals_the_reply_read_whole(policies: dict[str, Any], name: str, reply: tuple[str, list[str]]) -> None:
    text, pieces = reply
    policy = policies[name]
    note(f"reply {text!r} in {pieces!r}")
    whole, whole_finish = asyncio.run(_run(policy, [text], stream=False))
    streamed, finish = asyncio.run(_run(policy, pieces, stream=True))
    reference = "".join(whole)
    assert "".join(streamed) == reference
    assert finish == whole_finish
    shown = ""
    for piece in streamed:  # every moment of the stream
        shown += piece
        assert reference.startswith(shown)
        assert not _forbidden(shown, whole=False), (shown, _forbidden(shown, whole=False))
    assert not _forbidden(reference), (reference, _forbidden(reference))


@pytest.mark.parametrize("name", ["default", "fixing"])
@pytest.mark.parametrize(
    "text",
    [
        "Mail ann.lee@example.com or call +1 415 555 0100, <PERSON_1>.",
        "Please calm down, <PERSON_1>; as an AI language model I can help.",
        "Card 4111 1111 1111 1111 and IBAN DE89 3704 0044 0532 0130 00 for [PERSON_1] in <LOCATION_1>.",
    ],
)
def test_every_split_point_gives_the_same_reply(policies: dict[str, Any], name: str, text: str) -> None:
    policy = policies[name]
    whole, whole_finish = asyncio.run(_run(policy, [text], stream=False))
    for i in range(1, len(text)):
        for j in (i + 1, i + 3, i + 7):
            pieces = [p for p in (text[:i], text[i:j], text[j:]) if p]
            streamed, finish = asyncio.run(_run(policy, pieces, stream=True))
            assert "".join(streamed) == "".join(whole) and finish == whole_finish, pieces
    assert not _forbidden("".join(whole))
