"""Merkle trees as Certificate Transparency defines them (RFC 6962 section 2.1, RFC 9162 section 2.1).

Leaves hash as ``SHA-256(0x00 || data)``, nodes as ``SHA-256(0x01 || left || right)``; a tree of n
leaves splits at the largest power of two below n. An auditor can check a root or an inclusion proof
with any RFC 6962 implementation. The root is built from a stream of leaves with memory that grows
with log2(n), never with n.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleAccumulator:
    """Adds leaf hashes one at a time; :meth:`root` is the RFC 6962 tree hash of all added so far."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (subtree size, hash), sizes strictly decreasing
        self.size = 0

    def add(self, leaf: bytes) -> None:
        size, node = 1, leaf
        while self._stack and self._stack[-1][0] == size:
            _, left = self._stack.pop()
            size, node = size * 2, node_hash(left, node)
        self._stack.append((size, node))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node


def tree_root(leaves: Iterable[bytes]) -> bytes:
    accumulator = MerkleAccumulator()
    for leaf in leaves:
        accumulator.add(leaf)
    return accumulator.root()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def audit_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The inclusion proof of ``leaves[index]`` (RFC 9162 section 2.1.3.1), leaf side first."""
    if not 0 <= index < len(leaves):
        raise IndexError("no leaf at that index")
    path: list[bytes] = []
    start, end = 0, len(leaves)
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            path.append(tree_root(leaves[start + k : end]))
            end = start + k
        else:
            path.append(tree_root(leaves[start : start + k]))
            start += k
    path.reverse()
    return path


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: does ``path`` prove ``leaf`` at ``index`` in the tree of ``size`` with ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, node = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root
