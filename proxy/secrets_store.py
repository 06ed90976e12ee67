"""Secrets Bedside generates for itself in ``data_dir`` (the demo and embedded defaults).

``subject.key``: the HMAC key that turns user and conversation ids into the pseudonymous subject
ids used in logs (and, later, audit entries). Created on first use with mode 0600, so every CLI
command given the same ``BEDSIDE_DATA_DIR`` derives the same subject ids. ``pii-hash.key``: the
key of the PII ``hash`` action. Replicas do not share a data directory, so both can be given as
files instead (``privacy.identifier_key_file``, ``privacy.pii_hash_key_file``: :func:`configured_key`),
which every replica must share (docs/scale-out.md).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def load_or_create_key(data_dir: Path, name: str, size: int = 32) -> bytes:
    """The key in ``data_dir/name``, created (0600) when missing."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / name
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    return key


def configured_key(path: Path | None, data_dir: Path, name: str) -> bytes:
    """The key in the file ``path`` (64 hex digits) when one is configured, else ``data_dir/name``
    (created on first use)."""
    if path is None:
        return load_or_create_key(data_dir, name)
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 16:
        raise ValueError(f"the key in {path} is too short: write 64 hex digits (e.g. `openssl rand -hex 32`)")
    return key


class SubjectHasher:
    """Keyed HMAC of identifiers: the same id gives the same short subject, irreversibly."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, value: str | None) -> str | None:
        if value is None:
            return None
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return "SubjectHasher(<key hidden>)"
