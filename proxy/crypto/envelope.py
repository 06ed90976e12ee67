"""Envelope encryption of one user's fields, crypto-shredding and KEK rotation.

Each (tenant, user) gets a **data key**: 32 random bytes for AES-256-GCM, created on first use and
stored only wrapped by the KEK (:mod:`proxy.crypto.keys`). A field is encrypted as::

    0x01 | key_version (4 bytes, big-endian) | nonce (12 random bytes) | AES-GCM ciphertext and tag

with associated data binding tenant, user (subject), table, row id, column and key version
(length-prefixed, so no two different tuples encode alike). A ciphertext copied to another row,
column or user, or given another key version, fails to authenticate (:class:`DecryptionFailed`).
The wrapped data key is itself bound to tenant, subject and version, so a wrapped key copied to
another user's row does not unwrap either.

Nonces are random (96 bits). Under one data key that is safe for well over 2**32 encryptions (the
NIST bound for random nonces), far beyond what one user's rows need.

Row ids are part of the associated data, so tables holding ciphertexts use ids known *before* the
insert (random UUIDs), not autoincrement integers.

**Shredding** (:meth:`Envelope.shred_sync`) forgets every wrapped data key of the user; their
ciphertexts can then never be read (:class:`KeyDestroyed`). A later encryption for the same user
gets a fresh key with a new version. **KEK rotation** (:func:`rotate_kek`) re-wraps every live
data key under a new KEK; ciphertexts are untouched and stay readable.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from proxy.crypto.keys import NONCE_BYTES, DecryptionFailed, KeyDestroyed, KeyProvider
from proxy.storage.repositories import DataKeyMaintenance, PrivacyRepository, UserScope, WrappedKeyRow

DATA_KEY_BYTES = 32
FORMAT = b"\x01"
_HEADER = 1 + 4 + NONCE_BYTES
_TAG = 16


def _encode(*parts: str | int) -> bytes:
    out = bytearray()
    for part in parts:
        raw = str(part).encode("utf-8", "surrogatepass")
        out += struct.pack(">I", len(raw)) + raw
    return bytes(out)


def data_key_aad(tenant: str, subject: str, key_version: int) -> bytes:
    """What a wrapped data key is bound to."""
    return _encode("bedside/data-key/v1", tenant, subject, key_version)


def field_aad(scope: UserScope, table: str, row_id: str, column: str, key_version: int) -> bytes:
    """What a field's ciphertext is bound to."""
    return _encode("bedside/field/v1", scope.tenant, scope.subject, table, row_id, column, key_version)


@dataclass(frozen=True, slots=True)
class FieldRef:
    """Where a ciphertext lives: its table, row id and column."""

    table: str
    row_id: str
    column: str

    def __post_init__(self) -> None:
        if not (self.table and self.row_id and self.column):
            raise ValueError("a ciphertext needs its table, row id and column")


def key_version_of(blob: bytes) -> int:
    if len(blob) < _HEADER + _TAG or blob[:1] != FORMAT:
        raise DecryptionFailed("not a Bedside ciphertext (wrong format byte or too short)")
    return int(struct.unpack(">I", blob[1:5])[0])


