"""The ``transcripts`` section: how long turns recorded under this policy are kept (see docs/privacy.md, "Transcripts").

Recording itself is decided by the user (the ``transcripts`` consent purpose) and the
conversation's sensitivity, not by the policy; the policy only shortens or lengthens how long a
recorded turn lives. Each turn is purged by the retention of the policy it was recorded under
(its ``policy_name``); turns of a policy that sets nothing, or that no longer exists, follow the
deployment's ``privacy.transcript_retention_days``.
"""

from __future__ import annotations

from pydantic import Field

from proxy.policy.sections.base import StrictModel


class Transcripts(StrictModel):
    retention_days: int | None = Field(
        default=None,
        ge=1,
        le=36500,
        description="Days a turn recorded under this policy is kept before `bedside retention purge` (and serve's periodic purge) deletes it. "
        "Unset: the deployment's `privacy.transcript_retention_days`.",
    )
