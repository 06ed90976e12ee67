"""Bedside: an OpenAI-compatible guardrail and consent proxy.

See ``docs/architecture.md`` for the map of the package.
"""

__version__ = "0.1.0"
