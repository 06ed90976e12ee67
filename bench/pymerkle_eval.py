"""The evaluation behind docs/audit.md "pymerkle or our own tree": pymerkle next to proxy.audit.merkle.

    pip install --target /tmp/pymerkle pymerkle==7.0.0 cachetools==7.2.1   # not a Bedside dependency
    PYTHONPATH=/tmp/pymerkle python bench/pymerkle_eval.py [--leaves N]

Prints (1) whether pymerkle's roots and audit paths equal the RFC 6962 CT test vectors and Bedside's
(its paths start with the leaf itself and count leaves from one: both are converted), and (2) the
time to append N leaves (default 1,000,000) and to answer the first and a second inclusion and
consistency proof, in memory, for both, and for pymerkle's persistent ``SqliteTree`` (also the
first proof of a second instance on the same file, as another process would see it). Bedside's
proofs here are computed from the stored complete-subtree hashes the sequencer keeps (a dict
stands in for ``audit_nodes``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proxy.audit import merkle  # noqa: E402

VECTOR_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOT8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
PATH_5_8 = [
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=1_000_000)
    args = parser.parse_args()
    try:
        from pymerkle import InmemoryTree
    except ImportError:
        print("pymerkle is not installed (see the docstring: it is not a Bedside dependency)", file=sys.stderr)
        return 2
    tree = InmemoryTree(algorithm="sha256")
    for leaf in VECTOR_LEAVES:
        tree.append_entry(leaf)
    root_ok = tree.get_root().hex() == ROOT8
    proof = tree.prove_inclusion(6, 8)  # leaf 5, counting from one
    path = [h.hex() if isinstance(h, bytes) else h for h in proof.serialize()["path"]][1:]
    print(f"pymerkle: root of the 8 CT leaves {'matches' if root_ok else 'DIFFERS'}; "
          f"PATH(5, 8) {'matches' if path == PATH_5_8 else 'differs: ' + str(path)} (after dropping the leaf it starts with)")

    n = args.leaves
    data = [f"entry-{i}".encode() for i in range(n)]
    started = time.perf_counter()
    big = InmemoryTree(algorithm="sha256")
    for d in data:
        big.append_entry(d)
    pm_append = time.perf_counter() - started
    started = time.perf_counter()
    big.prove_inclusion(n // 3 + 1, n)
    pm_first = time.perf_counter() - started
    started = time.perf_counter()
    big.prove_inclusion(n // 2 + 1, n)
    pm_second = time.perf_counter() - started
    started = time.perf_counter()
    big.prove_consistency(n // 3, n)
    pm_cons = time.perf_counter() - started

    started = time.perf_counter()
    edge = merkle.CompactRange()
    nodes: dict[tuple[int, int], bytes] = {}
    for i, d in enumerate(data):
        h = merkle.leaf_hash(d)
        nodes[(0, i)] = h
        for level, index, node in edge.append(h):
            nodes[(level, index)] = node
    ours_append = time.perf_counter() - started

    def prove(ranges: list[merkle.Range]) -> list[bytes]:
        return [merkle.range_hash(a, b, lambda level, i: nodes[(level, i)]) for a, b in ranges]

    started = time.perf_counter()
    ours_proof = prove(merkle.inclusion_ranges(n // 3, n))
    ours_first = time.perf_counter() - started
    started = time.perf_counter()
    prove(merkle.consistency_ranges(n // 3, n))
    ours_cons = time.perf_counter() - started
    theirs = [bytes.fromhex(h) if isinstance(h, str) else h for h in big.prove_inclusion(n // 3 + 1, n).serialize()["path"]][1:]
    same_proof = theirs == ours_proof
    same_root = big.get_root() == edge.root()
    print(f"\n{n:,} leaves, in memory          pymerkle     Bedside")
    print(f"append all (s)                 {pm_append:>9.1f}   {ours_append:>9.1f}")
    print(f"first inclusion proof (ms)     {pm_first * 1000:>9.1f}   {ours_first * 1000:>9.3f}")
    print(f"second inclusion proof (ms)    {pm_second * 1000:>9.1f}   (same)")
    print(f"consistency proof (ms)         {pm_cons * 1000:>9.1f}   {ours_cons * 1000:>9.3f}")
    print(f"same root: {same_root}; same inclusion path: {same_proof}")
    sqlite_tree(data)
    return 0


def sqlite_tree(data: list[bytes]) -> None:
    """pymerkle's persistent backend: proofs compute subtree hashes from stored leaves."""
    import tempfile

    from pymerkle import SqliteTree

    n = len(data)
    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "tree.db")
        tree = SqliteTree(path)
        started = time.perf_counter()
        tree.append_entries(data)
        append = time.perf_counter() - started
        times = []
        for index in (n // 3 + 1, n // 2 + 1):
            started = time.perf_counter()
            tree.prove_inclusion(index, n)
            times.append(time.perf_counter() - started)
        other = SqliteTree(path)  # what another process opening the same file sees: a cold cache
        started = time.perf_counter()
        other.prove_inclusion(n // 4 + 1, n)
        cold = time.perf_counter() - started
    print(f"\npymerkle SqliteTree, {n:,} leaves: append {append:.1f} s; first inclusion proof {times[0] * 1000:,.0f} ms, "
          f"second {times[1] * 1000:,.0f} ms; a second instance's first proof {cold * 1000:,.0f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
