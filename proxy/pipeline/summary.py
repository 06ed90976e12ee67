"""The response headers that summarise what Bedside did to a request, without any content.

Three stages say what they did in one header each, written in the request phase (so a streaming
response sends them with its head, with what is known by then):

==========================  =================  ====================================================
header                      written by         value
==========================  =================  ====================================================
``x-bedside-clamps``        policy stage       the clamps that changed the request, e.g.
                                               ``tools_removed=1, max_tokens_set``
``x-bedside-pii``           pii stage          personal data replaced, per entity, in order of
                                               first appearance: ``PERSON=1, EMAIL_ADDRESS=1``
``x-bedside-tone``          tone stage         the tone rules that fired: ``frustration_high``
                                               (and ``escalation`` when a person was offered)
==========================  =================  ====================================================

A value is ``none`` when the stage ran and found nothing to do, and ends in ``; shadow`` when the
policy runs in shadow mode (computed and recorded, not applied). Values hold counts and names the
policy defines (entity types, rule names, clamp names), never text from the request: the request
log line carries the same values (fields ``clamps``, ``pii``, ``tone``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["CLAMPS_HEADER", "PII_HEADER", "SUMMARY_HEADERS", "TONE_HEADER", "summary_value"]

CLAMPS_HEADER = "x-bedside-clamps"
PII_HEADER = "x-bedside-pii"
TONE_HEADER = "x-bedside-tone"
#: header -> the request-log field that carries the same value
SUMMARY_HEADERS: Mapping[str, str] = {CLAMPS_HEADER: "clamps", PII_HEADER: "pii", TONE_HEADER: "tone"}


def summary_value(items: Mapping[str, int | None] | Iterable[str], *, shadow: bool = False) -> str:
    """``name=count`` (or a bare ``name`` when the count is ``None``) joined by ``", "``, in the
    given order; ``none`` when empty; else ``"; shadow"`` appended in shadow mode."""
    if isinstance(items, Mapping):
        parts = [name if count is None else f"{name}={count}" for name, count in items.items()]
    else:
        parts = list(items)
    if not parts:
        return "none"
    value = ", ".join(parts)
    return f"{value}; shadow" if shadow else value
