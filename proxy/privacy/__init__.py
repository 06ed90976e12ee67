"""Privacy machinery: pseudonymisation, the consent ledger, memories, transcripts, and the user's
rights (export and erasure: ``user_data``, ``export``, ``erasure``, ``inventory``, ``rights``).
See docs/pii.md and docs/privacy.md."""

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
