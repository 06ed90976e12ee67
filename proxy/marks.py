"""Bedside's mark on its own guidance messages: one constant, used everywhere.

Every system message Bedside adds (the persona, tone rules, rails' reask notes, the spotlighting note) starts with
``[bedside:<kind>]``. Clients may never send the mark (the API refuses it in any disguise), so a
message that carries it is Bedside's own: stages skip it when reading the user's words, and the
model can trust it as the operator's guidance.
"""

from __future__ import annotations

__all__ = ["BEDSIDE_MARK", "MEMORY_MARK", "PERSONA_MARK", "REASK_MARK", "SPOTLIGHT_MARK", "TONE_MARK", "is_bedside_text"]

#: The prefix of every message Bedside writes itself.
BEDSIDE_MARK = "[bedside:"
PERSONA_MARK = BEDSIDE_MARK + "persona]"
TONE_MARK = BEDSIDE_MARK + "tone]"
REASK_MARK = BEDSIDE_MARK + "rails]"
MEMORY_MARK = BEDSIDE_MARK + "memory]"
SPOTLIGHT_MARK = BEDSIDE_MARK + "spotlight]"


def is_bedside_text(text: object) -> bool:
    """Whether ``text`` is one of Bedside's own guidance texts."""
    return isinstance(text, str) and text.startswith(BEDSIDE_MARK)
