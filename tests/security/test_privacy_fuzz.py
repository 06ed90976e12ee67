"""Schemathesis fuzzes the privacy routes against their published OpenAPI document: no 5xx, and every
answer has a documented status, content type and schema.

The document is ``docs/privacy-openapi.json`` (:mod:`proxy.api.privacy_openapi`, kept current by
``bedside docs --check``). Schemathesis generates valid requests (positive mode: ids, consent
decisions) and invalid ones (negative mode: wrong types, unknown fields, over-long ids, missing
bodies) for every operation and sends them to the real app, in process (ASGI), over a database that
holds users with consent, memories, transcripts and handoff events; the documented example user
(``alice``) exists, so exports, erasures and the consent routes run for real, not only their 404s.
Runs are derandomized (the same examples every time).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import content_type_conformance, negative_data_rejection, response_schema_conformance, status_code_conformance

from proxy.api.privacy_openapi import openapi
from proxy.app import create_app
from tests.privacy.rights_world import World

EXAMPLES = 25
CHECKS: list[Any] = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("privacy-fuzz")
    world = World.build(f"sqlite:///{data / 'bedside.db'}", data / "data")
    for user in ("alice", "bob", "carol"):
        world.seed("open", user, f"CANARY{user.upper()}")  # open mode: the open tenant
    loaded = schemathesis.openapi.from_dict(openapi())
    loaded.app = create_app(world.settings)
    yield loaded
    shutdown_lifespans()  # schemathesis keeps the app's lifespan (its services) running until told
    world.close()


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(operation: Any, mode: Any, checks: list[Any], seen: set[int]) -> None:
    """Send ``EXAMPLES`` generated requests to ``operation``; each answer is checked; ``seen`` collects the statuses."""

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call()
        seen.add(response.status_code)
        case.validate_response(response, checks=checks)

    run()


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_privacy_routes_match_their_openapi_and_never_answer_5xx(schema: Any, mode: Any) -> None:
    operations = _operations(schema)
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {
        "PUT /v1/users/{user}/consent",
        "GET /v1/users/{user}/consent",
        "GET /v1/users/{user}/memories",
        "DELETE /v1/users/{user}/memories",
        "DELETE /v1/users/{user}/memories/{memory_id}",
        "GET /v1/users/{user}/conversations",
        "GET /v1/users/{user}/conversations/{conversation}",
        "GET /v1/users/{user}/export",
        "DELETE /v1/users/{user}",
    }
    checks = [*CHECKS, negative_data_rejection] if mode == schemathesis.GenerationMode.NEGATIVE else CHECKS
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        _fuzz(operation, mode, checks, statuses.setdefault(f"{operation.method.upper()} {operation.path}", set()))
    assert all(code < 500 for codes in statuses.values() for code in codes), statuses
    if mode == schemathesis.GenerationMode.POSITIVE:
        # the fuzz reached the routes' real work, not only their refusals
        for label in ("PUT /v1/users/{user}/consent", "GET /v1/users/{user}/consent", "GET /v1/users/{user}/export", "DELETE /v1/users/{user}"):
            assert 200 in statuses[label], (label, statuses[label])
