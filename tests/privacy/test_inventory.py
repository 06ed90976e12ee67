"""Completeness by construction: every table of the schema is exported and erased, or declared with a reason.

The walk covers every SQLModel table of every module in ``proxy/`` that defines one (found by
reading the sources, so a table in a new module is walked too), against the sources and steps
that ``serve`` wires (``proxy.rights_wiring.build_user_rights``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from proxy.privacy.inventory import NOT_ERASED, NOT_EXPORTED, NOT_USER_DATA, coverage_problems, user_linked
from tests.privacy.rights_world import World

PROXY = Path(__file__).resolve().parents[2] / "proxy"


def _import_every_table_module() -> list[str]:
    modules = []
    for path in sorted(PROXY.rglob("*.py")):
        if "table=True" in path.read_text(encoding="utf-8"):
            name = ".".join(path.relative_to(PROXY.parent).with_suffix("").parts)
            importlib.import_module(name)
            modules.append(name)
    return modules


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World.build(f"sqlite:///{tmp_path / 'bedside.db'}", tmp_path / "data")
    yield w
    w.close()


def test_every_table_is_exported_and_erased_or_declared(world: World) -> None:
    assert "proxy.storage.tables" in _import_every_table_module()
    tables = list(SQLModel.metadata.sorted_tables)
    assert {"consent_events", "data_keys", "memories", "transcripts", "handoff_outbox", "erasures", "api_keys"} <= {t.name for t in tables}
    assert world.rights.coverage_problems(tables) == []
    for reasons in (NOT_USER_DATA, NOT_EXPORTED, NOT_ERASED):
        assert all(len(reason) > 40 for reason in reasons.values())  # a reason, not a placeholder
    # every table whose rows name users (a subject column) has a source and a step, or a stated reason
    exported = {name for s in world.rights.sources for name in s.tables}
    erased = {s.table for s in world.rights.steps}
    for table in tables:
        if user_linked(table):
            assert table.name in exported | set(NOT_EXPORTED) and table.name in erased | set(NOT_ERASED), table.name


def _table(metadata: sa.MetaData, name: str, *columns: str) -> sa.Table:
    return sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True), *(sa.Column(c, sa.String) for c in columns))


def test_the_walk_names_what_is_missing(world: World) -> None:
    tables = list(SQLModel.metadata.sorted_tables)
    scratch = sa.MetaData()
    new_user_table = _table(scratch, "user_notes", "tenant", "subject", "note")
    problems = coverage_problems([*tables, new_user_table], world.rights.sources, world.rights.steps)
    assert problems == [
        "user_notes: no export source reads it and it is not declared (add a source, or a reason in NOT_EXPORTED / NOT_USER_DATA)",
        "user_notes: no erasure step removes a user's rows and it is not declared (add a step, or a reason in NOT_ERASED / NOT_USER_DATA)",
    ]
    # a table without any user column must still be classified
    assert coverage_problems([*tables, _table(scratch, "settings_cache", "value")], world.rights.sources, world.rights.steps)
    # a table declared "not user data" may not name users
    disguised = [t for t in tables if t.name != "api_keys"] + [_table(sa.MetaData(), "api_keys", "tenant", "subject")]
    assert coverage_problems(disguised, world.rights.sources, world.rights.steps) == ["api_keys: declared not user data, but it has a subject column (its rows name users)"]
    # dropping a table that is still covered is named too
    assert coverage_problems([t for t in tables if t.name != "transcripts"], world.rights.sources, world.rights.steps) == [
        "transcripts: covered or declared, but no such table exists (renamed or dropped?)"
    ]
