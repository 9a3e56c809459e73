"""The leaves of a seal's Merkle tree: one per chain head, holding no personal data in the clear.

A leaf is the RFC 6962 leaf hash of the canonical JSON ``{"headHash", "seq", "subjectId"}``: whoever
holds a subject's chain (the person, an auditor) recomputes it; the seal and its leaves hold only
such hashes. The head hash commits to every event before it, so one sealed head covers its whole chain.
"""

from __future__ import annotations

from core.canonical import canonical_json
from core.merkle import leaf_hash

LEAF_FORMAT = 'RFC 6962 leaf hash of the canonical JSON {"headHash","seq","subjectId"} of a chain head'
LEAF_BYTES = 32


def head_leaf(subject_id: str, seq: int, head_hash: str) -> bytes:
    return leaf_hash(canonical_json({"headHash": head_hash, "seq": seq, "subjectId": subject_id}))
