"""Checkpoints in the C2SP ``tlog-checkpoint`` format, signed as C2SP notes.

The note text is three lines: the log's origin, the tree size in decimal, and the root hash in
standard base64::

    bedside.example/audit
    1042
    q2Jt...=

    — bedside.example/audit AbCd...

:func:`sign_checkpoint` makes one, :func:`open_checkpoint` checks the signature against known
verifier keys and returns the size and root it commits to.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from proxy.audit.merkle import HASH_SIZE
from proxy.audit.note import NoteError, Signer, Verifier, open_note


@dataclass(frozen=True)
class Checkpoint:
    """A verified (or just-signed) checkpoint: what the log committed to, and the signed note."""

    origin: str
    size: int
    root: bytes
    note: str

    def to_json(self) -> dict[str, object]:
        return {"origin": self.origin, "tree_size": self.size, "root_hash": base64.b64encode(self.root).decode(), "note": self.note}


def body(origin: str, size: int, root: bytes) -> str:
    if not origin or any(c.isspace() for c in origin):
        raise NoteError("a checkpoint origin is one line with no spaces")
    if size < 0 or len(root) != HASH_SIZE:
        raise NoteError("a checkpoint has a tree size >= 0 and a 32-byte root hash")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_checkpoint(signer: Signer, origin: str, size: int, root: bytes) -> Checkpoint:
    return Checkpoint(origin, size, root, signer.sign(body(origin, size, root)))


def parse_body(text: str) -> tuple[str, int, bytes]:
    """Origin, size and root of a checkpoint's text (extension lines after the third are allowed)."""
    lines = text.split("\n")
    if len(lines) < 4:
        raise NoteError("a checkpoint's text has an origin, a tree size and a root hash line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("a checkpoint's tree size is a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("a checkpoint's root hash is base64") from None
    if len(root) != HASH_SIZE:
        raise NoteError("a checkpoint's root hash is 32 bytes")
    return origin, int(size_text), root


def open_checkpoint(note: str, verifiers: list[Verifier], origin: str | None = None) -> Checkpoint:
    """The checkpoint in ``note`` once a known key's signature verifies (NoteError otherwise)."""
    text, _ = open_note(note, verifiers)
    found_origin, size, root = parse_body(text)
    if origin is not None and found_origin != origin:
        raise NoteError(f"the checkpoint is for log {found_origin!r}, not {origin!r}")
    return Checkpoint(found_origin, size, root, note)
