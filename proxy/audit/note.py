"""C2SP signed notes with Ed25519 keys (the format of Go's ``golang.org/x/mod/sumdb/note``).

A signed note is UTF-8 text ending in a newline, a blank line, then signature lines ``— <key name>
<base64(4-byte key id || 64-byte signature)>``. The signature covers the text including its final
newline. A key id is the first 4 bytes of ``SHA-256(key name || 0x0A || 0x01 || public key)``
(0x01: Ed25519).

Keys travel as text, in the same encodings as Go's note package, so standard transparency-log
tooling reads them:

* signer (secret): ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>``
* verifier (public): ``<name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>``
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 1
SIG_PREFIX = "— "  # em dash (U+2014) and a space
_NAME = re.compile(r"^[^\s+]+$")
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A malformed key or note, or a signature that does not verify (messages never quote key material)."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> str:
    if not name or not _NAME.match(name):
        raise NoteError("a key name is non-empty and has no spaces or '+'")
    return name


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("not valid base64") from None


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signatures by its name and id."""

    name: str
    id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key reads <name>+<key id>+<base64 key>")
        name, hex_id, b64 = parts
        _check_name(name)
        raw = _b64(b64)
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("only Ed25519 verifier keys (type 0x01, 32 bytes) are supported")
        public = raw[1:]
        kid = key_id(name, public)
        if hex_id.lower() != kid.hex():
            raise NoteError(f"the key id {hex_id!r} does not match the key")
        return cls(name, kid, public)

    def text(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
            return True
        except InvalidSignature:
            return False


class Signer:
    """An Ed25519 signing key with its name (never printed: ``repr`` hides it)."""

    def __init__(self, name: str, seed: bytes) -> None:
        self.name = _check_name(name)
        if len(seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, key_id(name, public), public)

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, os.urandom(32))

    @classmethod
    def parse(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise NoteError("a signing key reads PRIVATE+KEY+<name>+<key id>+<base64 key>")
        name, hex_id, b64 = parts[2:]
        raw = _b64(b64)
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("only Ed25519 signing keys (type 0x01, 32 bytes) are supported")
        signer = cls(name, raw[1:])
        if hex_id.lower() != signer.verifier.id.hex():
            raise NoteError("the signing key's id does not match the key")
        return signer

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        try:
            return cls.parse(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise NoteError(f"cannot read the audit signing key file {path}: {exc.strerror}") from None

    def text(self) -> str:
        """The secret key in Go's note encoding (for the key file)."""
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{base64.b64encode(bytes([ALG_ED25519]) + self._seed).decode()}"

    def sign(self, text: str) -> str:
        """The signed note of ``text`` (which must end in a newline and hold no blank line)."""
        if not text.endswith("\n") or "\n\n" in text or any(ord(c) < 0x20 and c != "\n" for c in text):
            raise NoteError("a note's text ends with a newline and has no blank line or control character")
        signature = self._key.sign(text.encode("utf-8"))
        line = base64.b64encode(self.verifier.id + signature).decode()
        return f"{text}\n{SIG_PREFIX}{self.name} {line}\n"

    def __repr__(self) -> str:
        return f"Signer({self.name!r}, <key hidden>)"


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    signature: bytes


def split(note: str) -> tuple[str, list[Signature]]:
    """The text and the signature lines of a note (syntax only; nothing verified)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("a note has no control characters other than newline")
    at = note.rfind("\n\n")
    if at < 0 or not note.endswith("\n"):
        raise NoteError("a signed note is text, a blank line, and signature lines")
    text, block = note[: at + 1], note[at + 2 :]
    sigs: list[Signature] = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
        raw = _b64(b64)
        if not name or len(raw) < 5:
            raise NoteError("a signature line names its key and carries a key id and a signature")
        sigs.append(Signature(name, raw[:4], raw[4:]))
    if not sigs or len(sigs) > MAX_SIGNATURES:
        raise NoteError(f"a note carries 1 to {MAX_SIGNATURES} signatures")
    return text, sigs


def open_note(note: str, verifiers: list[Verifier]) -> tuple[str, Verifier]:
    """The note's text and the known key that signed it. A signature by a known key that fails
    rejects the note; a note signed by no known key is rejected too (NoteError says which)."""
    text, sigs = split(note)
    known = {(v.name, v.id): v for v in verifiers}
    for sig in sigs:
        verifier = known.get((sig.name, sig.id))
        if verifier is None:
            continue
        if not verifier.verify(text.encode("utf-8"), sig.signature):
            raise NoteError(f"the signature of key {sig.name}+{sig.id.hex()} does not verify: the note was altered or signed by another key")
        return text, verifier
    names = ", ".join(f"{s.name}+{s.id.hex()}" for s in sigs)
    raise NoteError(f"the note is signed by no known key (it carries {names})")
