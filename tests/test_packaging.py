"""Installing Bedside (``make run`` runs ``pip install -e .``) prints no deprecation warning."""

from __future__ import annotations

import warnings
from pathlib import Path

from setuptools.config.pyprojecttoml import apply_configuration
from setuptools.dist import Distribution

REPO = Path(__file__).resolve().parents[1]


def test_the_project_metadata_applies_without_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist = apply_configuration(Distribution(), REPO / "pyproject.toml")
    assert [str(w.message)[:200] for w in caught] == []
    assert dist.metadata.license_expression == "Apache-2.0"
