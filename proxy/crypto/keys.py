"""Key-encryption keys (KEKs): what wraps every user's data key. A KEK never enters the database.

:class:`KeyProvider` is the interface the envelope code needs: wrap a data key under the current
KEK, and unwrap one wrapped by any KEK the provider holds (the current one and, during a rotation,
older ones). Two implementations here, both holding AES-256 KEKs in memory:

* :class:`FileKeyProvider`: a file with one KEK per line (64 hex digits or unpadded URL-safe
  base64), the first line is current, later lines are older KEKs still accepted for unwrapping;
  ``#`` starts a comment. The embedded default is ``data_dir/kek.key`` created 0600 on first use.
* :class:`EnvKeyProvider`: the same list, comma-separated, in an environment variable
  (``BEDSIDE_KEK`` by default), for containers whose secrets arrive as variables.

A cloud KMS provider implements the same four members and calls the KMS in ``wrap``/``unwrap``
(callers already run them in a worker thread).

A KEK's id is derived from the key (``HMAC-SHA256(kek, "bedside/kek-id")``, 16 hex digits): it is
stored beside each wrapped key, so a provider missing that KEK fails loudly with
:class:`KeyUnavailable` naming the id, instead of a vague decryption error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEK_BYTES = 32
NONCE_BYTES = 12
_WRAP_VERSION = b"\x01"


class CryptoError(Exception):
    """Base of the envelope errors. Messages name ids and versions, never key material or data."""


class KeyUnavailable(CryptoError):
    """The KEK that wrapped a data key is not held by this provider (wrong or missing KEK)."""


class DecryptionFailed(CryptoError):
    """Authentication failed: wrong key, tampered bytes, or a ciphertext moved to another row, user or column."""


class KeyDestroyed(CryptoError):
    """The user's data key was destroyed (crypto-shredded): the data can never be read again."""


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps data keys with KEKs kept outside the database."""

    @property
    def current_kek_id(self) -> str:
        """The KEK new data keys are wrapped with."""
        ...

    def kek_ids(self) -> frozenset[str]:
        """Every KEK this provider can unwrap with."""
        ...

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        """``(kek_id, wrapped)``: ``data_key`` wrapped under the current KEK, bound to ``aad``."""
        ...

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        """The data key; KeyUnavailable for an unknown ``kek_id``, DecryptionFailed if it does not authenticate."""
        ...


def kek_id_for(kek: bytes) -> str:
    return hmac.new(kek, b"bedside/kek-id", hashlib.sha256).hexdigest()[:16]


def generate_kek() -> str:
    """A new KEK as 64 hex digits (what ``bedside kek generate`` would print)."""
    return secrets.token_bytes(KEK_BYTES).hex()


def parse_kek(text: str) -> bytes:
    """A KEK from 64 hex digits or URL-safe base64 of 32 bytes."""
    text = text.strip()
    raw: bytes | None = None
    if len(text) == 2 * KEK_BYTES:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != KEK_BYTES:
        raise ValueError("a KEK is 32 bytes written as 64 hex digits or URL-safe base64 (`python -c 'import secrets; print(secrets.token_hex(32))'`)")
    return raw


class LocalKeyProvider:
    """KEKs held in memory; the first is current, the others are older ones still accepted for unwrapping."""

    def __init__(self, keks: Iterable[bytes]) -> None:
        ordered = list(keks)
        if not ordered:
            raise ValueError("a key provider needs at least one KEK")
        for kek in ordered:
            if len(kek) != KEK_BYTES:
                raise ValueError("a KEK is 32 bytes (AES-256)")
        self._keks: Mapping[str, AESGCM] = {kek_id_for(k): AESGCM(k) for k in ordered}
        self._current = kek_id_for(ordered[0])

    @property
    def current_kek_id(self) -> str:
        return self._current

    def kek_ids(self) -> frozenset[str]:
        return frozenset(self._keks)

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        return self._current, _WRAP_VERSION + nonce + self._keks[self._current].encrypt(nonce, data_key, aad)

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        aes = self._keks.get(kek_id)
        if aes is None:
            raise KeyUnavailable(
                f"the data key is wrapped by KEK {kek_id}, which this Bedside does not hold (it holds {sorted(self._keks)}): "
                "configure that KEK (as an older key after the current one) or check privacy.kek_file / the KEK variable"
            )
        if len(wrapped) < 1 + NONCE_BYTES + 16 or wrapped[:1] != _WRAP_VERSION:
            raise DecryptionFailed(f"the wrapped data key under KEK {kek_id} is malformed")
        try:
            return aes.decrypt(wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :], aad)
        except InvalidTag:
            raise DecryptionFailed(f"the data key wrapped by KEK {kek_id} does not authenticate: wrong KEK, or the row was altered or copied") from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(current={self._current}, keks={len(self._keks)})"


def _parse_lines(lines: Iterable[str]) -> list[bytes]:
    keks: list[bytes] = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            keks.append(parse_kek(line))
    return keks


class FileKeyProvider(LocalKeyProvider):
    """KEKs from a file, one per line, current first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            text = path.read_text()
        except OSError as exc:
            raise KeyUnavailable(f"cannot read the KEK file {path}: {exc.strerror}") from None
        keks = _parse_lines(text.splitlines())
        if not keks:
            raise KeyUnavailable(f"the KEK file {path} holds no key")
        super().__init__(keks)

    @classmethod
    def load_or_create(cls, path: Path) -> FileKeyProvider:
        """The embedded default: the file is created (0600, one new KEK) when missing."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(generate_kek() + "\n")
        return cls(path)


class EnvKeyProvider(LocalKeyProvider):
    """KEKs from an environment variable, comma-separated, current first."""

    def __init__(self, name: str = "BEDSIDE_KEK", environ: Mapping[str, str] | None = None) -> None:
        value = (environ if environ is not None else os.environ).get(name, "")
        keks = _parse_lines(value.split(","))
        if not keks:
            raise KeyUnavailable(f"the environment variable {name} holds no KEK")
        self.variable = name
        super().__init__(keks)
