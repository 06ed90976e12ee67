"""The ``audit`` section: what a chat request does when the audit log cannot record it (docs/audit.md).

Every request is recorded in the audit log. When the log's store is down or its queue is full,
``on_failure`` decides for this policy's requests: ``fail_open`` (the default) serves them and
counts each lost entry (``bedside_audit_dropped``, a ``/readyz`` warning); ``fail_closed`` refuses
them with 503 ``audit_unavailable`` before anything reaches the model, and every request it admits
holds a reserved place in the queue, so its entry is never dropped.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from proxy.policy.sections.base import StrictModel


class Audit(StrictModel):
    on_failure: Literal["fail_open", "fail_closed"] = Field(
        default="fail_open",
        description="When the audit log cannot record a request: `fail_open` serves it and counts the lost entry; "
        "`fail_closed` refuses it (503 `audit_unavailable`) before the model sees it.",
    )
