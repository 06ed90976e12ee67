"""The ``emotion`` and ``tone`` sections: read how the user feels, and tell the model how to answer.

The emotion stage classifies every user turn (frustration, anger, confusion, anxiety, sadness, joy,
gratitude, neutral; intensity; a distress flag) and the trend over the last turns. The tone stage
picks the rules whose conditions match and injects them as one system message marked as guidance.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from proxy.policy.sections.base import NonEmptyStr, StrictModel, Template

Emotion = Literal["frustration", "anger", "confusion", "anxiety", "sadness", "joy", "gratitude", "neutral"]
Trend = Literal["rising", "falling", "steady"]


class EmotionSection(StrictModel):
    enabled: bool = Field(default=False, description="Classify the user's emotion on every request.")
    classifier: NonEmptyStr = Field(
        default="builtin",
        description="`builtin` (the shipped model), `contextual` (the optional MiniLM reader: needs the `contextual` extra and "
        "the encoder wheel, checked when the policies load) or `module:factory` for a bigger one.",
    )
    window: int = Field(default=4, ge=2, le=20, description="User turns the trend looks at.")
    header: bool = Field(default=True, description="Send the `x-bedside-emotion` response header.")


class ScoreRange(StrictModel):
    """A range of a 0..1 score, both ends included."""

    min: float = Field(default=0.0, ge=0, le=1, description="At least this.")
    max: float = Field(default=1.0, ge=0, le=1, description="At most this.")


class ToneWhen(StrictModel):
    emotion: list[Emotion] = Field(default_factory=list, description="Any of these emotions (empty: any).")
    min_intensity: float = Field(default=0.0, ge=0, le=1, description="At least this intensity.")
    frustration: ScoreRange | None = Field(
        default=None,
        description="The calibrated frustration score of the latest turn (0..1, the expected 0-4 grade / 4: "
        "0.25 mild impatience, 0.5 annoyed, 0.75 angry), read with the conversation, in this range; "
        "e.g. `{min: 0.6}`. Combines with the other conditions (all must hold).",
    )
    trend: Trend | None = Field(default=None, description="Only with this trend.")
    distress: bool | None = Field(default=None, description="Only when the distress flag is (or is not) set.")


class ToneRule(StrictModel):
    name: NonEmptyStr = Field(description="A short name, recorded for the audit log.")
    when: ToneWhen = Field(default_factory=ToneWhen, description="When the rule applies.")
    say: NonEmptyStr = Field(description="The instruction for the model, e.g. 'Acknowledge the frustration in one short sentence.'")


class Escalation(StrictModel):
    """Rising frustration over several turns: offer a person."""

    enabled: bool = Field(default=False, description="Offer a human when frustration keeps rising.")
    min_turns: int = Field(default=3, ge=2, description="User turns of negative affect (or of a frustration score rising turn after turn) before escalating.")
    min_intensity: float = Field(default=0.6, ge=0, le=1, description="Intensity of the latest turn needed.")
    min_frustration: float = Field(
        default=0.6, ge=0, le=1,
        description="Or: the calibrated frustration score of the latest turn needed (a turn also counts as "
        "negative when its own score reaches it).",
    )
    instruction: Template = Field(
        default="Offer to connect the person with a human colleague, in one sentence, and say how: {support_url}.",
        description="Added to the tone guidance when escalating (template).",
    )


class Tone(StrictModel):
    enabled: bool = Field(default=False, description="Inject tone rules.")
    placement: Literal["before_last_user", "after_system"] = Field(default="before_last_user", description="Where the tone system message goes.")
    max_rules: int = Field(default=3, ge=1, le=10, description="Most rules injected at once (first matching, in order).")
    rules: list[ToneRule] = Field(default_factory=list, description="Rules, first match first.")
    escalation: Escalation = Field(default_factory=Escalation, description="Escalation to a human.")
