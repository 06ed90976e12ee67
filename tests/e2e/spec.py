"""The OpenAI OpenAPI spec as JSON-Schema validators, for the conformance tests.

The part of the spec the tests need (``openapi.yaml`` from openai/openai-openapi, MIT licence) is
vendored in ``tests/e2e/openai-openapi/schemas.json``, licence beside it: the component schemas the
tests validate against and everything they reference, written by ``tests/e2e/vendor_spec.py``
(which lists them in ``ROOTS``; add a schema there and run it). A clone runs every spec test.

The file mixes OpenAPI 3.0 ``nullable: true`` with 3.1 ``{type: "null"}`` unions, so every
``nullable: true`` is rewritten as ``anyOf: [schema, {type: "null"}]`` (this also covers a
nullable ``enum`` or ``$ref``, which adding ``"null"`` to ``type`` would not). Schemas are then
validated with Draft 2020-12 through a ``referencing`` registry holding the whole document, so
``$ref: "#/components/schemas/X"`` resolves anywhere.

:meth:`Spec.undeclared` adds what the spec cannot say (it never closes its objects): which keys of a
response the schema does not declare at all, e.g. a debugging field leaking out of Bedside.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parent / "openai-openapi" / "schemas.json"
SKIP_REASON = f"the vendored OpenAI spec {SPEC_PATH} is missing: run python tests/e2e/vendor_spec.py"
_BASE = "urn:openai-openapi"


def spec_available() -> bool:
    """Whether the vendored spec is there (it is in every clone; kept for callers that ask)."""
    return SPEC_PATH.is_file()


def nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON-Schema ``anyOf: [..., {type: "null"}]``, recursively."""
    if isinstance(node, list):
        return [nullable_to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    nullable = node.get("nullable")
    out = {k: nullable_to_json_schema(v) for k, v in node.items() if not (k == "nullable" and isinstance(v, bool))}
    if nullable is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Spec:
    """``components.schemas`` of the OpenAI spec, ready to validate instances by schema name."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = _absolute_refs(nullable_to_json_schema(schemas))
        document = {"components": {"schemas": self.schemas}}
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(_BASE, resource)
        self._validators: dict[str, Draft202012Validator] = {}

    def validator(self, name: str) -> Draft202012Validator:
        if name not in self.schemas:
            raise KeyError(f"the vendored OpenAI spec has no schema {name!r}: add it to ROOTS in tests/e2e/vendor_spec.py and run that script")
        if name not in self._validators:
            self._validators[name] = Draft202012Validator({"$ref": f"{_BASE}#/components/schemas/{name}"}, registry=self.registry)
        return self._validators[name]

    def errors(self, name: str, instance: Any) -> list[str]:
        """Every violation of schema ``name``, as ``path: message`` lines (empty: valid)."""
        found = sorted(self.validator(name).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
        return [f"{_path(e)}: {_message(e)}" for e in found]

    def validate(self, name: str, instance: Any, *, what: str = "") -> None:
        """Raise ``AssertionError`` naming every violation, unless ``instance`` is a valid ``name``."""
        errs = self.errors(name, instance)
        if errs:
            label = f"{what} " if what else ""
            raise AssertionError(f"{label}does not conform to the OpenAI schema {name}:\n  " + "\n  ".join(errs) + f"\ninstance: {instance!r:.2000}")

    def undeclared(self, name: str, instance: Any) -> list[str]:
        """Paths of object keys in ``instance`` that schema ``name`` never declares.

        The spec leaves its objects open, so a valid body could still carry fields no OpenAI client
        expects. This walks the instance beside the schema (through ``$ref``, ``allOf`` and the
        ``anyOf``/``oneOf`` branch the value matches) and lists keys outside ``properties``.
        """
        out: list[str] = []
        self._walk({"$ref": f"{_BASE}#/components/schemas/{name}"}, instance, "$", out)
        return out

    # ---- helpers --------------------------------------------------------------------------

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            ref = schema["$ref"]
            assert ref.startswith(f"{_BASE}#/components/schemas/"), ref
            target: dict[str, Any] = self.schemas[ref.rsplit("/", 1)[1]]
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if siblings else target
        return schema

    def _matches(self, schema: dict[str, Any], instance: Any) -> bool:
        return bool(Draft202012Validator(schema, registry=self.registry).is_valid(instance))

    def _parts(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        """``schema`` and its ``allOf`` branches (recursively), each resolved: together they declare an object."""
        out = [schema]
        for sub in schema.get("allOf") or ():
            if isinstance(sub, dict):
                out.extend(self._parts(self._resolve(sub)))
        return out

    def _walk(self, schema: Any, instance: Any, path: str, out: list[str], declared: frozenset[str] = frozenset()) -> None:
        if not isinstance(schema, dict):
            return
        parts = self._parts(self._resolve(schema))
        props: dict[str, Any] = {}
        for part in parts:  # an allOf declares the union of its branches' properties
            props.update(part.get("properties") or {})
        known = declared | frozenset(props)
        for part in parts:
            for key in ("anyOf", "oneOf"):
                branches = part.get(key)
                if branches:
                    chosen = next((b for b in branches if self._matches(b, instance)), None)
                    if chosen is not None:
                        self._walk(chosen, instance, path, out, known)
        if isinstance(instance, dict):
            additional = next((p["additionalProperties"] for p in parts if isinstance(p.get("additionalProperties"), dict)), None)
            closed = bool(props) and all(p.get("additionalProperties") in (None, False) for p in parts)
            for k, v in instance.items():
                if k in props:
                    self._walk(props[k], v, f"{path}.{k}", out)
                elif isinstance(additional, dict):
                    self._walk(additional, v, f"{path}.{k}", out)
                elif closed and k not in declared:
                    out.append(f"{path}.{k}")
        elif isinstance(instance, list):
            items = next((p["items"] for p in parts if isinstance(p.get("items"), dict)), None)
            if items is not None:
                for i, v in enumerate(instance):
                    self._walk(items, v, f"{path}[{i}]", out)


def _absolute_refs(node: Any) -> Any:
    """``#/components/...`` -> ``urn:openai-openapi#/components/...``, so any subschema validates on its own."""
    if isinstance(node, list):
        return [_absolute_refs(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _absolute_refs(v) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = _BASE + ref
    return out


def _path(err: ValidationError) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)


def _message(err: ValidationError) -> str:
    if err.context:  # an anyOf/oneOf: say why the closest branch failed
        best = max(err.context, key=lambda e: len(list(e.absolute_path)))
        return f"{err.message[:200]} (closest branch: {_path(best)}: {best.message[:200]})"
    return err.message[:300]


@functools.lru_cache(maxsize=1)
def load_spec() -> Spec:
    """The vendored spec, parsed once per process."""
    document = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return Spec(document["schemas"])
