"""The inclusion proof of a subject's chain in a seal: which seal holds its latest sealed head, where.

A head is sealed in the seal whose window holds the server time of its state write, which is the
time of the head's event give or take a clock skew: those are the seals looked at (one or two,
hourly). A head that no seal holds yet (changed since the last seal) makes the search step back to
the head before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from core.jws import parse
from core.merkle import audit_path
from functions.consent.ledger import ConsentEvent
from functions.proof.heads import LEAF_BYTES, head_leaf
from functions.proof.models import SealClaimsView, SealedHeadView, SealInclusionView, SealView
from functions.proof.ports import AppendOnlyStore
from functions.proof.seal_record import SealRecord
from functions.proof.sealing import SealRecords

CLOCK_SKEW_SECONDS = 300
HEADS_BACK = 10


def seal_view(record: SealRecord) -> SealView:
    claims = SealClaimsView.model_validate(parse(record.jws).payload_json())
    return SealView(number=record.number, jws=record.jws, claims=claims)


class SealInclusion:
    def __init__(self, records: SealRecords, archive: AppendOnlyStore) -> None:
        self._records = records
        self._archive = archive

    def _leaves(self, record: SealRecord) -> list[bytes]:
        data = self._archive.read(record.leaves_blob or "") if record.leaves_blob else None
        if data is None or hashlib.sha256(data).hexdigest() != parse(record.jws).payload_json().get("leavesSha256"):
            return []  # a seal whose leaves are missing or altered proves nothing
        return [data[i : i + LEAF_BYTES] for i in range(0, len(data), LEAF_BYTES)]

    def latest(self, events: Sequence[ConsentEvent]) -> SealInclusionView | None:
        """The proof for the newest head of ``events`` that a seal holds; None when none does yet."""
        ordered = sorted(events, key=lambda e: e.seq, reverse=True)
        leaves_of: dict[int, list[bytes]] = {}  # each seal's leaves are read once per call
        for event in ordered[:HEADS_BACK]:
            leaf = head_leaf(event.subject_id, event.seq, event.hash)
            moment = int(event.context.recorded_at.timestamp())
            nearby = self._records.overlapping(moment - CLOCK_SKEW_SECONDS, moment + CLOCK_SKEW_SECONDS)
            for record in reversed(nearby):
                if record.leaves_blob is None:
                    continue
                if record.number not in leaves_of:
                    leaves_of[record.number] = self._leaves(record)
                leaves = leaves_of[record.number]
                if leaf in leaves:
                    index = leaves.index(leaf)
                    return SealInclusionView(
                        seal=seal_view(record),
                        sealed_head=SealedHeadView(seq=event.seq, hash=event.hash),
                        leaf_hash=leaf.hex(),
                        leaf_index=index,
                        tree_size=len(leaves),
                        audit_path=[node.hex() for node in audit_path(leaves, index)],
                    )
        return None
