"""The demo model's schema filler: every value it builds validates against its schema."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from proxy.demo.schema_fill import FillContext, fill

CTX = FillContext(said="Where is my order <ORDER_ID_1>? Mail me at <EMAIL_ADDRESS_1>.", placeholders=("<ORDER_ID_1>", "<EMAIL_ADDRESS_1>"))


class Colour(StrEnum):
    red = "red"
    blue = "blue"


class Address(BaseModel):
    street: str
    city: str = Field(min_length=2, max_length=5)


class Order(BaseModel):
    order_id: str
    customerEmail: str
    quantity: int = Field(ge=3, le=9, multiple_of=3)
    price: float = Field(gt=0, lt=1)
    colour: Colour
    kind: Literal["parcel"]
    gift: bool
    note: str | None
    address: Address
    history: list[Address] = Field(min_length=2)
    tags: list[str] = Field(max_length=0)


SCHEMAS: dict[str, Any] = {
    "empty object": {"type": "object", "properties": {}},
    "no schema at all": {},
    "strict tool": {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": ["integer", "null"]}}, "required": ["query", "limit"], "additionalProperties": False},
    "pydantic with $defs, enums, bounds, nullables": Order.model_json_schema(),
    "anyOf / oneOf": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"x": {"oneOf": [{"type": "integer", "exclusiveMinimum": 4}, {"type": "string"}]}}, "required": ["x"]}]},
    "allOf": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, {"properties": {"b": {"type": "integer", "minimum": 2}}, "required": ["b"]}]},
    "recursive $ref": {"$defs": {"Node": {"type": "object", "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}, "required": ["name"]}}, "$ref": "#/$defs/Node"},
    "required but undescribed": {"type": "object", "required": ["mystery"]},
    "formats": {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}, "day": {"type": "string", "format": "date"}, "site": {"type": "string", "format": "uri"}}},
    "const and tuple": {"type": "array", "prefixItems": [{"const": 1}, {"type": "string", "minLength": 30}], "minItems": 2, "maxItems": 2},
    "exclusive maximum": {"type": "number", "minimum": 5, "exclusiveMaximum": 5.5},
}


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_the_value_fits_the_schema(name: str) -> None:
    schema = SCHEMAS[name]
    value = fill(schema, CTX)
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
    assert fill(schema, CTX) == value, "deterministic"


def test_strings_come_from_what_the_request_said() -> None:
    value = fill(Order.model_json_schema(), CTX)
    assert value["order_id"] == "<ORDER_ID_1>", "a property named like a placeholder's type gets the placeholder"
    assert value["customerEmail"] == "<EMAIL_ADDRESS_1>", "camelCase and synonyms: customerEmail ~ EMAIL_ADDRESS"
    assert fill({"type": "object", "properties": {"query": {"type": "string"}}}, CTX) == {"query": CTX.said}, "free text gets the user's message"
    assert fill({"type": "object", "properties": {"city": {"type": "string"}}}, CTX) == {"city": "demo city"}
    assert fill({"type": "object", "properties": {"address": {"type": "string"}}}, CTX) == {"address": "demo address"}, "an e-mail is not a street address"
