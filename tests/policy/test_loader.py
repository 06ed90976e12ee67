"""The loader's issues: one exact message per kind, with file, line and column."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from proxy.policy import PolicyIssue, PolicyLoadError, check_directory, load_policy_set
from proxy.policy.loader import parse_file

OK = "description: A policy\nowner: team\n"
Write = Callable[[str, str], Path]


@pytest.fixture
def policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``policies`` directory, addressed relatively so messages read ``policies/x.yaml:...``."""
    (tmp_path / "policies").mkdir()
    monkeypatch.chdir(tmp_path)
    return Path("policies")


@pytest.fixture
def write(policies: Path) -> Write:
    def _write(name: str, text: str) -> Path:
        path = policies / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


def problems(policies: Path) -> list[str]:
    return [str(i) for i in check_directory(policies, default_policy=None)]


def test_issue_formatting() -> None:
    issue = PolicyIssue(Path("policies/support.yaml"), 12, 5, "persona.placement", "bad", "a hint")
    assert str(issue) == "policies/support.yaml:12:5: persona.placement: bad (a hint)"
    assert str(PolicyIssue(Path("p.yaml"), None, None, "", "empty")) == "p.yaml: empty"
    assert str(PolicyIssue(Path("p.yaml"), 3, None, "x", "m")) == "p.yaml:3: x: m"


def test_yaml_syntax_error(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "persona:\n  style: [a, b\n")
    assert problems(policies) == [
        "policies/support.yaml:5:1: invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence that starts on line 4)"
    ]


def test_tab_indentation(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "persona:\n\tstyle: []\n")
    assert problems(policies) == [
        "policies/support.yaml:4:1: invalid YAML: a tab character in the indentation (YAML indents with spaces only: replace the tab with spaces)"
    ]


# PyYAML names the line where the enclosing mapping began ("while parsing a block mapping on line 1");
# the issue names the line that is wrong and what is likely wrong with it.
DEDENTED = {
    "a key one space short": (
        "persona:\n  system_prompt: hi\n  placement: prepend\n client_system: allow\nclamps:\n  max_tokens: 9\n",
        "policies/support.yaml:6:2: invalid YAML: this key is indented 1 space, but nothing above it is: the keys it most likely belongs with "
        "('system_prompt' on line 4, in 'persona') are indented 2 (indent it 2 spaces to keep it in 'persona', or 0 to make it a top-level field)",
    ),
    "a key of a list item at the dash": (
        "rails:\n  input:\n    - check: jailbreak\n    action: block\n",
        "policies/support.yaml:6:5: invalid YAML: this key is indented 4 spaces, but nothing above it is: the keys it most likely belongs with "
        "('check' on line 5, in the 'input' list item) are indented 6 (indent it 6 spaces to keep it in the 'input' list item, or 2 to make it a key of 'rails')",
    ),
    "a key after a block text": (
        "persona:\n  system_prompt: |-\n    You are Ava.\n   placement: prepend\n",
        "policies/support.yaml:6:4: invalid YAML: this key is indented 3 spaces, but nothing above it is: the keys it most likely belongs with "
        "('system_prompt' on line 4, in 'persona') are indented 2 (indent it 2 spaces to keep it in 'persona')",
    ),
    "a list item one space short": (
        "rails:\n  input:\n    - {check: jailbreak, action: block}\n   - {check: crisis, action: handoff}\n",
        "policies/support.yaml:6:4: invalid YAML: this list item is indented 3 spaces, but nothing above it is: the list items it most likely belongs with "
        "(the list on line 5, in 'input') are indented 4 (indent it 4 spaces to keep it in 'input')",
    ),
    "a key too deep after a plain value": (
        "persona:\n  system_prompt: hi\n    placement: prepend\n",
        "policies/support.yaml:5:14: invalid YAML: a ':' where a plain value goes on (if this line is a key, indent it 2 spaces like 'system_prompt' on line 4, "
        "in 'persona'; if the ': ' is part of a text, put the text in quotes)",
    ),
    "a colon in an unquoted text": (
        "persona:\n  system_prompt: Note: be kind\n",
        "policies/support.yaml:4:22: invalid YAML: a second ': ' on this line (the value after the key holds ': ': put the value in quotes)",
    ),
}


