"""Batches on the document store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from core.containers import MAIL_BATCHES
from core.ports import DocumentConflict, DocumentStore
from core.repository import Repository
from functions.fanout.batch_record import Batch, BatchSummary


class BatchRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._batches = Repository(store, MAIL_BATCHES, Batch, lambda b: b.mailing_id)

    def get(self, mailing_id: str, batch_id: str) -> Batch | None:
        return self._batches.get(batch_id, mailing_id)

    def create(self, batch: Batch) -> Batch | None:
        """Stores a new batch; None when one with that id exists already (a replayed message made it)."""
        try:
            return self._batches.save(batch)
        except DocumentConflict:
            return None

    def change(self, mailing_id: str, batch_id: str, change: Callable[[Batch], None]) -> Batch:
        return self._batches.change(batch_id, mailing_id, change)

    def summaries(self, mailing_id: str) -> list[BatchSummary]:
        """Every batch of a mailing in order, without the addresses."""
        documents = self._store.query(
            MAIL_BATCHES,
            mailing_id,
            "SELECT c.id, c.seq, c.status, c.size, c.eventsSeen FROM c WHERE c.mailingId = @mailing ORDER BY c.seq",
            {"@mailing": mailing_id},
        )
        return [BatchSummary.model_validate(d) for d in documents]

    def all(self, mailing_id: str) -> Iterator[Batch]:
        """Every batch of a mailing in order, one document at a time (each holds at most 1,000 people)."""
        for summary in self.summaries(mailing_id):
            batch = self.get(mailing_id, summary.id)
            if batch is not None:
                yield batch

    def last_event_at(self) -> datetime | None:
        """When SendGrid last reported on any batch."""
        rows = self._store.query_across_partitions(
            MAIL_BATCHES,
            "SELECT TOP 1 c.lastEventAt FROM c WHERE IS_STRING(c.lastEventAt) ORDER BY c.lastEventAt DESC",
            {},
        )
        found = next(iter(rows), None)
        return datetime.fromisoformat(str(found["lastEventAt"])) if found else None
