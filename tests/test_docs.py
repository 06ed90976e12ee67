"""Generated reference pages are current (regenerate: `python -m proxy.docgen`)."""

from __future__ import annotations

from proxy.docgen import main


def test_configuration_reference_is_current() -> None:
    assert main(["--check"]) == 0, "docs/configuration.md is stale: run `python -m proxy.docgen`"
