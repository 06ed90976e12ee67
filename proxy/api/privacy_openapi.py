"""The OpenAPI document of the privacy routes (``/v1/users/...``), published as ``docs/privacy-openapi.json``.

It describes what :mod:`proxy.api.privacy`, :mod:`proxy.api.transcripts` and :mod:`proxy.api.rights`
accept and answer, every status included. The export and receipt schemas come from their pydantic
models (:mod:`proxy.privacy.export_document`, :mod:`proxy.privacy.erasure_receipt`); the smaller
answers are written here. ``bedside docs`` writes it; ``tests/security/test_privacy_fuzz.py``
fuzzes the app against it with schemathesis (no 5xx, answers match their schemas).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import models_json_schema

from proxy.crypto.subjects import MAX_USER_ID
from proxy.privacy.erasure_receipt import ErasureReceipt
from proxy.privacy.export_document import ExportDocument
from proxy.storage.tables import MEMORY_KINDS, PURPOSES

OPENAPI_NAME = "privacy-openapi.json"
_REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _obj(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required if required is not None else list(properties), "additionalProperties": False}


_STR = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
_HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_NULLABLE_STR = {"type": ["string", "null"]}

_HAND_WRITTEN: dict[str, Any] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "message": {"type": "string", "minLength": 1},
                    "type": _STR,
                    "param": _NULLABLE_STR,
                    "code": _NULLABLE_STR,
                }
            )
        }
    ),
    "ConsentDecision": _obj({"purpose": {"type": "string", "enum": list(PURPOSES)}, "granted": {"type": "boolean"}}),
    "ConsentReceiptAnswer": _obj(
        {
            "object": {"const": "consent.receipt"},
            "id": _STR,
            "created_at": _TIME,
            "purpose": {"type": "string", "enum": list(PURPOSES)},
            "granted": {"type": "boolean"},
            "method": _STR,
            "notice_version": _STR,
            "notice_hash": _STR,
        }
    ),
    "ConsentState": _obj(
        {
            "object": {"const": "consent"},
            "user": _STR,
            "purposes": {
                "type": "object",
                "additionalProperties": _obj({"granted": {"type": "boolean"}, "receipt": {"anyOf": [_ref("ConsentReceiptAnswer"), {"type": "null"}]}}),
            },
            "history": {"type": "array", "items": _ref("ConsentReceiptAnswer")},
        }
    ),
    "Memory": _obj(
        {
            "id": _STR,
            "text": _STR,
            "kind": {"type": "string", "enum": list(MEMORY_KINDS)},
            "provenance": _obj({"conversation": _STR, "turn": {"type": "integer"}, "time": _TIME}),
            "created": _TIME,
            "updated": _TIME,
        }
    ),
    "MemoryList": _obj({"object": {"const": "list"}, "data": {"type": "array", "items": _ref("Memory")}}),
    "MemoryDeleted": _obj({"object": {"const": "memory.deleted"}, "id": _STR, "deleted": {"type": ["boolean", "integer"]}}, required=["object", "deleted"]),
    "ConversationSummary": _obj(
        {
            "object": {"const": "conversation"},
            "id": _HEX64,
            "turns": {"type": "integer"},
            "first_at": _TIME,
            "last_at": _TIME,
            "policy": _obj({"name": _STR, "version": _STR}),
        }
    ),
    "ConversationList": _obj({"object": {"const": "list"}, "user": _STR, "data": {"type": "array", "items": _ref("ConversationSummary")}}),
    "Conversation": _obj(
        {
            "object": {"const": "conversation"},
            "id": _HEX64,
            "user": _STR,
            "turns": {
                "type": "array",
                "items": _obj(
                    {
                        "turn": {"type": "integer"},
                        "created_at": _TIME,
                        "policy": _obj({"name": _STR, "version": _STR}),
                        "readings": {"type": "object"},
                        "user": _NULLABLE_STR,
                        "reply": _NULLABLE_STR,
                        "unreadable": _NULLABLE_STR,
                    }
                ),
            },
        }
    ),
}


def _param(name: str, limit: int, description: str, example: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string", "minLength": 1, "maxLength": limit}, "example": example}


_USER = _param("user", MAX_USER_ID, "The tenant's id for its end user (the value sent as X-Bedside-User).", "alice")


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _answers(ok: str, schema: str, *, body: bool = False, found: str = "user_not_found: Bedside holds nothing about this user in the caller's tenant.") -> dict[str, Any]:
    out: dict[str, Any] = {
        "200": {"description": ok, "content": {"application/json": {"schema": _ref(schema)}}},
        "400": _error("A malformed id, body or credential (invalid_user, invalid_purpose, invalid_type, unknown_parameter, invalid_json, duplicate_authorization)."),
        "401": _error("No or an unknown API key (once keys exist)."),
        "403": _error("insufficient_scope: the key lacks the `privacy` scope."),
        "404": _error(found),
    }
    if body:
        out["413"] = _error("The body is larger than 4 KiB.")
        out["415"] = _error("The body is not application/json.")
    return out


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the privacy routes."""
    _, generated = models_json_schema([(ExportDocument, "serialization"), (ErasureReceipt, "serialization")], ref_template=_REF)
    models = generated.get("$defs", {})
    clash = sorted(set(models) & set(_HAND_WRITTEN))
    if clash:
        raise ValueError(f"schema names used twice in the privacy OpenAPI document: {clash}")
    schemas = {**models, **_HAND_WRITTEN}
    for schema in schemas.values():
        schema.pop("$schema", None)
    conversation = _param("conversation", 256, "The conversation's id hash (as listed) or the conversation id.", "c-1")
    memory_id = _param("memory_id", 64, "A memory's id (as listed).", "00000000-0000-4000-8000-000000000000")
    user = [_USER]
    paths: dict[str, Any] = {
        "/v1/users/{user}/consent": {
            "parameters": user,
            "put": {
                "summary": "Grant or withdraw a purpose",
                "operationId": "putConsent",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ConsentDecision")}}},
                "responses": _answers("The decision's receipt.", "ConsentReceiptAnswer", body=True, found="Not answered: a decision creates the user."),
            },
            "get": {"summary": "The consent in force and its history", "operationId": "getConsent", "responses": _answers("The consent state.", "ConsentState")},
        },
        "/v1/users/{user}/memories": {
            "parameters": user,
            "get": {"summary": "What Bedside remembers of the user", "operationId": "listMemories", "responses": _answers("The memories, decrypted.", "MemoryList")},
            "delete": {"summary": "Forget all of the user's memories", "operationId": "forgetMemories", "responses": _answers("How many were forgotten.", "MemoryDeleted")},
        },
        "/v1/users/{user}/memories/{memory_id}": {
            "parameters": [*user, memory_id],
            "delete": {
                "summary": "Forget one memory",
                "operationId": "forgetMemory",
                "responses": _answers("Forgotten.", "MemoryDeleted", found="user_not_found, or memory_not_found for an id that is not this user's."),
            },
        },
        "/v1/users/{user}/conversations": {
            "parameters": user,
            "get": {"summary": "The user's recorded conversations", "operationId": "listConversations", "responses": _answers("Most recent first.", "ConversationList")},
        },
        "/v1/users/{user}/conversations/{conversation}": {
            "parameters": [*user, conversation],
            "get": {
                "summary": "One conversation's turns, decrypted",
                "operationId": "getConversation",
                "responses": _answers("The turns.", "Conversation", found="user_not_found, or conversation_not_found."),
            },
        },
        "/v1/users/{user}/export": {
            "parameters": user,
            "get": {
                "summary": "Everything Bedside holds about the user (GDPR Art. 15 and 20), streamed",
                "operationId": "exportUser",
                "responses": _answers("The export document (docs/export.schema.json).", "ExportDocument"),
            },
        },
        "/v1/users/{user}": {
            "parameters": user,
            "delete": {
                "summary": "Erase the user (GDPR Art. 17)",
                "operationId": "eraseUser",
                "responses": {
                    **_answers("The deletion receipt (docs/erasure-receipt.schema.json).", "ErasureReceipt"),
                    "503": _error(
                        "audit_unavailable: erased, but the audit log did not record it yet; "
                        "erasure_busy: the outcome writer did not drain, nothing was erased yet. Either way, repeat the DELETE to get the receipt."
                    ),
                },
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bedside privacy API",
            "version": "1",
            "description": "Consent, memories, transcripts, export and erasure of a tenant's end users. "
            "Keys need the `privacy` scope (open mode: none). Generated by `bedside docs` from proxy/api/privacy_openapi.py.",
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}, {}],
        "paths": paths,
    }


def render() -> str:
    """``docs/privacy-openapi.json``."""
    return json.dumps(openapi(), indent=2, ensure_ascii=False) + "\n"