@pytest.mark.parametrize("case", list(DEDENTED))
def test_indentation_mistakes_point_at_the_wrong_line_and_say_what_is_wrong(policies: Path, write: Write, case: str) -> None:
    text, expected = DEDENTED[case]
    write("support.yaml", OK + text)
    assert problems(policies) == [expected]


def test_unknown_field_suggests_the_closest(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "persona:\n  system_promt: You are Ava.\n")
    assert problems(policies) == ["policies/support.yaml:4:3: persona.system_promt: unknown field (did you mean 'system_prompt'?)"]


def test_unknown_field_without_a_close_match_lists_the_known_ones(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "routing:\n  zzz: 1\n")
    assert problems(policies) == ["policies/support.yaml:4:3: routing.zzz: unknown field (known fields: aliases, upstream_model, allowed_models, upstream, tenants)"]


def test_wrong_type(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "clamps:\n  max_tokens: lots\n  allowed_tools: lookup_order\n")
    assert problems(policies) == [
        'policies/support.yaml:4:15: clamps.max_tokens: expected an integer, got "lots"',
        'policies/support.yaml:5:18: clamps.allowed_tools: expected a list, got "lookup_order"',
    ]


def test_missing_required_fields(policies: Path, write: Write) -> None:
    write("support.yaml", "owner: team\npersona:\n  disclosure:\n    when: first_turn\n")
    assert problems(policies) == [
        "policies/support.yaml: description: required field is missing",
        "policies/support.yaml:3:3: persona.disclosure.text: required field is missing",
    ]


def test_bad_enum_value(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "persona:\n  placement: top\nmode: shadw\n")
    assert problems(policies) == [
        'policies/support.yaml:4:14: persona.placement: expected one of "prepend", "append", "replace", got "top"',
        'policies/support.yaml:5:7: mode: expected one of "enforce", "shadow", got "shadw" (did you mean "shadow"?)',
    ]


def test_unknown_template_variable(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "microcopy:\n  texts:\n    en:\n      refusal: Sorry {user_name}.\n")
    assert problems(policies) == [
        "policies/support.yaml:6:16: microcopy.texts.en.refusal: unknown template variable {user_name}; use one of {assistant_name}, {support_url}, {reference}"
    ]


def test_template_variable_without_a_value(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "microcopy:\n  texts:\n    en:\n      handoff: See {support_url}.\n")
    assert problems(policies) == ["policies/support.yaml:6:16: microcopy.texts.en.handoff: uses {support_url} but microcopy.support_url is not set"]


def test_bad_language_tag_points_at_the_key(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "microcopy:\n  texts:\n    en: {}\n    español: {}\n")
    assert problems(policies) == ["policies/support.yaml:6:5: microcopy.texts.español: expected a BCP-47 language tag like 'en' or 'pt-BR', got \"español\""]


def test_extends_unknown_policy(policies: Path, write: Write) -> None:
    write("customer-service.yaml", OK)
    write("vip.yaml", OK + "extends: custmer-service\n")
    assert problems(policies) == ["policies/vip.yaml:3:10: extends: policy 'custmer-service' does not exist (did you mean 'customer-service'?)"]


def test_extends_cycle(policies: Path, write: Write) -> None:
    write("a.yaml", OK + "extends: b\n")
    write("b.yaml", OK + "extends: c\n")
    write("c.yaml", OK + "extends: a\n")
    write("d.yaml", OK + "extends: a\n")  # leads into the cycle; not itself part of it
    assert problems(policies) == [
        "policies/a.yaml:3:10: extends: extends forms a cycle: a -> b -> c -> a",
        "policies/b.yaml:3:10: extends: extends forms a cycle: b -> c -> a -> b",
        "policies/c.yaml:3:10: extends: extends forms a cycle: c -> a -> b -> c",
    ]


def test_self_extension_is_a_cycle(policies: Path, write: Write) -> None:
    write("a.yaml", OK + "extends: a\n")
    assert problems(policies) == ["policies/a.yaml:3:10: extends: extends forms a cycle: a -> a"]


