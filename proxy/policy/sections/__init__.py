"""Policy sections, one module each. A new section is a module here plus one field line in
:class:`proxy.policy.schema.Policy` (see docs/policies.md, "Adding a section")."""

from proxy.policy.sections.base import Finding, StrictModel
from proxy.policy.sections.clamps import Clamps, TemperatureRange, TopPRange
from proxy.policy.sections.microcopy import (
    DEFAULT_TEXTS,
    MessageKind,
    Messages,
    Microcopy,
)
from proxy.policy.sections.persona import Disclosure, Persona
from proxy.policy.sections.routing import Routing

__all__ = [
    "DEFAULT_TEXTS",
    "Clamps",
    "Disclosure",
    "Finding",
    "MessageKind",
    "Messages",
    "Microcopy",
    "Persona",
    "Routing",
    "StrictModel",
    "TemperatureRange",
    "TopPRange",
]
