"""Policy test case files (``policies/tests/*.yaml``): the schema and the reader.

Running them is the CLI's job (``bedside policy test``: tests/cli/test_cli.py and .ci/run)."""

from __future__ import annotations

from pathlib import Path

from proxy.policy.cases import Case, load_case_files

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_case_files_read_cleanly() -> None:
    files, problems = load_case_files(ROOT / "policies")
    assert problems == []
    assert files and all(case_file.cases for _, case_file in files)


def test_defaults_of_a_minimal_case() -> None:
    case = Case.model_validate({"name": "n", "request": {"model": "m", "messages": []}})
    assert case.modes == ["json", "stream"]
    assert case.upstream.reply == "OK." and case.upstream.finish_reason == "stop"
    assert case.expect.status == 200 and case.expect.upstream.tools is None


def test_problems_name_the_file_and_the_field(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "a-bad-yaml.yaml").write_text("cases: [\n", encoding="utf-8")
    (tests / "b-typo.yaml").write_text("cases:\n  - name: x\n    request: {}\n    expect: {statuss: 400}\n", encoding="utf-8")
    (tests / "c-ok.yml").write_text("cases:\n  - name: fine\n    request: {model: m}\n    modes: [json]\n", encoding="utf-8")
    files, problems = load_case_files(tmp_path)
    assert [p.name for p, _ in files] == ["c-ok.yml"]
    assert problems[0].startswith(f"{tests / 'a-bad-yaml.yaml'}:2:1: invalid YAML")
    assert any(p.startswith(f"{tests / 'b-typo.yaml'}: cases.0.expect.statuss:") for p in problems)


def test_no_tests_folder_is_no_cases(tmp_path: Path) -> None:
    assert load_case_files(tmp_path) == ([], [])
