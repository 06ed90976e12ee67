"""Policies for the check tests: loaded from YAML like an operator's, resolved by alias."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from proxy.policy import PolicyStore
from tests.stages.rails_harness import write_policy


@pytest.fixture
def make_policy(tmp_path: Path) -> Callable[[str], Any]:
    """``make_policy(yaml)``: the resolved policy of one ``default`` policy file."""

    def make(body: str) -> Any:
        write_policy(tmp_path, "default", body)
        return PolicyStore(tmp_path).current.resolve("anything")

    return make
