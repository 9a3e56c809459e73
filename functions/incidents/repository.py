"""Incidents, their affected people and their batches, on the document store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from core.containers import INCIDENT_BATCHES, INCIDENT_RECIPIENTS, INCIDENTS
from core.ports import DocumentConflict, DocumentStore
from core.repository import Repository
from functions.incidents.errors import IncidentNotFound
from functions.incidents.incident_record import Incident
from functions.incidents.lifecycle import IncidentStatus
from functions.incidents.recipient_record import Batch, BatchSummary, Recipient


class IncidentRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._incidents = Repository(store, INCIDENTS, Incident, lambda i: i.id, IncidentNotFound)
        self._recipients = Repository(store, INCIDENT_RECIPIENTS, Recipient, lambda r: r.incident_id)
        self._batches = Repository(store, INCIDENT_BATCHES, Batch, lambda b: b.notice_id)

    # ---- incidents

    def require(self, incident_id: str) -> Incident:
        return self._incidents.require(incident_id, incident_id)

    def create(self, incident: Incident) -> Incident:
        return self._incidents.save(incident)

    def change(self, incident_id: str, change: Callable[[Incident], None]) -> Incident:
        return self._incidents.change(incident_id, incident_id, change)

    def all(self, status: IncidentStatus | None = None) -> list[Incident]:
        where, parameters = ("c.status = @status", {"@status": status.value}) if status else ("1 = 1", {})
        documents = self._store.query_across_partitions(
            INCIDENTS,
            f"SELECT * FROM c WHERE {where} ORDER BY c.awareAt DESC",  # noqa: S608 - fixed clauses
            parameters,
        )
        return [self._incidents.load(d) for d in documents]

    # ---- affected people

    def add_recipient(self, recipient: Recipient) -> bool:
        """Records an affected person once; False when they were recorded already (by any route)."""
        try:
            self._store.create(INCIDENT_RECIPIENTS, recipient.to_document())
        except DocumentConflict:
            return False
        return True

    def add_recipients(self, incident_id: str, recipients: Sequence[Recipient]) -> int:
        """Records each affected person of one incident once, a hundred to a request; how many were
        new (the others were recorded already, by any route)."""
        created = self._store.create_all(INCIDENT_RECIPIENTS, incident_id, [r.to_document() for r in recipients])
        return sum(created)

    def recipient(self, incident_id: str, recipient_id: str) -> Recipient | None:
        return self._recipients.get(recipient_id, incident_id)

    def change_recipient(self, incident_id: str, recipient_id: str, change: Callable[[Recipient], None]) -> Recipient:
        return self._recipients.change(recipient_id, incident_id, change)

    def recipients_after(self, incident_id: str, after: str, limit: int) -> list[Recipient]:
        """The next ``limit`` recipients in id order after ``after`` (a batch's worth, never more)."""
        documents = self._store.query(
            INCIDENT_RECIPIENTS,
            incident_id,
            f"SELECT TOP {int(limit)} * FROM c WHERE c.incidentId = @incident AND c.id > @after ORDER BY c.id",  # noqa: S608
            {"@incident": incident_id, "@after": after},
        )
        return [self._recipients.load(d) for d in documents]

    def recipients(self, incident_id: str) -> Iterator[Recipient]:
        documents = self._store.query(
            INCIDENT_RECIPIENTS,
            incident_id,
            "SELECT * FROM c WHERE c.incidentId = @incident",
            {"@incident": incident_id},
        )
        for document in documents:
            yield self._recipients.load(document)

    def count_recipients(self, incident_id: str) -> int:
        return sum(
            1
            for _ in self._store.query(
                INCIDENT_RECIPIENTS,
                incident_id,
                "SELECT c.id FROM c WHERE c.incidentId = @incident",
                {"@incident": incident_id},
            )
        )

    # ---- batches

    def batch(self, notice_id: str, batch_id: str) -> Batch | None:
        return self._batches.get(batch_id, notice_id)

    def create_batch(self, batch: Batch) -> Batch | None:
        """Stores a new batch; None when one with that id exists already (a replayed message made it)."""
        try:
            return self._batches.save(batch)
        except DocumentConflict:
            return None

    def change_batch(self, notice_id: str, batch_id: str, change: Callable[[Batch], None]) -> Batch:
        return self._batches.change(batch_id, notice_id, change)

    def batches(self, notice_id: str) -> Iterator[Batch]:
        """Every batch of a notice in order, one document at a time (each holds at most 1,000 people)."""
        for summary in self.batch_summaries(notice_id):
            batch = self.batch(notice_id, summary.id)
            if batch is not None:
                yield batch

    def last_event_at(self) -> datetime | None:
        """When SendGrid last reported on any batch of ours."""
        rows = self._store.query_across_partitions(
            INCIDENT_BATCHES,
            "SELECT TOP 1 c.lastEventAt FROM c WHERE IS_STRING(c.lastEventAt) ORDER BY c.lastEventAt DESC",
            {},
        )
        found = next(iter(rows), None)
        return datetime.fromisoformat(str(found["lastEventAt"])) if found else None

    def batch_summaries(self, notice_id: str) -> list[BatchSummary]:
        """Every batch of a notice in order, without the addresses."""
        documents = self._store.query(
            INCIDENT_BATCHES,
            notice_id,
            "SELECT c.id, c.seq, c.status, c.size, c.eventsSeen FROM c WHERE c.noticeId = @notice ORDER BY c.seq",
            {"@notice": notice_id},
        )
        return [BatchSummary.model_validate(d) for d in documents]
