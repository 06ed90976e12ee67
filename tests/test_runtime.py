"""No side effects at import; one idempotent start-up step (``proxy.runtime.prepare_process``)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from proxy import runtime

REPO = Path(__file__).resolve().parents[1]

#: Modules whose import still changes the process, with the engineer who removes the effect. Each
#: is expected to turn clean at the merge of its refactor (then the xfail below starts passing).
#: Variables a third-party library sets when it is imported, whoever imports it first (not
#: Bedside's doing, and harmless): guardrails-ai configures coloredlogs at import.
THIRD_PARTY_KEYS: dict[str, str] = {
    "COLOREDLOGS_LEVEL_STYLES": "set by guardrails-ai's own import (coloredlogs styles)",
    # only where torch is installed (a development environment has it for the evaluation tools; the
    # runtime lock does not): importing Presidio imports spaCy, whose thinc imports torch when present.
    # Bedside builds its analyzer with torch hidden (proxy.detectors.setup.without_unused_libraries).
    "TORCHINDUCTOR_CACHE_DIR": "set by torch's own import, when installed (thinc imports it if present)",
}

_PROBE = textwrap.dedent(
    """
    import importlib, json, os, pathlib, sys

    # the module names from the files: pkgutil.walk_packages would import the packages first
    root = pathlib.Path("proxy")
    names = sorted(
        ".".join(p.with_suffix("").parts[:-1] if p.name == "__init__.py" else p.with_suffix("").parts)
        for p in root.rglob("*.py")
        if p.name != "__main__.py"  # running a command is not importing a module
    )
    effects = {}

    def culprit():
        # the innermost Bedside module whose top level is running: the import that caused it
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_globals.get("__name__", "")
            if frame.f_code.co_name == "<module>" and name.startswith("proxy"):
                return name
            frame = frame.f_back
        return None

    real_set, real_del = os._Environ.__setitem__, os._Environ.__delitem__

    def note(key):
        effects.setdefault(culprit() or current, set()).add(key)

    def setitem(self, key, value):
        note(key)
        real_set(self, key, value)

    def delitem(self, key):
        note(key)
        real_del(self, key)

    os._Environ.__setitem__, os._Environ.__delitem__ = setitem, delitem
    for current in names:
        before = dict(os.environ)
        importlib.import_module(current)
        after = dict(os.environ)
        for key in set(before) | set(after):  # changes that bypassed os.environ (putenv, C code)
            if before.get(key) != after.get(key) and not any(key in v for v in effects.values()):
                effects.setdefault(current, set()).add(key)
    print(json.dumps({"modules": names, "effects": {m: sorted(k) for m, k in effects.items()}}))
    """
)


@pytest.fixture(scope="module")
def import_effects() -> dict[str, object]:
    """Import every ``proxy`` module (each file, packages first) in a fresh interpreter, noting who changed ``os.environ``."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(REPO), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_every_module_is_found(import_effects: dict[str, object]) -> None:
    modules = import_effects["modules"]
    assert isinstance(modules, list)
    assert {"proxy.app", "proxy.runtime", "proxy.cli", "proxy.pipeline.stage", "proxy.policy.schema"} <= set(modules)


def test_importing_a_module_leaves_the_environment_alone(import_effects: dict[str, object]) -> None:
    effects = import_effects["effects"]
    assert isinstance(effects, dict)
    unexpected = {m: [k for k in keys if k not in THIRD_PARTY_KEYS] for m, keys in effects.items()}
    unexpected = {m: keys for m, keys in unexpected.items() if keys}
    assert unexpected == {}, f"importing these modules changed os.environ: {unexpected}; move the change into proxy.runtime.prepare_process"


def test_prepare_process_is_idempotent_and_thread_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(runtime, "_prepared", False)
    monkeypatch.setattr("proxy.rails.guardrails_setup.prepare_rails_environment", lambda: calls.append("rails"))
    monkeypatch.setattr("proxy.detectors.setup.prepare_detector_environment", lambda: calls.append("detectors"))
    threads = [threading.Thread(target=runtime.prepare_process) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runtime.prepare_process()
    assert sorted(calls) == ["detectors", "rails"]
    assert runtime.prepared()


def test_prepare_process_makes_the_process_offline() -> None:
    """In a fresh interpreter: nothing set before the call, everything after it; a second call changes
    nothing; no model library is imported by the app or the start-up step (they load when a policy
    uses them), and building Presidio switches tldextract offline."""
    probe = textwrap.dedent(
        """
        import json, os
        import proxy.app, proxy.runtime
        before = dict(os.environ)
        proxy.runtime.prepare_process()
        once = dict(os.environ)
        proxy.runtime.prepare_process()
        again = once == dict(os.environ)
        import sys
        heavy = sorted(m for m in ("guardrails", "presidio_analyzer", "spacy", "torch", "numpy", "tldextract") if m in sys.modules)
        from proxy.detectors.pii_engine import build_analyzer
        build_analyzer(None)  # Presidio built (patterns only): tldextract switched offline first
        import tldextract.tldextract as t
        print(json.dumps({"added": sorted(set(once) - set(before)), "again": again, "heavy": heavy,
                          "tld_offline": not t.TLD_EXTRACTOR.suffix_list_urls}))
        """
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(REPO), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["again"] is True
    assert result["tld_offline"] is True
    assert result["heavy"] == [], f"the app and the start-up step imported model libraries no policy asked for: {result['heavy']}"
    assert "GUARDRAILS_RUN_SYNC" in result["added"] or "GUARDRAILS_RUN_SYNC" in __import__("os").environ


def test_a_pass_through_app_loads_no_numerical_library(tmp_path: Path) -> None:
    """Building the app for a policy set with every optional section off (the pass-through bench
    policy) imports neither numpy nor any model library: they are for the policies that use them.
    Nor rich and pygments, which structlog would import for pretty tracebacks the logs never render,
    nor SQLAlchemy's PostgreSQL dialect on SQLite (~2 MiB resident; the erasure fences import it
    where they use it)."""
    probe = textwrap.dedent(
        """
        import json, sys
        from proxy.app import create_app
        create_app()
        print(json.dumps(sorted(m for m in ("numpy", "presidio_analyzer", "spacy", "guardrails", "onnxruntime", "rich", "pygments", "sqlalchemy.dialects.postgresql") if m in sys.modules)))
        """
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(REPO), "PYTHONPATH": str(REPO),
           "BEDSIDE_POLICY__DIRECTORY": str(REPO / "bench" / "policies" / "passthrough"), "BEDSIDE_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
