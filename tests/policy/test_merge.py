"""Inheritance: deep merge, replace and append rules, never-inherited fields, chains and cycles."""

from __future__ import annotations

import textwrap
from pathlib import Path

from proxy.policy import load_policy_set
from proxy.policy.merge import NOT_INHERITED, extends_chain, inheritable, merge
from proxy.policy.sections import Finding


def test_mappings_merge_deeply_and_scalars_replace() -> None:
    parent = {"persona": {"language": "en", "placement": "prepend"}, "clamps": {"max_tokens": 100}}
    child = {"persona": {"placement": "append"}}
    merged, findings = merge(parent, child)
    assert findings == []
    assert merged == {"persona": {"language": "en", "placement": "append"}, "clamps": {"max_tokens": 100}}


def test_lists_replace_by_default() -> None:
    merged, _ = merge({"persona": {"style": ["a", "b"]}}, {"persona": {"style": ["c"]}})
    assert merged["persona"]["style"] == ["c"]


def test_plus_suffix_appends() -> None:
    merged, findings = merge({"persona": {"style": ["a"]}}, {"persona": {"style+": ["b", "c"]}})
    assert findings == []
    assert merged == {"persona": {"style": ["a", "b", "c"]}}


def test_plus_with_nothing_inherited_is_the_list_itself() -> None:
    assert merge(None, {"persona": {"style+": ["a"]}}) == ({"persona": {"style": ["a"]}}, [])
    assert merge({"persona": {"style": None}}, {"persona": {"style+": ["a"]}})[0] == {"persona": {"style": ["a"]}}


def test_plus_problems_are_findings() -> None:
    _, findings = merge({"persona": {"style": ["a"]}}, {"persona": {"style+": "b"}})
    assert findings == [
        Finding(("persona", "style"), "'style+' appends a list to the inherited one, got a single value", "write 'style:' to replace the value")
    ]
    _, findings = merge({"persona": {"language": "en"}}, {"persona": {"language+": ["fr"]}})
    assert findings == [
        Finding(
            ("persona", "language"),
            "'language+' appends to a list, but the inherited value is a single value",
            "write 'language:' to replace the value",
        )
    ]
    merged, findings = merge({"routing": {"aliases": ["a"]}}, {"routing": {"aliases+": ["b"]}})
    assert merged == {"routing": {"aliases": ["b"]}}
    assert findings == [Finding(("routing", "aliases"), "'aliases+' appends to an inherited list, but routing.aliases is never inherited", "write 'aliases:'")]


def test_never_inherited_fields() -> None:
    parent = {"name": "p", "extends": "q", "description": "P", "version": "1", "owner": "team", "routing": {"aliases": ["a"], "upstream_model": "m"}}
    assert inheritable(parent) == {"owner": "team", "routing": {"upstream_model": "m"}}
    assert merge(parent, {"name": "c"})[0] == {"owner": "team", "routing": {"upstream_model": "m"}, "name": "c"}
    assert ("routing", "aliases") in NOT_INHERITED


def test_a_mapping_replaces_a_scalar_and_vice_versa() -> None:
    assert merge({"persona": {"disclosure": None}}, {"persona": {"disclosure": {"text": "AI"}}})[0] == {"persona": {"disclosure": {"text": "AI"}}}
    assert merge({"persona": {"disclosure": {"text": "AI"}}}, {"persona": {"disclosure": None}})[0] == {"persona": {"disclosure": None}}


def test_merge_does_not_modify_its_inputs() -> None:
    parent = {"persona": {"style": ["a"]}}
    child = {"persona": {"style+": ["b"]}}
    merge(parent, child)
    assert parent == {"persona": {"style": ["a"]}}
    assert child == {"persona": {"style+": ["b"]}}


def test_extends_chain() -> None:
    parents: dict[str, str | None] = {"a": "b", "b": "c", "c": None, "x": "y", "y": "x", "z": "x", "o": "missing"}
    assert extends_chain("a", parents) == (["a", "b", "c"], None)
    assert extends_chain("x", parents) == (["x", "y"], ["x", "y", "x"])
    assert extends_chain("z", parents) == (["z", "x", "y"], ["x", "y", "x"])
    assert extends_chain("o", parents) == (["o"], None)


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_multi_level_chain_through_the_loader(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "_base.yaml",
        """\
        description: Base
        owner: platform
        version: "7"
        persona:
          style: [be kind]
          forbidden_phrases: [calm down]
        clamps: {max_tokens: 1000, temperature: {max: 1.0}}
        microcopy:
          assistant_name: Acme
          texts: {en: {refusal: Base refusal}}
        """,
    )
    _write(
        tmp_path,
        "support.yaml",
        """\
        description: Support
        extends: _base
        routing: {aliases: [support-agent], upstream_model: gpt-4o-mini}
        persona:
          style+: [use order numbers]
        clamps: {max_tokens: 500}
        """,
    )
    _write(
        tmp_path,
        "vip.yaml",
        """\
        description: VIP support
        extends: support
        routing: {aliases: [vip-agent]}
        persona:
          style+: [offer a call back]
          forbidden_phrases: []
        clamps: {temperature: {min: 0.1}}
        microcopy: {texts: {en: {handoff: A person will call you}}}
        """,
    )
    policies = load_policy_set(tmp_path, default_policy=None).policies
    vip = policies["vip"]
    assert vip.lineage == ("vip", "support", "_base")
    assert vip.extends == "support"
    assert vip.description == "VIP support"
    assert vip.owner == "platform"  # inherited through two levels
    assert vip.version is None  # not inherited
    assert vip.routing.aliases == ["vip-agent"]  # never inherited, only its own
    assert vip.routing.upstream_model == "gpt-4o-mini"
    assert vip.persona.style == ["be kind", "use order numbers", "offer a call back"]
    assert vip.persona.forbidden_phrases == []  # replaced
    assert vip.clamps.max_tokens == 500
    assert vip.clamps.temperature is not None and (vip.clamps.temperature.min, vip.clamps.temperature.max) == (0.1, 1.0)
    assert vip.microcopy.texts["en"].refusal == "Base refusal"
    assert vip.microcopy.texts["en"].handoff == "A person will call you"
    assert policies["support"].routing.aliases == ["support-agent"]
    assert policies["_base"].routing.aliases == []
