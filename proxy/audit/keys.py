"""The checkpoint signing key: from a variable, a file, or (embedded default) ``data_dir/audit-signing.key``.

The key never enters the database. The default file is created 0600 on first use, like the KEK,
with a random name (``bedside-audit-<8 hex>``) that becomes the log's origin unless
``audit.origin`` says otherwise. Every replica of a deployment must share the key (or at least
publish every verifier key it signs with) so one log has one identity.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from proxy.audit.note import NoteError, Signer, Verifier
from proxy.settings import Settings

SIGNING_KEY_FILE = "audit-signing.key"


def create_key_file(path: Path, name: str | None = None) -> Signer:
    """A new signing key written to ``path`` (0600; refused with FileExistsError when it exists)."""
    signer = Signer.generate(name or f"bedside-audit-{secrets.token_hex(4)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(signer.text() + "\n")
    return signer


def load_signer(settings: Settings) -> Signer:
    """The configured signing key; the embedded default is created when missing. NoteError names
    what is wrong (never the key)."""
    a = settings.audit
    if a.signing_key_env:
        value = os.environ.get(a.signing_key_env)
        if not value:
            raise NoteError(f"audit.signing_key_env names {a.signing_key_env}, which is not set")
        return Signer.parse(value)
    if a.signing_key_file is not None:
        return Signer.from_file(a.signing_key_file)
    path = settings.data_dir / SIGNING_KEY_FILE
    if path.exists():
        return Signer.from_file(path)
    try:
        return create_key_file(path)
    except FileExistsError:  # another process created it meanwhile
        return Signer.from_file(path)


def verifiers(settings: Settings, signer: Signer | None) -> list[Verifier]:
    """The keys whose checkpoints this deployment accepts: the signing key's and ``audit.verifier_keys``."""
    out = [signer.verifier] if signer is not None else []
    out.extend(Verifier.parse(k) for k in settings.audit.verifier_keys)
    return out


def origin(settings: Settings, signer: Signer) -> str:
    return settings.audit.origin or signer.name
