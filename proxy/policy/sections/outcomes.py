"""The ``outcomes`` section: whether this policy's conversations keep outcome facts, and for how long (see docs/kpis.md).

Outcome facts are machine values only (turn count, emotion labels and scores, tone rule and rail
verdict names, handoff, feedback), never text or personal data; ``no-store`` conversations keep
none whatever this says.
"""

from __future__ import annotations

from pydantic import Field

from proxy.policy.sections.base import StrictModel


class Outcomes(StrictModel):
    enabled: bool = Field(default=True, description="Keep outcome facts of this policy's conversations for the KPIs, the report and the console.")
    retention_days: int | None = Field(
        default=None,
        ge=1,
        le=36500,
        description="Days a conversation's outcome facts are kept after its last turn. Unset: the deployment's `outcomes.retention_days`.",
    )
