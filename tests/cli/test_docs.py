"""``bedside docs``: the generated reference pages are current (regenerate: ``bedside docs``)."""

from __future__ import annotations

from pathlib import Path

from proxy.cli.docs import DOCS_DIR, main, outputs
from proxy.policy.reference import SCHEMA_NAME

REPO = Path(__file__).resolve().parents[2]


def test_the_default_directory_is_the_clones_docs() -> None:
    assert REPO / "docs" == DOCS_DIR


def test_generated_pages_are_current() -> None:
    for path, expected in outputs(DOCS_DIR).items():
        assert path.is_file(), f"{path} missing; run: bedside docs"
        assert path.read_text(encoding="utf-8") == expected, f"{path} is stale; run: bedside docs"
    assert main(["--check"]) == 0


def test_check_reports_stale_pages_and_writing_fixes_them(tmp_path: Path, capsys: object) -> None:
    assert main(["--check", "--out", str(tmp_path)]) == 1
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--check", "--out", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"configuration.md", "policy-reference.md", SCHEMA_NAME, "export.schema.json", "erasure-receipt.schema.json", "privacy-openapi.json"}
    (tmp_path / "configuration.md").write_text("old\n", encoding="utf-8")
    assert main(["--check", "--out", str(tmp_path)]) == 1


def test_an_installed_package_needs_out(monkeypatch: object, tmp_path: Path) -> None:
    import pytest

    from proxy.cli import docs

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(docs, "DOCS_DIR", tmp_path / "site-packages" / "docs")
    assert main([]) == 2 and main(["--check"]) == 2
    assert not (tmp_path / "site-packages").exists()
