"""The audit log behind a user's rights: erasures and exports recorded, deletion receipts verified offline.

It sits above both :mod:`proxy.privacy` and :mod:`proxy.audit` (siblings that never import each
other) and is wired by ``proxy.services.build_services``:

* :class:`AuditedErasure` is the erasure's :class:`~proxy.privacy.erasure.ErasureAudit` seam: it
  appends a ``user_data`` entry (``action: "erased"``; the user as subject HMAC only, the erasure's
  id and counts), signs a checkpoint that covers it, and answers the receipt's
  :class:`~proxy.privacy.erasure_receipt.AuditProof` (index, checkpoint, inclusion proof, entry);
* :func:`export_recorder` appends a ``user_data`` entry (``action: "exported"``) before an export
  streams, so an export the log does not take is refused (fails closed);
* :func:`verify_receipt` checks a receipt with nothing but the verifier key (``bedside audit
  verify-receipt``): the checkpoint's signature, the entry's facts against the receipt's, the
  entry's index, and the inclusion proof. It raises :class:`ReceiptError` naming the failed check.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from proxy.audit.events import UserDataChange
from proxy.audit.log import AuditLog
from proxy.audit.note import Verifier
from proxy.audit.verify import VerificationError, verify_entry
from proxy.privacy.erasure import ErasureFacts
from proxy.privacy.erasure_receipt import AuditProof, ErasureReceipt
from proxy.privacy.user_data import Who


def erasure_event(facts: ErasureFacts) -> UserDataChange:
    """The entry an erasure leaves in the log: ids and counts, the user only as subject."""
    erased = dict(facts.erased)
    return UserDataChange(
        tenant=facts.tenant,
        subject=facts.subject,
        data="all",
        action="erased",
        count=sum(erased.values()),
        cause="rights_request",
        erasure_id=facts.erasure_id,
        erased=erased,
        consent_detached=facts.consent_detached,
        data_keys_destroyed=facts.data_keys_destroyed,
        attempts=facts.attempts,
    )


class AuditedErasure:
    """The erasure's audit seam over an :class:`AuditLog` that has a signing key."""

    def __init__(self, log: AuditLog) -> None:
        if log.signer is None:
            raise ValueError("the erasure's receipts need checkpoints: the audit log has no signing key")
        self.log = log

    async def __call__(self, facts: ErasureFacts) -> AuditProof:
        index = await self.log.append(erasure_event(facts))
        checkpoint = await self.log.checkpoint()  # integrates what is pending first: it covers the entry
        proof = await self.log.inclusion_proof(index, checkpoint.size)
        found = await self.log.entry(index)
        if found is None:
            raise LookupError(f"audit entry {index} is not stored")
        return AuditProof(
            index=index,
            checkpoint=checkpoint.note,
            inclusion_proof=[base64.b64encode(h).decode() for h in proof],
            entry=found[0].decode("utf-8"),
        )


def export_recorder(log: AuditLog) -> Callable[[Who, int], Awaitable[None]]:
    """``record(who, sections)``: appends the export's entry and waits for its index."""

    async def record(who: Who, sections: int) -> None:
        await log.append(UserDataChange(tenant=who.tenant, subject=who.scope.subject, data="all", action="exported", count=sections, cause="rights_request"))

    return record


class ReceiptError(ValueError):
    """A deletion receipt that does not verify; ``check`` names the check that failed."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"{check}: {detail}")
        self.check = check
        self.detail = detail


#: the receipt's facts the logged entry must repeat: (entry field, what it is, the receipt's value)
def _facts(receipt: ErasureReceipt) -> list[tuple[str, str, Any]]:
    return [
        ("erasure_id", "erasure id", receipt.id),
        ("tenant", "tenant", receipt.tenant),
        ("erased", "rows deleted per table", dict(receipt.erased)),
        ("consent_detached", "consent decisions kept", receipt.consent.kept),
        ("data_keys_destroyed", "data keys destroyed", len(receipt.data_keys_destroyed)),
        ("attempts", "attempts", receipt.attempts),
    ]


def verify_receipt(document: dict[str, Any], verifiers: Sequence[Verifier]) -> ErasureReceipt:
    """Check a deletion receipt offline (see the module docstring); ReceiptError names the failed check."""
    try:
        receipt = ErasureReceipt.model_validate(document)
    except ValueError as exc:
        raise ReceiptError("receipt", f"not a Bedside deletion receipt ({str(exc).splitlines()[0]})") from None
    proof = receipt.audit
    if proof is None:
        raise ReceiptError("audit", 'the receipt has no audit proof ("audit": null: no audit log was wired when it was issued)')
    payload = proof.entry.encode("utf-8")
    try:
        entry = json.loads(payload)
        hashes = [base64.b64decode(h, validate=True) for h in proof.inclusion_proof]
    except (ValueError, binascii.Error):
        raise ReceiptError("entry", "the entry is not JSON or a proof hash is not base64") from None
    if not isinstance(entry, dict) or entry.get("kind") != "user_data" or entry.get("action") != "erased":
        raise ReceiptError("entry", "the entry is not an erasure's user_data entry")
    for name, what, value in _facts(receipt):
        if entry.get(name) != value:
            raise ReceiptError("facts", f"the receipt's {what} ({value!r}) differs from the logged entry's ({entry.get(name)!r})")
    try:
        verify_entry(payload, proof.index, hashes, proof.checkpoint, verifiers)
    except VerificationError as exc:
        check, _, detail = str(exc).partition(": ")
        raise ReceiptError(check, detail) from None
    return receipt
