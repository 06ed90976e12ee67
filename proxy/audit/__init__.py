"""The tamper-evident audit log: typed events, an RFC 6962 Merkle tree sequenced by the database,
signed C2SP checkpoints, proofs, and verification (see docs/audit.md).

Modules: ``events`` (what is recorded), ``merkle`` (hashing and proofs), ``note`` and
``checkpoint`` (signed notes), ``store`` (tables and the sequencer), ``writer`` (queue and worker
thread), ``log`` (``AuditLog``, the facade), ``keys`` (the signing key), ``verify`` (checks).
"""
