"""The registry names exactly the checks the policy schema allows, each a module with ``compile``."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import get_args

from proxy.checks.registry import INPUT_CHECKS, OUTPUT_CHECKS
from proxy.policy.sections.rails import InputCheck, OutputCheck

CHECKS_DIR = Path(__file__).resolve().parents[2] / "proxy" / "checks"


def test_every_schema_check_has_a_module_and_every_module_is_in_the_schema() -> None:
    assert set(INPUT_CHECKS) == set(get_args(InputCheck))
    assert set(OUTPUT_CHECKS) == set(get_args(OutputCheck))
    assert not set(INPUT_CHECKS) & set(OUTPUT_CHECKS)


def test_each_check_is_its_own_module_named_after_it_with_compile() -> None:
    for name, module in {**INPUT_CHECKS, **OUTPUT_CHECKS}.items():
        assert module.__name__ == f"proxy.checks.{name}"
        assert list(inspect.signature(module.compile).parameters) == ["rule", "policy"]


def test_no_check_module_is_left_out_of_the_registry() -> None:
    engine = {"__init__", "base", "registry", "phrases", "input_rails", "input_memo", "output_rails", "output_scan"}
    modules = {p.stem for p in CHECKS_DIR.glob("*.py")} - engine
    assert modules == set(INPUT_CHECKS) | set(OUTPUT_CHECKS)
