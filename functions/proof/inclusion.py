"""The inclusion proof of a subject's chain in a seal: which seal holds its latest sealed head, where.

A head is sealed in the first seal whose window ends after the state was written, so the seals to
look at are found by the time of the head's event (less a clock skew); a head that no seal holds yet
(changed since the last seal) makes the search step back to the head before it.
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
SEALS_PER_HEAD = 3  # a head is in the first seal after its write, rarely the second
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
        leaves_by_hash = {head_leaf(e.subject_id, e.seq, e.hash): e for e in ordered}
        looked_at: set[int] = set()
        for event in ordered[:HEADS_BACK]:
            moment = int(event.context.recorded_at.timestamp()) - CLOCK_SKEW_SECONDS
            for record in self._records.ending_after(moment, SEALS_PER_HEAD):
                if record.number in looked_at or record.leaves_blob is None:
                    continue
                looked_at.add(record.number)
                leaves = self._leaves(record)
                found = [(index, leaves_by_hash[leaf]) for index, leaf in enumerate(leaves) if leaf in leaves_by_hash]
                if found:
                    index, head = max(found, key=lambda pair: pair[1].seq)
                    return SealInclusionView(
                        seal=seal_view(record),
                        sealed_head=SealedHeadView(seq=head.seq, hash=head.hash),
                        leaf_hash=leaves[index].hex(),
                        leaf_index=index,
                        tree_size=len(leaves),
                        audit_path=[node.hex() for node in audit_path(leaves, index)],
                    )
        return None
