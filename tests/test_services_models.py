"""Models load when a loaded policy uses them: at start-up, or when a reload starts using one."""

from __future__ import annotations

from pathlib import Path

import structlog.testing

from proxy.services import build_services
from proxy.settings import Settings

PASS_THROUGH = "description: every optional section off\nowner: tests\n"
WITH_PII_AND_RAILS = PASS_THROUGH + "pii: {enabled: true}\nrails: {input: [{check: jailbreak}]}\n"


def _stage(services: object, name: str) -> object:
    return next(s for s in services.pipeline.stages if s.name == name)  # type: ignore[attr-defined]


def test_a_reload_that_turns_pii_and_rails_on_loads_them_before_the_swap(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text(PASS_THROUGH)
    settings = Settings(data_dir=tmp_path / "data", upstream_url="http://upstream.invalid/v1", policy={"directory": policies, "watch": False}, pii={"model": None})
    services = build_services(settings)
    try:
        pii = _stage(services, "pii")
        rails = _stage(services, "input_rails")
        assert pii.readiness()["loaded"] is False  # type: ignore[attr-defined]  # no policy uses it: not loaded
        assert services.load_models(services.policies.current) == {}  # type: ignore[union-attr]

        (policies / "default.yaml").write_text(WITH_PII_AND_RAILS)
        with structlog.testing.capture_logs() as logs:
            assert services.policies.reload().ok  # type: ignore[union-attr]
        assert pii.readiness()["loaded"] is True  # type: ignore[attr-defined]
        policy = services.policies.current.policies["default"]  # type: ignore[union-attr]
        assert rails._compiled.get((policy.name, policy.content_hash)) is not None  # type: ignore[attr-defined]  # compiled, not left to a request
        ready = {line["stage"]: line for line in logs if line.get("event") == "models_ready"}
        assert set(ready) >= {"pii", "input_rails"} and all(line["count"] == 1 for line in ready.values())
    finally:
        services.engine.dispose()
