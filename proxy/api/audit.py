"""The audit API: signed checkpoints and RFC 6962 proofs (``/v1/audit/...``, the ``admin`` scope).

* ``GET /v1/audit/checkpoint``: the newest signed checkpoint: ``{"object": "audit.checkpoint",
  "origin", "tree_size", "root_hash" (base64), "note" (the C2SP signed note), "verifier_key"}``.
  ``?refresh=true`` first signs a new one when the log has grown (so a proof can cover an entry
  written a moment ago).
* ``GET /v1/audit/proof/inclusion?index=I&tree_size=N``: ``{"object": "audit.inclusion_proof",
  "index", "tree_size", "leaf_hash", "hashes": [base64, ...]}``, the audit path of entry ``I`` in
  the tree of the first ``N`` entries (``N`` defaults to the newest checkpoint's size).
* ``GET /v1/audit/proof/consistency?first=M&second=N``: ``{"object": "audit.consistency_proof",
  "first", "second", "hashes": [...]}``, showing the tree of ``M`` entries is a prefix of the tree
  of ``N`` (``N`` defaults to the newest checkpoint's size).

Proofs carry hashes only, never entries. In open mode (no API key anywhere) the routes answer
anyone, with the same loud warning as the rest of an open Bedside; once keys exist a key with the
``admin`` scope is required (401 without a valid key, 403 ``insufficient_scope`` without the scope).
Bad parameters are 400 naming the parameter; a tree size beyond the log is 400 ``invalid_tree_size``.
"""

from __future__ import annotations

import base64
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State

from proxy.api.privacy import _headers, json_response
from proxy.audit.log import AuditLog
from proxy.auth import check_single_credential
from proxy.errors import InvalidRequest, NotFound, ServiceUnavailable
from proxy.services import Services

SCOPE = "admin"
_MAX_INDEX = 2**62


def _audit(request: Request[Any, Any, Any], state: State) -> AuditLog:
    services: Services = state.services
    check_single_credential(request.scope["headers"])
    services.keyring.authenticate_scoped(_headers(request), SCOPE)
    if services.audit is None:
        raise NotFound("The audit log is turned off on this Bedside (audit.enabled: false).", code="audit_disabled")
    return services.audit


def _int(request: Request[Any, Any, Any], name: str, *, default: int | None = None) -> int:
    values = request.query_params.getall(name, [])
    if not values:
        if default is None:
            raise InvalidRequest(f"Add the query parameter '{name}' (a whole number >= 0).", param=name, code="missing_parameter")
        return default
    value = values[0]
    if len(values) > 1 or not value.isdigit() or int(value) > _MAX_INDEX:
        raise InvalidRequest(f"'{name}' must be one whole number >= 0.", param=name, code="invalid_parameter")
    return int(value)


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


async def _latest_size(audit: AuditLog) -> int:
    cp = await audit.latest_checkpoint()
    if cp is None:
        raise NotFound("No checkpoint has been signed yet. GET /v1/audit/checkpoint?refresh=true signs one.", code="no_checkpoint")
    return cp.size


def _check_sizes(ok: bool, message: str, param: str) -> None:
    if not ok:
        raise InvalidRequest(message, param=param, code="invalid_tree_size")


@get("/v1/audit/checkpoint")
async def checkpoint(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    audit = _audit(request, state)
    refresh = request.query_params.get("refresh", "false")
    if refresh not in ("true", "false"):
        raise InvalidRequest("'refresh' is true or false.", param="refresh", code="invalid_parameter")
    if refresh == "true":
        if audit.signer is None:
            raise ServiceUnavailable("This Bedside has no audit signing key, so it cannot sign a checkpoint.", code="audit_unavailable")
        cp = await audit.checkpoint()
    else:
        found = await audit.latest_checkpoint()
        if found is None:
            raise NotFound("No checkpoint has been signed yet. Ask again with ?refresh=true to sign one.", code="no_checkpoint")
        cp = found
    body: dict[str, Any] = {"object": "audit.checkpoint", **cp.to_json()}
    if audit.signer is not None:
        body["verifier_key"] = audit.signer.verifier.text()
    return json_response(body)


@get("/v1/audit/proof/inclusion")
async def inclusion_proof(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    audit = _audit(request, state)
    index = _int(request, "index")
    size = _int(request, "tree_size", default=-1) if "tree_size" in request.query_params else await _latest_size(audit)
    _check_sizes(index < size, f"Entry {index} is not in a tree of {size} entries: ask for a tree_size above the index (the newest checkpoint's by default).", "tree_size")
    current = await audit.tree_size()
    _check_sizes(size <= current, f"The log has {current} entries; tree_size must be at most that.", "tree_size")
    hashes = await audit.inclusion_proof(index, size)
    entry = await audit.entry(index)
    return json_response(
        {"object": "audit.inclusion_proof", "index": index, "tree_size": size, "leaf_hash": _b64(entry[1]) if entry else None, "hashes": [_b64(h) for h in hashes]}
    )


@get("/v1/audit/proof/consistency")
async def consistency_proof(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    audit = _audit(request, state)
    first = _int(request, "first")
    second = _int(request, "second", default=-1) if "second" in request.query_params else await _latest_size(audit)
    _check_sizes(first <= second, f"'first' ({first}) must not be larger than 'second' ({second}).", "first")
    current = await audit.tree_size()
    _check_sizes(second <= current, f"The log has {current} entries; 'second' must be at most that.", "second")
    hashes = await audit.consistency_proof(first, second)
    return json_response({"object": "audit.consistency_proof", "first": first, "second": second, "hashes": [_b64(h) for h in hashes]})


ROUTES = [checkpoint, inclusion_proof, consistency_proof]