def test_duplicate_alias_names_both_files(policies: Path, write: Write) -> None:
    write("billing.yaml", OK + "routing:\n  aliases: [billing, support-agent]\n")
    write("support.yaml", OK + "routing:\n  aliases:\n    - support-agent\n")
    assert problems(policies) == [
        "policies/support.yaml:5:7: routing.aliases[0]: alias 'support-agent' is already used by policy 'billing' (policies/billing.yaml:4:22)"
    ]


def test_duplicate_policy_names(policies: Path, write: Write) -> None:
    write("support.yaml", OK)
    write("support.yml", OK)
    assert problems(policies) == ["policies/support.yml: policy 'support' is defined twice: here and in policies/support.yaml"]


def test_explicit_name_must_match_the_file(policies: Path, write: Write) -> None:
    write("support.yaml", "name: helpdesk\n" + OK)
    assert problems(policies) == [
        "policies/support.yaml:1:7: name: name \"helpdesk\" does not match the file name 'support.yaml' (rename the file to helpdesk.yaml or remove 'name')"
    ]


def test_file_name_must_be_a_slug(policies: Path, write: Write) -> None:
    write("Support Bot.yaml", OK)
    assert problems(policies) == [
        "policies/Support Bot.yaml: name: expected a slug of lowercase letters, digits and hyphens "
        "(a leading '_' marks an abstract policy), got \"Support Bot\""
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "~\n"])
def test_empty_file(policies: Path, write: Write, text: str) -> None:
    write("support.yaml", text)
    assert problems(policies) == ["policies/support.yaml: file is empty; a policy file holds one mapping"]


def test_top_level_must_be_a_mapping(policies: Path, write: Write) -> None:
    write("support.yaml", "- a\n- b\n")
    assert problems(policies) == ["policies/support.yaml:1:1: expected a mapping of policy fields, got a list"]


def test_one_document_per_file(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "---\n" + OK)
    assert problems(policies) == ["policies/support.yaml:3:1: expected one policy per file, found a second YAML document ('---')"]


def test_duplicate_keys(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "owner: other\npersona:\n  style: [a]\n  style+: [b]\n")
    assert problems(policies) == [
        "policies/support.yaml:3:1: owner: duplicate key 'owner' (first set on line 2)",
        "policies/support.yaml:6:3: persona.style: both 'style' and 'style+' are set (line 5); use one",
    ]


def test_non_text_keys(policies: Path, write: Write) -> None:
    write("support.yaml", OK + "persona:\n  1: x\n")
    assert problems(policies) == ["policies/support.yaml:4:3: persona: keys must be text, got 1"]


def test_all_issues_across_all_files_are_collected(policies: Path, write: Write) -> None:
    write("a.yaml", OK + "mode: loud\npersona: {placement: top}\n")
    write("b.yaml", "")
    write("c.yaml", OK + "clamps: {max_tokens: -1}\n")
    write("default.yaml", OK)
    with pytest.raises(PolicyLoadError) as info:
        load_policy_set(policies)
    assert [str(i) for i in info.value.issues] == [
        'policies/a.yaml:3:7: mode: expected one of "enforce", "shadow", got "loud"',
        'policies/a.yaml:4:22: persona.placement: expected one of "prepend", "append", "replace", got "top"',
        "policies/b.yaml: file is empty; a policy file holds one mapping",
        "policies/c.yaml:3:22: clamps.max_tokens: must be > 0, got -1",
    ]
    assert str(info.value).startswith("4 policy problems:\npolicies/a.yaml:3:7: mode:")


def test_parent_errors_are_reported_once_in_the_parent(policies: Path, write: Write) -> None:
    write("_base.yaml", OK + "persona: {placement: top}\n")
    write("a.yaml", OK + "extends: _base\n")
    write("b.yaml", OK + "extends: a\n")
    assert problems(policies) == ['policies/_base.yaml:3:22: persona.placement: expected one of "prepend", "append", "replace", got "top"']


def test_merge_errors_are_attributed_to_the_child(policies: Path, write: Write) -> None:
    write("_base.yaml", OK + "persona: {style: [a]}\n")
    write("a.yaml", OK + "extends: _base\npersona:\n  style+: be brief\n")
    assert problems(policies) == [
        "policies/a.yaml:5:3: persona.style: 'style+' appends a list to the inherited one, got a single value (write 'style:' to replace the value)"
    ]