class Envelope:
    """Encrypts and decrypts one user's fields with their data key (sync core, async wrappers)."""

    def __init__(self, repo: PrivacyRepository, keys: KeyProvider) -> None:
        self.repo = repo
        self.keys = keys
        self._local = threading.local()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Within the block (one operation, in one thread), each user's data key is read from the
        database and unwrapped once, however many fields are sealed or opened: loading 200 memories
        costs one key query, not 400. Nothing outlives the block, so shredding a key takes effect
        for the next operation."""
        outer = getattr(self._local, "keys", None)
        if outer is None:
            self._local.keys = {}
        try:
            yield
        finally:
            if outer is None:
                self._local.keys = None

    def _memo(self) -> dict[tuple[str, str, object], tuple[int, bytes]] | None:
        memo: dict[tuple[str, str, object], tuple[int, bytes]] | None = getattr(self._local, "keys", None)
        return memo

    # ---- sync (run in a worker thread by the async methods) -----------------------------------

    def encrypt_sync(self, scope: UserScope, ref: FieldRef, plaintext: bytes) -> bytes:
        version, key = self._current_key(scope)
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext, field_aad(scope, ref.table, ref.row_id, ref.column, version))
        return FORMAT + struct.pack(">I", version) + nonce + sealed

    def decrypt_sync(self, scope: UserScope, ref: FieldRef, blob: bytes) -> bytes:
        version = key_version_of(blob)
        key = self._key(scope, version)
        try:
            return AESGCM(key).decrypt(blob[5:_HEADER], blob[_HEADER:], field_aad(scope, ref.table, ref.row_id, ref.column, version))
        except InvalidTag:
            raise DecryptionFailed(
                f"the ciphertext does not authenticate for {ref.table}.{ref.column} of this row and user (key version {version}): it was altered or copied from elsewhere"
            ) from None

    def shred_sync(self, scope: UserScope) -> int:
        """Destroy the user's data keys: everything encrypted for them becomes unreadable. Returns keys destroyed."""
        return self.repo.destroy_data_keys(scope)

    # ---- async --------------------------------------------------------------------------------

    async def encrypt(self, scope: UserScope, ref: FieldRef, plaintext: bytes) -> bytes:
        return await self.repo.run(self.encrypt_sync, scope, ref, plaintext)

    async def decrypt(self, scope: UserScope, ref: FieldRef, blob: bytes) -> bytes:
        return await self.repo.run(self.decrypt_sync, scope, ref, blob)

    async def shred(self, scope: UserScope) -> int:
        return await self.repo.run(self.shred_sync, scope)

    # ---- keys ---------------------------------------------------------------------------------

    def _current_key(self, scope: UserScope) -> tuple[int, bytes]:
        memo = self._memo()
        found = memo.get((scope.tenant, scope.subject, "current")) if memo is not None else None
        if found is not None:
            return found
        row = self.repo.current_data_key(scope)
        if row is None:
            fresh = os.urandom(DATA_KEY_BYTES)
            kek_id = self.keys.current_kek_id
            row = self.repo.add_data_key(scope, kek_id, lambda version: self.keys.wrap(fresh, data_key_aad(scope.tenant, scope.subject, version))[1])
        current = (row.key_version, self._unwrap(scope, row.key_version, row.kek_id, row.wrapped_key))
        if memo is not None:
            memo[(scope.tenant, scope.subject, "current")] = current
            memo[(scope.tenant, scope.subject, current[0])] = current
        return current

    def _key(self, scope: UserScope, version: int) -> bytes:
        memo = self._memo()
        found = memo.get((scope.tenant, scope.subject, version)) if memo is not None else None
        if found is not None:
            return found[1]
        row = self.repo.data_key(scope, version)
        if row is None:
            raise DecryptionFailed(f"this user has no data key version {version}: the ciphertext belongs to someone else")
        key = self._unwrap(scope, version, row.kek_id, row.wrapped_key)
        if memo is not None:
            memo[(scope.tenant, scope.subject, version)] = (version, key)
        return key

    def _unwrap(self, scope: UserScope, version: int, kek_id: str, wrapped: bytes | None) -> bytes:
        if wrapped is None:
            raise KeyDestroyed(f"data key version {version} of this user was destroyed (crypto-shredded): the data cannot be read")
        return self.keys.unwrap(kek_id, wrapped, data_key_aad(scope.tenant, scope.subject, version))


@dataclass(frozen=True, slots=True)
class RotationResult:
    rewrapped: int
    #: keys changed (shredded, or re-wrapped by another rotation) between read and write; left as they are
    skipped: int
    new_kek_id: str


def rotate_kek(maintenance: DataKeyMaintenance, old: KeyProvider, new: KeyProvider, *, batch: int = 500) -> RotationResult:
    """Re-wrap every live data key not yet under ``new``'s current KEK: unwrap with ``old``, wrap with ``new``.

    Ciphertexts are untouched, so old data stays readable with ``new``. Safe to re-run (keys already
    under the new KEK are skipped) and to run while Bedside serves: each key is swapped only if
    unchanged since it was read, so a key shredded meanwhile stays shredded. A key ``old`` cannot
    unwrap stops the rotation with KeyUnavailable or DecryptionFailed; the keys done so far stay done.
    Until it finishes, replicas need both KEKs (new first, old after it in the KEK file or variable).
    """
    target = new.current_kek_id
    rewrapped = skipped = 0
    after = 0
    while True:
        rows = maintenance.live_keys_not_under(target, after_id=after, limit=batch)
        if not rows:
            break
        for row in rows:
            rewrapped_row = _rewrap(row, old, new)
            if maintenance.replace_wrapping(row, target, rewrapped_row):
                rewrapped += 1
            else:
                skipped += 1
            after = row.id
    return RotationResult(rewrapped, skipped, target)


def _rewrap(row: WrappedKeyRow, old: KeyProvider, new: KeyProvider) -> bytes:
    aad = data_key_aad(row.tenant, row.subject, row.key_version)
    key = old.unwrap(row.kek_id, row.wrapped_key, aad)
    kek_id, wrapped = new.wrap(key, aad)
    assert kek_id == new.current_kek_id
    return wrapped
