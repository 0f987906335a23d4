"""Merkle tree hashing and proofs as RFC 6962 (Certificate Transparency) defines them.

leaf hash   = SHA-256(0x00 || leaf data)
node hash   = SHA-256(0x01 || left || right)
MTH(D[n])   = the root over n leaves, split at the largest power of two below n.

The verification functions follow RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency);
they need nothing but hashes, so an auditor can run them without trusting the gateway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "SubtreeHash",
    "consistency_proof",
    "inclusion_proof",
    "largest_power_of_two_below",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The compact range of a growing tree: one perfect subtree hash per set bit of its size.

    Appending is O(log n) and reports every completed perfect subtree (level, index, hash),
    so a store can keep them and answer proofs in O(log n) lookups.
    """

    def __init__(self, size: int = 0, hashes: dict[int, bytes] | None = None) -> None:
        self.size = size
        self.hashes: dict[int, bytes] = dict(hashes or {})

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; returns the nodes it completes: (level, index, hash)."""
        index = self.size
        completed = [(0, index, leaf)]
        h, level = leaf, 0
        while self.size >> level & 1:
            h = node_hash(self.hashes.pop(level), h)
            level += 1
            completed.append((level, index >> level, h))
        self.hashes[level] = h
        self.size += 1
        return completed

    def root(self) -> bytes:
        """MTH over every leaf appended so far."""
        root: bytes | None = None
        for level in sorted(self.hashes):
            root = self.hashes[level] if root is None else node_hash(self.hashes[level], root)
        return EMPTY_ROOT if root is None else root

    @staticmethod
    def levels_of(size: int) -> list[tuple[int, int]]:
        """(level, index) of the perfect subtrees that make up a tree of ``size`` leaves."""
        parts = []
        offset = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                parts.append((level, offset >> level))
                offset += 1 << level
        return parts


SubtreeHash = Callable[[int, int], bytes]  # hash of the perfect, aligned range [start, end)


def range_hash(perfect: SubtreeHash, start: int, end: int) -> bytes:
    """MTH of leaves [start, end) from the hashes of perfect aligned subtrees."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        return perfect(start, end)
    k = largest_power_of_two_below(size)
    return node_hash(range_hash(perfect, start, start + k), range_hash(perfect, start + k, end))


def inclusion_proof(perfect: SubtreeHash, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 6962 PATH)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = largest_power_of_two_below(n)
        if m < k:
            return [*path(m, start, start + k), range_hash(perfect, start + k, end)]
        return [*path(m - k, start + k, end), range_hash(perfect, start, start + k)]

    return path(index, 0, size)


def consistency_proof(perfect: SubtreeHash, old: int, new: int) -> list[bytes]:
    """The proof that the tree of ``old`` leaves is a prefix of the one of ``new`` (PROOF)."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")

    def subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [range_hash(perfect, start, end)]
        k = largest_power_of_two_below(n)
        if m <= k:
            return [*subproof(m, start, start + k, complete), range_hash(perfect, start + k, end)]
        return [*subproof(m - k, start + k, end, False), range_hash(perfect, start, start + k)]

    return subproof(old, 0, new, True)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
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
    return sn == 0 and r == root


def verify_consistency(
    old: int, new: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if old == new:
        return not proof and old_root == new_root
    if not 0 < old < new or not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the first node
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
    return sn == 0 and fr == old_root and sr == new_root


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (for verification from scratch)."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()
