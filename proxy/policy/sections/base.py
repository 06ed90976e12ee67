"""Shared building blocks for policy sections: the strict frozen base model and constrained strings.

Every policy model is ``frozen=True, extra="forbid", strict=True``: YAML already yields native
types, so strict validation turns ``max_tokens: "lots"`` or ``temperature: "0.2"`` into a precise
error instead of a silent coercion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from proxy.policy.errors import Loc
from proxy.policy.microcopy import template_problems


class StrictModel(BaseModel):
    """Base of every policy model: immutable, no unknown fields, no type coercion."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


@dataclass(frozen=True, slots=True)
class Finding:
    """A cross-field problem found after validation, relative to its section (see ``findings()``)."""

    loc: Loc
    message: str
    hint: str | None = None


_SLUG = re.compile(r"^_?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_MODEL_NAME = re.compile(r"^[^\s]{1,200}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise PydanticCustomError(
            "slug",
            "expected a slug of lowercase letters, digits and hyphens (a leading '_' marks an abstract policy), got \"{value}\"",
            {"value": value},
        )
    return value


def _model_name(value: str) -> str:
    if not _MODEL_NAME.match(value):
        raise PydanticCustomError(
            "model_name",
            'expected a model name without spaces, got "{value}"',
            {"value": value},
        )
    return value


def _language(value: str) -> str:
    if not _LANGUAGE.match(value):
        raise PydanticCustomError(
            "language",
            "expected a BCP-47 language tag like 'en' or 'pt-BR', got \"{value}\"",
            {"value": value},
        )
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("empty", "must not be empty", {})
    return value


def _template(value: str) -> str:
    problems = template_problems(value)
    if problems:
        raise PydanticCustomError("template", "; ".join(problems), {})
    return value


#: A policy name: lowercase slug, optionally starting with ``_`` (abstract).
Slug = Annotated[str, AfterValidator(_slug)]
#: A model name as clients send it (no whitespace).
ModelName = Annotated[str, AfterValidator(_model_name)]
#: A BCP-47 language tag such as ``en`` or ``pt-BR``.
LanguageTag = Annotated[str, AfterValidator(_language)]
#: A string that is not blank.
NonEmptyStr = Annotated[str, AfterValidator(_non_empty)]
#: A user-visible text with safe ``{variables}`` (see :mod:`proxy.policy.microcopy`).
Template = Annotated[str, AfterValidator(_non_empty), AfterValidator(_template)]
