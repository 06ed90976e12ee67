"""Safe templates for the texts users see (microcopy, disclosures).

A template is plain text with a closed set of named variables, ``{assistant_name}``,
``{support_url}`` and ``{reference}``. :func:`template_problems` checks a template at load time with
:class:`string.Formatter` parsing and rejects unknown names, positional fields, attribute or index
access (``{reference.__class__}``), conversions (``!r``) and format specs (``:>10``).
:func:`render_template` never raises: values are inserted verbatim (never formatted themselves), and
a missing value renders as an empty string. Write ``{{`` and ``}}`` for literal braces.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

#: The only variables a template may use.
TEMPLATE_VARIABLES: tuple[str, ...] = ("assistant_name", "support_url", "reference")

_FORMATTER = string.Formatter()


def _allowed() -> str:
    return ", ".join("{" + v + "}" for v in TEMPLATE_VARIABLES)


def template_problems(template: str) -> list[str]:
    """Every problem with ``template``, as messages; an empty list means it is safe."""
    try:
        fields = list(_FORMATTER.parse(template))
    except ValueError:
        return ["unbalanced brace; write '{{' or '}}' for a literal brace"]
    problems: list[str] = []
    for _literal, field, spec, conversion in fields:
        if field is None:
            continue
        shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if field == "" or field.isdigit():
            problems.append(f"positional field {shown} is not allowed; use one of {_allowed()}")
        elif "." in field or "[" in field:
            problems.append(f"attribute or index access {shown} is not allowed; use one of {_allowed()}")
        elif field not in TEMPLATE_VARIABLES:
            problems.append(f"unknown template variable {shown}; use one of {_allowed()}")
        elif conversion or spec:
            problems.append(f"conversions and format specs are not allowed in {shown}; write {{{field}}}")
    return problems


def template_variables(template: str) -> set[str]:
    """The allowed variable names ``template`` uses (empty if it does not parse)."""
    try:
        return {f for _, f, _, _ in _FORMATTER.parse(template) if f in TEMPLATE_VARIABLES}
    except ValueError:
        return set()


def render_template(template: str, variables: Mapping[str, str | None]) -> str:
    """Fill ``template`` with ``variables``; never raises.

    Unknown or missing variables render as an empty string, values are inserted as they are, and a
    template that does not parse is returned unchanged.
    """
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError:
        return template
    out: list[str] = []
    for literal, field, _spec, _conversion in parts:
        out.append(literal)
        if field is not None and field in TEMPLATE_VARIABLES:
            value = variables.get(field)
            out.append("" if value is None else str(value))
    return "".join(out)
