"""The shipped example policies load cleanly and behave as documented; the JSON Schema accepts them.

(That the generated pages are current is tests/cli/test_docs.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from proxy.policy import PolicySet, check_directory, load_policy_set
from proxy.policy.reference import render_json_schema
from proxy.policy.sections.microcopy import DEFAULT_TEXTS

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return load_policy_set(POLICIES)


def test_examples_pass_the_checker() -> None:
    assert [str(i) for i in check_directory(POLICIES)] == []


def test_expected_policies_and_aliases(policies: PolicySet) -> None:
    assert set(policies.policies) == {"_base", "default", "customer-service", "healthcare-intake", "onboarding"}
    assert policies.resolve("support-agent") is policies.policies["customer-service"]
    assert policies.resolve("intake-assistant") is policies.policies["healthcare-intake"]
    assert policies.resolve("onboarding-guide") is policies.policies["onboarding"]
    assert policies.resolve("gpt-4o-mini") is policies.policies["default"]
    assert policies.resolve("some-unknown-model") is policies.policies["default"]  # allowed_models: null


def test_default_passes_the_model_through(policies: PolicySet) -> None:
    default = policies.policies["default"]
    assert default.routing.upstream_model is None
    assert default.routing.target_model("gpt-4o-mini") == "gpt-4o-mini"
    assert default.clamps.max_tokens is not None


def test_customer_service(policies: PolicySet) -> None:
    support = policies.policies["customer-service"]
    assert support.clamps.allowed_tools == ["lookup_order", "create_ticket"]
    assert support.persona.system_prompt is not None and "30 days" in support.persona.system_prompt
    assert "Use the customer's order number when you refer to an order." in support.persona.style
    assert support.persona.style[0] == policies.policies["_base"].persona.style[0]  # appended with style+
    assert support.microcopy.render("handoff", "es", reference="R-42").endswith("tu referencia es R-42.")


def test_healthcare_intake_is_strict(policies: PolicySet) -> None:
    intake = policies.policies["healthcare-intake"]
    assert intake.mode == "enforce"
    assert intake.persona.client_system == "ignore"
    assert intake.persona.placement == "replace"
    assert intake.persona.disclosure is not None and intake.persona.disclosure.when == "first_turn"
    assert any("diagnos" in s for s in intake.persona.style)
    assert intake.clamps.temperature is not None and intake.clamps.temperature.max is not None
    assert intake.clamps.temperature.max <= 0.3
    assert intake.clamps.allowed_tools == [] and intake.clamps.on_disallowed_tool == "refuse"


def test_onboarding_runs_in_shadow(policies: PolicySet) -> None:
    onboarding = policies.policies["onboarding"]
    assert onboarding.mode == "shadow"
    assert onboarding.persona.disclosure is not None
    assert onboarding.microcopy.assistant_name == "Sol"
    assert onboarding.clamps.temperature is not None and onboarding.clamps.temperature.default == 0.6


def test_every_text_renders_completely(policies: PolicySet) -> None:
    for policy in policies.policies.values():
        for language in policy.microcopy.texts:
            for kind in DEFAULT_TEXTS:
                text = policy.microcopy.render(kind, language, reference="R-1")  # type: ignore[arg-type]  # kinds from the table
                assert "{" not in text and "}" not in text, (policy.name, language, kind)
                assert text.strip()


def test_example_files_match_the_json_schema() -> None:
    schema = json.loads(render_json_schema())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(POLICIES.glob("*.yaml")):
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], path.name


def test_json_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(render_json_schema()))
    assert not validator.is_valid({"description": "d", "owner": "o", "persona": {"placement": "top"}})
    assert not validator.is_valid({"description": "d", "owner": "o", "persona": {"system_promt": "x"}})
    assert not validator.is_valid({"description": "d", "owner": "o", "routing": {"aliases+": ["x"]}})
    assert validator.is_valid({"description": "d", "owner": "o", "persona": {"style+": ["x"]}})
    assert not validator.is_valid({"description": "d"})  # owner is required ...
    assert validator.is_valid({"description": "d", "extends": "_base"})  # ... unless a parent can supply it