def test_missing_field_in_a_merged_policy_goes_to_the_child(policies: Path, write: Write) -> None:
    write("_base.yaml", OK)
    write("a.yaml", "extends: _base\n")  # owner is inherited, description is not
    assert problems(policies) == ["policies/a.yaml: description: required field is missing"]


def test_a_child_of_a_missing_parent_still_gets_its_own_errors(policies: Path, write: Write) -> None:
    write("a.yaml", "extends: nowhere\npersona: {placement: top}\n")
    assert problems(policies) == [
        "policies/a.yaml:1:10: extends: policy 'nowhere' does not exist",
        'policies/a.yaml:2:22: persona.placement: expected one of "prepend", "append", "replace", got "top"',
    ]


def test_directory_problems(tmp_path: Path) -> None:
    assert [i.message for i in check_directory(tmp_path / "nope")] == ["policy directory does not exist or is not a directory"]
    assert [i.message for i in check_directory(tmp_path)] == ["no policy files (*.yaml) in this directory"]


def test_default_policy_must_exist(policies: Path, write: Write) -> None:
    write("support.yaml", OK)
    assert [str(i) for i in check_directory(policies, default_policy="defualt")] == [
        "policies: default policy 'defualt' not found (no defualt.yaml here) (set BEDSIDE_POLICY__DEFAULT (policy.default) to one of the policies here, or to 'none' for no fallback)"
    ]
    write("default.yaml", OK)
    assert [str(i) for i in check_directory(policies, default_policy="defualt")] == [
        "policies: default policy 'defualt' not found (no defualt.yaml here) (did you mean 'default'?)"
    ]


def test_subdirectories_and_hidden_files_are_not_policies(policies: Path, write: Write) -> None:
    write("default.yaml", OK)
    (policies / "tests").mkdir()
    (policies / "tests" / "cases.yaml").write_text("not: a policy\n")
    (policies / ".draft.yaml").write_text("broken: [\n")
    (policies / "README.md").write_text("# Policies\n")
    assert check_directory(policies) == []


def test_parse_file_records_positions(policies: Path, write: Write) -> None:
    path = write("support.yaml", OK + "routing:\n  aliases:\n    - a\n    - b\npersona:\n  style+: [x]\n")
    parsed, issues = parse_file(path)
    assert parsed is not None and issues == []
    assert parsed.position(("routing", "aliases", 1)) == (6, 7)
    assert parsed.position(("routing", "aliases"), key=True) == (4, 3)
    assert parsed.position(("persona", "style"), key=True) == (8, 3)  # '+' stripped in the map
    assert parsed.data["persona"] == {"style+": ["x"]}


def test_yaml_merge_keys_and_anchors_work(policies: Path, write: Write) -> None:
    write(
        "default.yaml",
        """\
        description: d
        owner: o
        clamps: &limits
          max_tokens: 100
        persona:
          style: &style [a, b]
          forbidden_phrases: *style
        """,
    )
    policy = load_policy_set(policies).policies["default"]
    assert policy.persona.forbidden_phrases == ["a", "b"]


def test_a_pii_entity_nothing_detects_is_refused_with_the_closest_names(policies: Path, write: Write) -> None:
    write("intake.yaml", OK + "pii:\n  enabled: true\n  entities: [PERSON, IN_AADHAAR]\n  actions: {EMAIL: mask}\n")
    found = problems(policies)
    assert len(found) == 1
    assert found[0].startswith("policies/intake.yaml:4:3: pii: pii.entities names 'IN_AADHAAR', which Bedside cannot detect")
    assert "National identity, tax and social-security numbers of every country are NATIONAL_ID" in found[0]
    write("intake.yaml", OK + "pii:\n  enabled: true\n  actions: {EMAIL: mask}\n")
    assert "pii.actions names 'EMAIL', which Bedside cannot detect, so nothing would be redacted for it. Did you mean EMAIL_ADDRESS?" in problems(policies)[0]


def test_a_pii_entity_the_policy_defines_under_custom_is_accepted(policies: Path, write: Write) -> None:
    write("intake.yaml", OK + "pii:\n  enabled: true\n  entities: [PERSON, NATIONAL_ID, MEMBER_NO]\n  custom:\n    - {entity: MEMBER_NO, patterns: ['M-\\d{6}']}\n")
    assert problems(policies) == []
