"""The policy models: strict, frozen, closed; section helpers; safe templates."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from proxy.policy.microcopy import render_template, template_problems
from proxy.policy.schema import Policy
from proxy.policy.sections import Clamps, Microcopy, Routing, TemperatureRange

BASE: dict[str, Any] = {"name": "support", "description": "Support bot", "owner": "team"}


def make(**fields: Any) -> Policy:
    return Policy.model_validate({**BASE, **fields})


def errors(**fields: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as info:
        make(**fields)
    return [(tuple(e["loc"]), e["type"]) for e in info.value.errors()]


def test_minimal_policy_gets_safe_defaults() -> None:
    policy = make()
    assert policy.mode == "enforce"
    assert policy.routing.aliases == []
    assert policy.persona.placement == "prepend"
    assert policy.persona.client_system == "allow"
    assert policy.clamps.allowed_tools is None
    assert policy.microcopy.render("timeout")  # built-in English text


def test_models_are_frozen() -> None:
    policy = make()
    with pytest.raises(ValidationError):
        policy.mode = "shadow"  # proving that assignment fails
    with pytest.raises(ValidationError):
        policy.persona.language = "fr"  # nested sections too


def test_unknown_fields_are_rejected_everywhere() -> None:
    assert errors(persona={"system_promt": "x"}) == [(("persona", "system_promt"), "extra_forbidden")]
    assert errors(colour="red") == [(("colour",), "extra_forbidden")]


def test_no_type_coercion() -> None:
    assert errors(clamps={"max_tokens": "100"}) == [(("clamps", "max_tokens"), "int_type")]
    assert errors(clamps={"temperature": {"max": "0.2"}}) == [(("clamps", "temperature", "max"), "float_type")]
    assert errors(persona={"style": "be nice"}) == [(("persona", "style"), "list_type")]


def test_integers_are_accepted_for_numbers_and_version_labels_become_text() -> None:
    policy = make(clamps={"temperature": {"min": 0, "max": 1}}, version=2)
    assert policy.clamps.temperature == TemperatureRange(min=0.0, max=1.0)
    assert policy.version == "2"


@pytest.mark.parametrize("name", ["Support", "support bot", "-x", "x-", "a_b", ""])
def test_names_are_slugs(name: str) -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate({**BASE, "name": name})


def test_abstract_names_start_with_underscore() -> None:
    assert Policy.model_validate({**BASE, "name": "_base"}).name == "_base"


def test_enums() -> None:
    assert errors(mode="dry-run") == [(("mode",), "literal_error")]
    assert errors(persona={"client_system": "drop"}) == [(("persona", "client_system"), "literal_error")]
    assert errors(persona={"disclosure": {"text": "AI", "when": "always"}}) == [(("persona", "disclosure", "when"), "literal_error")]


def test_language_tags() -> None:
    assert make(persona={"language": "pt-BR"}).persona.language == "pt-BR"
    assert errors(persona={"language": "english!"}) == [(("persona", "language"), "language")]


def test_routing_aliases_must_be_unique_and_spaceless() -> None:
    assert errors(routing={"aliases": ["a", "a"]}) == [(("routing", "aliases"), "duplicate_alias")]
    assert errors(routing={"aliases": ["support agent"]}) == [(("routing", "aliases", 0), "model_name")]
    assert Routing(upstream_model="gpt-4o").target_model("support-agent") == "gpt-4o"
    assert Routing().target_model("gpt-4o-mini") == "gpt-4o-mini"


def test_ranges() -> None:
    assert errors(clamps={"temperature": {"min": 1, "max": 0.5}}) == [(("clamps", "temperature"), "range")]
    assert errors(clamps={"temperature": {"max": 0.5, "default": 0.9}}) == [(("clamps", "temperature"), "range")]
    assert errors(clamps={"temperature": {"max": 3}}) == [(("clamps", "temperature", "max"), "less_than_equal")]
    assert errors(clamps={"top_p": {"min": -0.1}}) == [(("clamps", "top_p", "min"), "greater_than_equal")]
    temperature = TemperatureRange(min=0.1, max=0.5, default=0.2)
    assert [temperature.apply(v) for v in (None, 0.0, 0.3, 1.5)] == [0.2, 0.1, 0.3, 0.5]


def test_clamp_helpers() -> None:
    clamps = Clamps(max_tokens=500, allowed_tools=["lookup_order"])
    assert [clamps.token_limit(v) for v in (None, 100, 4000)] == [500, 100, 500]
    assert Clamps().token_limit(None) is None
    assert clamps.tool_allowed("lookup_order") and not clamps.tool_allowed("delete_account")
    assert Clamps().tool_allowed("anything")
    assert errors(clamps={"max_tokens": 0}) == [(("clamps", "max_tokens"), "greater_than")]


def test_microcopy_requires_english_and_fills_it() -> None:
    assert errors(microcopy={"texts": {"es": {"refusal": "No"}}}) == [(("microcopy", "texts"), "missing_language")]
    copy = Microcopy.model_validate({"texts": {"en": {"refusal": "No, {assistant_name} can't."}}})
    assert copy.texts["en"].refusal == "No, {assistant_name} can't."
    assert copy.texts["en"].handoff  # filled from the built-in texts


def test_microcopy_language_fallback_and_rendering() -> None:
    copy = Microcopy.model_validate(
        {
            "assistant_name": "Ava",
            "support_url": "https://help.example",
            "texts": {"en": {"handoff": "Ref {reference}, see {support_url}"}, "es": {"refusal": "Lo siento, {assistant_name}"}},
        }
    )
    assert copy.render("refusal", "es-MX") == "Lo siento, Ava"
    assert copy.render("handoff", "es") == "Ref , see https://help.example"  # no reference given
    assert copy.render("handoff", "fr", reference="R-1") == "Ref R-1, see https://help.example"


def test_support_url_must_be_set_when_used() -> None:
    policy = make(microcopy={"texts": {"en": {"handoff": "Go to {support_url}"}}})
    [finding] = policy.findings()
    assert finding.loc == ("microcopy", "texts", "en", "handoff")
    disclosed = make(persona={"disclosure": {"text": "AI; help at {support_url}"}})
    assert [f.loc for f in disclosed.findings()] == [("persona", "disclosure", "text")]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("Hi {user}", "unknown template variable {user}"),
        ("{reference.__class__}", "attribute or index access {reference.__class__}"),
        ("{reference[0]}", "attribute or index access {reference[0]}"),
        ("{reference!r}", "conversions and format specs are not allowed in {reference!r}"),
        ("{reference:>10}", "conversions and format specs are not allowed in {reference:>10}"),
        ("{}", "positional field {}"),
        ("{0}", "positional field {0}"),
        ("oops {", "unbalanced brace"),
        ("oops }", "unbalanced brace"),
    ],
)
def test_unsafe_templates_are_rejected(template: str, problem: str) -> None:
    [message] = template_problems(template)
    assert message.startswith(problem)
    assert errors(microcopy={"texts": {"en": {"refusal": template}}}) == [(("microcopy", "texts", "en", "refusal"), "template")]


def test_rendering_never_raises() -> None:
    assert render_template("{{literal}} {assistant_name}", {"assistant_name": "Ava"}) == "{literal} Ava"
    assert render_template("{reference}", {}) == ""
    assert render_template("{unknown} x", {"unknown": "no"}) == " x"
    assert render_template("broken {", {}) == "broken {"
    # values are inserted verbatim, never formatted again
    assert render_template("{assistant_name}", {"assistant_name": "{reference}"}) == "{reference}"


def test_sections_are_discovered_from_the_model() -> None:
    assert Policy.section_names() == ["routing", "persona", "clamps", "microcopy", "emotion", "tone", "pii", "rails", "memory", "transcripts", "outcomes", "audit"]


def test_memory_llm_extractor_needs_its_model_and_keeps_bounds() -> None:
    assert errors(memory={"enabled": True, "extractor": "llm"}) == [(("memory",), "memory_llm")]
    policy = make(memory={"enabled": True, "extractor": "llm", "llm": {"model": "gpt-4o-mini"}})
    assert policy.memory.llm is not None
    assert (policy.memory.llm.upstream, policy.memory.llm.timeout_seconds, policy.memory.llm.prompt, policy.memory.llm.max_memories) == (None, 10.0, None, 50)
    assert errors(memory={"extractor": "llm", "llm": {"model": "has space"}})
    assert errors(memory={"extractor": "llm", "llm": {"model": "m", "timeout_seconds": 0}})
    assert errors(memory={"extractor": "llm", "llm": {"model": "m", "prompt": ""}})
    assert errors(memory={"extractor": "neural"})
