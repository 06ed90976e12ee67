"""RFC 6962 Merkle tree hashing, proofs and their verification (SHA-256, leaf 0x00, node 0x01).

Pure functions over hashes; storage lives elsewhere (:mod:`proxy.audit.store`). A tree of ``n``
leaves is described by RFC 6962 section 2.1: ``MTH({}) = SHA-256()``, ``MTH({d}) = SHA-256(0x00 ||
d)``, and for ``n > 1`` with ``k`` the largest power of two smaller than ``n``, ``MTH(D[n]) =
SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``.

* :func:`inclusion_ranges` and :func:`consistency_ranges` name the subtrees (``[start, end)``
  ranges of leaves) whose hashes make up ``PATH(m, D[n])`` and ``PROOF(m, D[n])``, in proof order.
  Every such range starts at a multiple of the largest power of two not above its length, so a
  store that keeps the hashes of complete ("perfect") subtrees answers each with at most
  ``log2(n)`` of them (:func:`perfect_parts`).
* :func:`verify_inclusion` and :func:`verify_consistency` are the verification algorithms of RFC
  9162 sections 2.1.3.2 and 2.1.4.2 (the same proofs as RFC 6962), for verifiers that hold only
  a checkpoint.
* :class:`CompactRange` is the right edge of a growing tree (the roots of its perfect subtrees):
  appending a leaf costs O(1) amortised hashes and yields the new perfect-subtree hashes to store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    if n < 2:
        raise ValueError("a tree of n >= 2 leaves is split")
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """``MTH`` of a list of leaf hashes (iteratively, through a compact range)."""
    cr = CompactRange()
    for h in leaves:
        cr.append(h)
    return cr.root()


Range = tuple[int, int]


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges whose hashes form ``PATH(index, D[size])``, bottom-up (proof order)."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The leaf ranges whose hashes form ``PROOF(old, D[new])`` (RFC 6962 2.1.2), in proof order.

    Empty when ``old == new`` or ``old == 0`` (nothing to prove)."""
    if not 0 <= old <= new:
        raise ValueError(f"a consistency proof needs 0 <= old <= new (got {old}, {new})")
    if old == 0 or old == new:
        return []
    out: list[Range] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                out.append((start, end))
            break
        k = split_point(n)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
            complete = False
    out.reverse()
    return out


def perfect_parts(start: int, end: int) -> list[tuple[int, int]]:
    """The complete subtrees ``(level, index)`` that make up the range ``[start, end)``, left to right.

    A complete subtree of level ``l`` and index ``i`` covers leaves ``[i * 2**l, (i + 1) * 2**l)``.
    The range must start at a multiple of the largest power of two not above its length (every range
    of :func:`inclusion_ranges` and :func:`consistency_ranges` does)."""
    parts: list[tuple[int, int]] = []
    while start < end:
        n = end - start
        size = 1 << (n.bit_length() - 1)  # the largest power of two <= n
        if start % size:
            raise ValueError(f"range [{start}, {end}) is not aligned to complete subtrees")
        level = size.bit_length() - 1
        parts.append((level, start >> level))
        start += size
    return parts


def fold(parts: Sequence[bytes]) -> bytes:
    """The hash of a range from its complete subtrees (left to right): folded right to left."""
    acc = parts[-1]
    for h in reversed(parts[:-1]):
        acc = node_hash(h, acc)
    return acc


def range_hash(start: int, end: int, subtree: Callable[[int, int], bytes]) -> bytes:
    """``MTH(D[start:end])`` from ``subtree(level, index)``, the hash of a complete subtree."""
    return fold([subtree(level, index) for level, index in perfect_parts(start, end)])


def needed_subtrees(ranges: Iterable[Range]) -> set[tuple[int, int]]:
    """Every complete subtree a store must read to answer ``ranges`` (one query for a whole proof)."""
    out: set[tuple[int, int]] = set()
    for start, end in ranges:
        out.update(perfect_parts(start, end))
    return out


# ---- verification (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to, or None when the proof cannot be one for ``(index, size)``."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof) or len(leaf) != HASH_SIZE:
        return None
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size`` with ``root``."""
    return root_from_inclusion(index, size, leaf, proof) == root


def verify_consistency(old: int, old_root: bytes, new: int, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree ``(old, old_root)`` is a prefix of ``(new, new_root)``."""
    if not 0 <= old <= new or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


# ---- the right edge of a growing tree -----------------------------------------------------------


@dataclass
class CompactRange:
    """The roots of the complete subtrees of a tree of ``size`` leaves, left to right (largest first).

    ``append(leaf)`` returns the complete subtrees that came into existence, as ``(level, index,
    hash)`` with ``level >= 1`` (a leaf itself is level 0). :meth:`root` folds the edge into the
    tree's root (RFC 6962 MTH)."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        created: list[tuple[int, int, bytes]] = []
        index = self.size
        h = leaf
        level = 0
        while index & 1:  # every trailing one bit of the new leaf's index completes a subtree
            h = node_hash(self.hashes.pop(), h)
            index >>= 1
            level += 1
            created.append((level, index, h))
        self.hashes.append(h)
        self.size += 1
        return created

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        return fold(self.hashes)

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactRange:
        if len(data) != HASH_SIZE * size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} edge hashes, not {len(data) // HASH_SIZE}")
        return cls(size, [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)])
