"""Privacy machinery: pseudonymisation now; consent, memories, export, erasure and the audit chain
join here later (see docs/pii.md and DESIGN.md)."""

from proxy.privacy.pseudonyms import (
    Action,
    PseudonymVault,
    Redaction,
    partial_placeholder_suffix_len,
    redact,
    restore,
)

__all__ = [
    "Action",
    "PseudonymVault",
    "Redaction",
    "partial_placeholder_suffix_len",
    "redact",
    "restore",
]
