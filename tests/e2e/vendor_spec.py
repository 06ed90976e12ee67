"""Vendor the part of OpenAI's OpenAPI spec the tests need into the repository.

    python tests/e2e/vendor_spec.py [--source PATH] [--check]

Reads ``openapi.yaml`` (openai/openai-openapi, MIT licence; by default from the shared data folder
beside the checkout, ``../shared/data/openai/``) and writes ``tests/e2e/openai-openapi/schemas.json``:
the component schemas named in :data:`ROOTS` and every schema they reference, transitively,
unchanged. ``tests/e2e/spec.py`` loads that file, so a clone without the shared folder runs every
spec conformance test. The licence is copied beside it.

The file holds one schema per line (compact, and a change to the spec shows as a readable diff).
``--check`` exits 1 when the vendored file differs from what the source gives (``.ci/run`` runs it
when the source is beside the checkout). A test that needs another schema: add it to :data:`ROOTS`
and run this script.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "shared/data/openai/openapi.yaml"
LICENCE_NAME = "LICENSE.openai-openapi.MIT.txt"
OUT_DIR = HERE / "openai-openapi"
OUT = OUT_DIR / "schemas.json"
_PREFIX = "#/components/schemas/"

#: what the tests validate against: chat completions (JSON and chunks), embeddings, models and
#: errors (tests/e2e/test_spec_conformance.py), and the Responses API (request, response, events)
ROOTS = (
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CreateEmbeddingResponse",
    "ErrorResponse",
    "ListModelsResponse",
    "Model",
    "CreateResponse",
    "Response",
    "ResponseStreamEvent",
)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def closure(schemas: Mapping[str, Any], roots: tuple[str, ...] = ROOTS) -> dict[str, Any]:
    """``roots`` and every component schema they reference, transitively, sorted by name."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in schemas:
            raise KeyError(f"the spec has no component schema {name!r}")
        seen.add(name)
        for ref in _refs(schemas[name]):
            if not ref.startswith(_PREFIX):
                raise ValueError(f"{name} references {ref!r}, which is not a component schema")
            todo.append(ref.removeprefix(_PREFIX))
    return {name: schemas[name] for name in sorted(seen)}


def render(source: Path) -> str:
    """The vendored file's text for the spec at ``source``."""
    raw = source.read_bytes()
    document = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    picked = closure(document["components"]["schemas"])
    head = {
        "source": "https://github.com/openai/openai-openapi (openapi.yaml), MIT licence: see " + LICENCE_NAME,
        "spec_version": str(document.get("info", {}).get("version", "")),
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "made_by": "python tests/e2e/vendor_spec.py",
        "roots": list(ROOTS),
    }
    lines = ["{"]
    lines += [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    lines.append('"schemas": {')
    items = [f"{json.dumps(name)}: {json.dumps(schema, ensure_ascii=False, sort_keys=True, separators=(',', ':'))}" for name, schema in picked.items()]
    lines.append(",\n".join(items))
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help=f"the spec (default {SOURCE})")
    parser.add_argument("--check", action="store_true", help="exit 1 if the vendored file is not what the source gives")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"{args.source}: no such file; pass --source PATH to openai-openapi's openapi.yaml", file=sys.stderr)
        return 2
    text = render(args.source)
    if args.check:
        if not OUT.is_file() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is not what {args.source} gives: run python tests/e2e/vendor_spec.py", file=sys.stderr)
            return 1
        print(f"{OUT} is current")
        return 0
    OUT_DIR.mkdir(exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    licence = args.source.parent / LICENCE_NAME
    if licence.is_file():
        shutil.copyfile(licence, OUT_DIR / LICENCE_NAME)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(json.loads(text)['schemas'])} schemas)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
