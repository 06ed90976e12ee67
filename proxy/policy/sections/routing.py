"""The ``routing`` section: which model names select this policy and where requests go."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from proxy.policy.sections.base import ModelName, NonEmptyStr, StrictModel


class Routing(StrictModel):
    """Which model names select this policy, and which model and upstream serve it.

    A client selects a policy by asking for one of its ``aliases`` as the ``model``. Requests whose
    model is no alias fall to the default policy (if any), where ``allowed_models`` limits which
    upstream models a client may name directly. ``aliases`` is never inherited through ``extends``.
    """

    aliases: list[ModelName] = Field(
        default_factory=list,
        description="Model names clients ask for to select this policy (e.g. `support-agent`). Unique across all policies; never inherited.",
    )
    upstream_model: ModelName | None = Field(
        default=None,
        description="The model sent upstream. `null` passes the client's model through unchanged.",
    )
    allowed_models: list[ModelName] | None = Field(
        default=None,
        description="For the default policy: upstream models a client may name directly. `null` allows any; `[]` allows none (only aliases work).",
    )
    upstream: str | None = Field(
        default=None,
        description="Name of a configured upstream; `null` uses the default upstream.",
    )
    tenants: list[NonEmptyStr] | None = Field(
        default=None,
        description="Tenants (see client keys) that may use this policy. `null` allows every tenant; for any other "
        "tenant its aliases do not exist (404, as for an unknown model). In open mode the tenant is `open`.",
    )

    @field_validator("aliases")
    @classmethod
    def _unique_aliases(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for alias in value:
            if alias in seen:
                raise PydanticCustomError(
                    "duplicate_alias",
                    "alias '{alias}' is listed twice",
                    {"alias": alias},
                )
            seen.add(alias)
        return value

    def target_model(self, requested: str) -> str:
        """The model name to send upstream for a request that asked for ``requested``."""
        return self.upstream_model or requested

    def serves(self, tenant: str) -> bool:
        """Whether ``tenant`` may use this policy."""
        return self.tenants is None or tenant in self.tenants
