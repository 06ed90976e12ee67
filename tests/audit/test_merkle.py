"""RFC 6962 hashing and proofs against the CT test vectors and an independent transcription of the RFC."""

from __future__ import annotations

import random

import pytest

from proxy.audit import merkle
from tests.audit import rfc6962 as ref


def _stored(leaves: list[bytes]) -> tuple[merkle.CompactRange, dict[tuple[int, int], bytes]]:
    """A tree built the way the sequencer builds it: leaf hashes plus the subtrees ``append`` creates."""
    tree = merkle.CompactRange()
    nodes = {(0, i): h for i, h in enumerate(leaves)}
    for h in leaves:
        for level, index, node in tree.append(h):
            nodes[(level, index)] = node
    return tree, nodes


def _proof(ranges: list[merkle.Range], nodes: dict[tuple[int, int], bytes]) -> list[bytes]:
    return [merkle.range_hash(a, b, lambda level, i: nodes[(level, i)]) for a, b in ranges]


@pytest.mark.parametrize("n", range(9))
def test_roots_match_the_ct_vectors(n: int) -> None:
    hashes = [merkle.leaf_hash(d) for d in ref.LEAVES[:n]]
    assert merkle.root_of(hashes).hex() == ref.ROOTS[n]
    assert _stored(hashes)[0].root().hex() == ref.ROOTS[n]
    assert ref.mth(ref.LEAVES[:n]).hex() == ref.ROOTS[n]  # the transcription agrees with the vectors


@pytest.mark.parametrize(("index", "size", "expected"), ref.INCLUSION)
def test_inclusion_proofs_match_the_ct_vectors(index: int, size: int, expected: list[str]) -> None:
    hashes = [merkle.leaf_hash(d) for d in ref.LEAVES[:size]]
    tree, nodes = _stored(hashes)
    proof = _proof(merkle.inclusion_ranges(index, size), nodes)
    assert [h.hex() for h in proof] == expected
    assert merkle.verify_inclusion(index, size, hashes[index], proof, tree.root())


@pytest.mark.parametrize(("first", "second", "expected"), ref.CONSISTENCY)
def test_consistency_proofs_match_the_ct_vectors(first: int, second: int, expected: list[str]) -> None:
    hashes = [merkle.leaf_hash(d) for d in ref.LEAVES[:second]]
    tree, nodes = _stored(hashes)
    proof = _proof(merkle.consistency_ranges(first, second), nodes)
    assert [h.hex() for h in proof] == expected
    assert merkle.verify_consistency(first, bytes.fromhex(ref.ROOTS[first]), second, tree.root(), proof)


def test_every_proof_up_to_70_leaves_equals_the_rfc_definition_and_verifies() -> None:
    for n in range(1, 71):
        data = [f"entry-{i}".encode() for i in range(n)]
        hashes = [merkle.leaf_hash(d) for d in data]
        tree, nodes = _stored(hashes)
        assert tree.root() == ref.mth(data)
        for m in range(n):
            proof = _proof(merkle.inclusion_ranges(m, n), nodes)
            assert proof == ref.path(m, data), (m, n)
            assert merkle.verify_inclusion(m, n, hashes[m], proof, tree.root())
        for m in range(1, n + 1):
            proof = _proof(merkle.consistency_ranges(m, n), nodes)
            assert proof == (ref.proof(m, data) if m < n else []), (m, n)
            assert merkle.verify_consistency(m, ref.mth(data[:m]), n, tree.root(), proof)


def test_tampered_proofs_fail() -> None:
    data = [f"e{i}".encode() for i in range(13)]
    hashes = [merkle.leaf_hash(d) for d in data]
    tree, nodes = _stored(hashes)
    root = tree.root()
    rng = random.Random(6962)
    for m in range(13):
        proof = _proof(merkle.inclusion_ranges(m, 13), nodes)
        bad = list(proof)
        i = rng.randrange(len(bad))
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        assert not merkle.verify_inclusion(m, 13, hashes[m], bad, root)
        assert not merkle.verify_inclusion(m, 13, hashes[(m + 1) % 13], proof, root)  # another leaf
        assert not merkle.verify_inclusion(m, 13, hashes[m], proof[:-1], root)  # truncated
        assert not merkle.verify_inclusion(m, 13, hashes[m], [*proof, root], root)  # over-long
        assert not merkle.verify_inclusion(13, 13, hashes[m], proof, root)  # outside the tree
    old_root = ref.mth(data[:6])
    proof = _proof(merkle.consistency_ranges(6, 13), nodes)
    assert merkle.verify_consistency(6, old_root, 13, root, proof)
    assert not merkle.verify_consistency(6, root, 13, root, proof)  # wrong old root
    assert not merkle.verify_consistency(6, old_root, 13, old_root, proof)  # wrong new root
    assert not merkle.verify_consistency(13, root, 6, old_root, [])  # a shrinking log
    assert merkle.verify_consistency(0, merkle.EMPTY_ROOT, 13, root, [])


def test_leaves_and_nodes_are_domain_separated() -> None:
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert merkle.leaf_hash(a + b) != merkle.node_hash(a, b)
    assert merkle.EMPTY_ROOT.hex() == ref.ROOTS[0]


def test_compact_range_round_trips_through_bytes() -> None:
    tree, _ = _stored([merkle.leaf_hash(bytes([i])) for i in range(11)])
    again = merkle.CompactRange.from_bytes(11, tree.to_bytes())
    assert again.root() == tree.root()
    with pytest.raises(ValueError, match="edge hashes"):
        merkle.CompactRange.from_bytes(12, tree.to_bytes())
