"""Sealing the consent ledger (hourly timer): a signed Merkle root over the chain heads changed since
the last seal, chained to it, stored where nothing is ever overwritten.

A seal covers the ``consent-state`` documents whose server timestamp (``_ts``) lies in its window,
``[end of the previous window, now - SETTLE)``: a write still in flight when the seal runs gets a
later timestamp, so it lands in the next window, never in none. Heads stream from the query into the
leaves blob and the Merkle accumulator, so memory stays flat however many chains changed.

Order of writes: the leaves blob (a fresh name each attempt), then the signed seal blob under its
number (create-only: the commit point; a racing sealer loses here and stops), then its record. A run
that died after the commit point is rolled forward from the blob by the next one.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from core.containers import CONSENT_SEALS, CONSENT_STATE
from core.jws import parse
from core.merkle import MerkleAccumulator
from core.ports import Clock, DocumentConflict, DocumentStore
from functions.proof.heads import LEAF_FORMAT, head_leaf
from functions.proof.ports import UPLOAD_BLOCK_BYTES, AppendOnlyStore
from functions.proof.seal_record import LEDGER, SealRecord, seal_blob_name, seal_id

if TYPE_CHECKING:
    from functions.proof.signer import DocumentSigner

log = logging.getLogger("privacy.proof")
SEAL_TYPE = "consent-ledger-seal"
SETTLE = timedelta(seconds=30)


class SealRecords:
    """The seals' records in Cosmos DB: the latest, by number, and by time window."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def latest(self) -> SealRecord | None:
        found = self._store.query(
            CONSENT_SEALS,
            LEDGER,
            "SELECT TOP 1 * FROM c WHERE c.ledger = @ledger ORDER BY c.number DESC",
            {"@ledger": LEDGER},
        )
        return next((SealRecord.model_validate(d) for d in found), None)

    def get(self, number: int) -> SealRecord | None:
        found = self._store.read(CONSENT_SEALS, seal_id(number), LEDGER)
        return SealRecord.model_validate(found.body) if found else None

    def overlapping(self, start: int, end: int) -> list[SealRecord]:
        """The seals whose window overlaps ``[start, end]`` (seconds since 1970), oldest first."""
        found = self._store.query(
            CONSENT_SEALS,
            LEDGER,
            "SELECT * FROM c WHERE c.ledger = @ledger AND c.windowEnd > @start AND c.windowStart <= @end "
            "ORDER BY c.windowEnd",
            {"@ledger": LEDGER, "@start": start, "@end": end},
        )
        return [SealRecord.model_validate(d) for d in found]

    def add(self, record: SealRecord) -> None:
        with contextlib.suppress(DocumentConflict):  # a roll-forward or a racing sealer stored the same record
            self._store.create(CONSENT_SEALS, record.to_document())


def record_of(number: int, token: str) -> SealRecord:
    claims = parse(token).payload_json()
    return SealRecord(
        id=seal_id(number),
        number=number,
        jws=token,
        window_start=claims["windowStart"],
        window_end=claims["windowEnd"],
        tree_size=claims["treeSize"],
        leaves_blob=claims["leavesBlob"],
    )


class LedgerSealer:
    def __init__(
        self,
        store: DocumentStore,
        records: SealRecords,
        archive: AppendOnlyStore,
        signer: DocumentSigner,
        clock: Clock,
        settle: timedelta = SETTLE,
    ) -> None:
        self._settle = settle
        self._store = store
        self._records = records
        self._archive = archive
        self._signer = signer
        self._clock = clock

    def _rolled_forward(self) -> SealRecord | None:
        """The latest seal, with any seal committed to the archive but not recorded (a crash) recorded now."""
        latest = self._records.latest()
        while True:
            number = (latest.number if latest else 0) + 1
            token = self._archive.read(seal_blob_name(number))
            if token is None:
                return latest
            latest = record_of(number, token.decode("ascii"))
            self._records.add(latest)
            log.info("ledger seal rolled forward number=%d", number)

    def _changed_heads(self, start: int, end: int) -> Iterator[bytes]:
        rows = self._store.query_across_partitions(
            CONSENT_STATE,
            "SELECT c.subjectId, c.seq, c.headHash FROM c WHERE c._ts >= @start AND c._ts < @end",
            {"@start": start, "@end": end},
        )
        for row in rows:
            yield head_leaf(row["subjectId"], int(row["seq"]), row["headHash"])

    def seal(self) -> SealRecord | None:
        """Seals what changed since the last seal; None when another sealer took this number, or too soon."""
        previous = self._rolled_forward()
        now = self._clock.now()
        start = previous.window_end if previous else 0
        end = int((now - self._settle).timestamp())
        if end <= start:
            return None
        number = (previous.number if previous else 0) + 1
        accumulator, digest = MerkleAccumulator(), hashlib.sha256()
        heads = self._changed_heads(start, end)
        first = next(heads, None)
        leaves_blob = None
        if first is not None:  # an empty window seals an empty tree, with no leaves to look up

            def chunks() -> Iterator[bytes]:
                block = bytearray()
                for leaf in itertools.chain([first], heads):
                    accumulator.add(leaf)
                    block += leaf
                    if len(block) >= UPLOAD_BLOCK_BYTES:  # 32-byte leaves fill a block exactly
                        yield _flushed(block, digest)
                if block:
                    yield _flushed(block, digest)

            leaves_blob = f"leaves/{seal_id(number)}-{secrets.token_hex(8)}.bin"
            self._archive.add(leaves_blob, chunks(), "application/octet-stream")
        claims = {
            "number": number,
            "previousSeal": hashlib.sha256(previous.jws.encode("ascii")).hexdigest() if previous else None,
            "merkleRoot": accumulator.root().hex(),
            "treeSize": accumulator.size,
            "leafFormat": LEAF_FORMAT,
            "leavesBlob": leaves_blob,
            "leavesSha256": digest.hexdigest() if leaves_blob else None,
            "windowStart": start,
            "windowEnd": end,
            "sealedAt": now.isoformat(),
        }
        token, _ = self._signer.sign(SEAL_TYPE, claims)
        if not self._archive.add(seal_blob_name(number), [token.encode("ascii")], "application/jose"):
            log.info("ledger seal number=%d was made by another run", number)
            return None
        record = record_of(number, token)
        self._records.add(record)
        log.info("ledger sealed number=%d heads=%d", number, accumulator.size)
        return record


def _flushed(block: bytearray, digest: hashlib._Hash) -> bytes:
    """The block as bytes, counted in the digest; ``block`` is emptied for the next one."""
    data = bytes(block)
    digest.update(data)
    block.clear()
    return data
