"""RFC 6962 Merkle trees: the gateway's hashing and proofs against an independent
implementation straight from the RFC's definitions, and every tampered proof refused."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit import merkle

# =========================================================================== 1. Merkle trees
#
# An independent implementation of RFC 6962 §2.1 straight from the definitions (MTH, PATH,
# PROOF), over leaf hashes, memoised per range so large trees stay fast.


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    """MTH, PATH and PROOF of RFC 6962 for one list of leaf hashes."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves

    @functools.cache  # noqa: B019 - one small object per test example
    def mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return _h(b"")
        if n == 1:
            return self.leaves[start]
        k = _split(n)
        return _h(b"\x01" + self.mth(start, start + k) + self.mth(start + k, end))

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def proof(self, m: int, start: int, end: int, complete: bool = True) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self.mth(start, end)]
        k = _split(n)
        if m <= k:
            return [*self.proof(m, start, start + k, complete), self.mth(start + k, end)]
        return [*self.proof(m - k, start + k, end, False), self.mth(start, start + k)]


def leaves_for(n: int, salt: bytes) -> list[bytes]:
    return [_h(b"\x00" + salt + i.to_bytes(4, "big")) for i in range(n)]


def gateway_tree(leaves: list[bytes], ref: Reference) -> Callable[[int, int], bytes]:
    """The gateway's Frontier over ``leaves``: its completed nodes answer proofs."""
    frontier = merkle.Frontier()
    nodes: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(leaves):
        for level, index, digest in frontier.append(leaf):
            # every completed node is the MTH of its perfect aligned range
            assert digest == ref.mth(index << level, (index + 1) << level)
            nodes[(level, index)] = digest
        assert frontier.size == i + 1
        assert frontier.root() == ref.mth(0, i + 1)
    assert sorted(frontier.hashes) == sorted(lv for lv, _ in merkle.Frontier.levels_of(len(leaves)))

    def perfect(start: int, end: int) -> bytes:
        level = (end - start).bit_length() - 1
        assert end - start == 1 << level
        assert start % (1 << level) == 0
        return nodes[(level, start >> level)]

    return perfect


def flip(data: bytes, at: int = 0) -> bytes:
    at %= len(data)
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def check_tree(n: int, salt: bytes, pick: Callable[[int], int]) -> None:
    """Every inclusion proof and every consistency proof of a tree of ``n`` leaves."""
    leaves = leaves_for(n, salt)
    ref = Reference(leaves)
    perfect = gateway_tree(leaves, ref)
    root = ref.mth(0, n)
    assert merkle.root_of(leaves) == root
    for i in range(n):
        proof = merkle.inclusion_proof(perfect, i, n)
        assert proof == ref.path(i, 0, n)
        assert merkle.verify_inclusion(leaves[i], i, n, proof, root)
    for m in range(1, n + 1):
        proof = merkle.consistency_proof(perfect, m, n)
        assert proof == ref.proof(m, 0, n)
        assert merkle.verify_consistency(m, n, proof, ref.mth(0, m), root)

    # tampering: one proof of each kind, picked by the caller
    i = pick(n)
    proof = merkle.inclusion_proof(perfect, i, n)
    assert not merkle.verify_inclusion(leaves[i], i, n, proof, flip(root, pick(32)))
    assert not merkle.verify_inclusion(flip(leaves[i], pick(32)), i, n, proof, root)
    assert not merkle.verify_inclusion(leaves[i], n, n, proof, root)
    assert not merkle.verify_inclusion(leaves[i], i, n, [*proof, root], root)
    if proof:
        j = pick(len(proof))
        bad = [*proof[:j], flip(proof[j], pick(32)), *proof[j + 1 :]]
        assert not merkle.verify_inclusion(leaves[i], i, n, bad, root)
        assert not merkle.verify_inclusion(leaves[i], i, n, proof[:-1], root)
        other = (i + 1 + pick(n - 1)) % n
        assert other != i
        assert not merkle.verify_inclusion(leaves[i], other, n, proof, root)
    m = 1 + pick(n)
    proof = merkle.consistency_proof(perfect, m, n)
    old = ref.mth(0, m)
    assert not merkle.verify_consistency(m, n, proof, flip(old, pick(32)), root)
    assert not merkle.verify_consistency(m, n, proof, old, flip(root, pick(32)))
    if m < n:
        j = pick(len(proof))
        bad = [*proof[:j], flip(proof[j], pick(32)), *proof[j + 1 :]]
        assert not merkle.verify_consistency(m, n, bad, old, root)
        assert not merkle.verify_consistency(m, n, proof[:-1], old, root)
        assert not merkle.verify_consistency(m, n, [*proof, root], old, root)
        assert not merkle.verify_consistency(m, n, [], old, root)
        assert not merkle.verify_consistency(n, m, proof, root, old)
    assert not merkle.verify_consistency(0, n, proof, old, root)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), salt=st.binary(max_size=8), data=st.data())
def test_merkle_proofs_match_rfc6962_and_tampering_fails(n: int, salt: bytes, data: Any) -> None:
    check_tree(n, salt, lambda bound: data.draw(st.integers(0, max(bound - 1, 0))))


def test_merkle_every_size_up_to_70_exhaustively() -> None:
    for n in range(1, 71):

        def pick(bound: int, n: int = n) -> int:
            return (n * 7) % max(bound, 1)

        check_tree(n, b"x", pick)


def test_merkle_empty_tree_and_bad_arguments() -> None:
    assert merkle.Frontier().root() == _h(b"")
    assert merkle.root_of([]) == merkle.EMPTY_ROOT == _h(b"")
    assert merkle.leaf_hash(b"abc") == _h(b"\x00abc")
    assert merkle.node_hash(b"l", b"r") == _h(b"\x01lr")

    def perfect(start: int, end: int) -> bytes:
        raise AssertionError("not needed")

    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_proof(perfect, 3, 3)
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_proof(perfect, 0, 3)
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_proof(perfect, 4, 3)
