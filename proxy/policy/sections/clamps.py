"""The ``clamps`` section: hard limits on request parameters, tools and input size."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from proxy.policy.sections.base import NonEmptyStr, StrictModel

PositiveInt = Annotated[int, Field(gt=0)]
_MIN = "Lower bound; smaller request values are raised."
_MAX = "Upper bound; larger request values are lowered."
_DEFAULT = "Value set when the request has none."


class _Range(StrictModel):
    """A closed interval with an optional value used when the client sends none."""

    min: float | None = Field(default=None, description="Lower bound; smaller request values are raised.")
    max: float | None = Field(default=None, description="Upper bound; larger request values are lowered.")
    default: float | None = Field(default=None, description="Value set when the request has none.")

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError(
                "range",
                "min ({lo}) is greater than max ({hi})",
                {"lo": self.min, "hi": self.max},
            )
        if self.default is not None and self.apply(self.default) != self.default:
            raise PydanticCustomError("range", "default ({d}) is outside min..max", {"d": self.default})
        return self

    def apply(self, value: float | None) -> float | None:
        """``value`` clamped into the range; ``default`` when ``value`` is ``None``."""
        if value is None:
            return self.default
        if self.min is not None and value < self.min:
            return self.min
        if self.max is not None and value > self.max:
            return self.max
        return value


class TemperatureRange(_Range):
    """Allowed sampling temperature (0..2)."""

    min: Annotated[float, Field(ge=0, le=2)] | None = Field(default=None, description=_MIN)
    max: Annotated[float, Field(ge=0, le=2)] | None = Field(default=None, description=_MAX)
    default: Annotated[float, Field(ge=0, le=2)] | None = Field(default=None, description=_DEFAULT)


class TopPRange(_Range):
    """Allowed nucleus sampling ``top_p`` (0..1)."""

    min: Annotated[float, Field(ge=0, le=1)] | None = Field(default=None, description=_MIN)
    max: Annotated[float, Field(ge=0, le=1)] | None = Field(default=None, description=_MAX)
    default: Annotated[float, Field(ge=0, le=1)] | None = Field(default=None, description=_DEFAULT)


class Clamps(StrictModel):
    """Hard limits applied to every request before it goes upstream.

    `max_tokens` is a ceiling for both `max_tokens` and `max_completion_tokens`: larger values are
    lowered and a missing value is set to the ceiling. Ranges clamp the request value into
    `min..max` and set `default` when the client sent none. Tools outside `allowed_tools` are removed
    from the request (`remove`) or the request is rejected (`refuse`).
    """

    max_tokens: PositiveInt | None = Field(default=None, description="Ceiling on completion tokens.")
    temperature: TemperatureRange | None = Field(default=None, description="Allowed temperature range.")
    top_p: TopPRange | None = Field(default=None, description="Allowed top_p range.")
    allowed_tools: list[NonEmptyStr] | None = Field(
        default=None,
        description="Tool (function) names the client may offer; `null` allows any.",
    )
    on_disallowed_tool: Literal["remove", "refuse"] = Field(
        default="remove",
        description="`remove` drops disallowed tools; `refuse` rejects the request.",
    )
    max_messages: PositiveInt | None = Field(default=None, description="Most messages a request may carry.")
    max_input_chars: PositiveInt | None = Field(
        default=None,
        description="Most characters of message content a request may carry.",
    )

    def token_limit(self, requested: int | None) -> int | None:
        """The completion-token limit to send for a request that asked for ``requested``."""
        if self.max_tokens is None:
            return requested
        return self.max_tokens if requested is None else min(requested, self.max_tokens)

    def tool_allowed(self, name: str) -> bool:
        """Whether a tool called ``name`` may be offered to the model."""
        return self.allowed_tools is None or name in self.allowed_tools
