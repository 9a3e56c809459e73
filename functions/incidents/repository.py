"""Incidents, their affected people and their batches, on the document store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from core.containers import INCIDENT_RECIPIENTS, INCIDENTS
from core.ports import DocumentConflict, DocumentStore
from core.repository import Repository
from functions.incidents.errors import IncidentNotFound
from functions.incidents.incident_record import Incident
from functions.incidents.lifecycle import IncidentStatus
from functions.incidents.recipient_record import Recipient


class IncidentRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._incidents = Repository(store, INCIDENTS, Incident, lambda i: i.id, IncidentNotFound)
        self._recipients = Repository(store, INCIDENT_RECIPIENTS, Recipient, lambda r: r.incident_id)

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
        """Records an affected person once; False when they were recorded already (by any route). A
        person recorded again after retention removed their address gets it back, so that a later
        notice (a further phase) reaches them."""
        try:
            self._store.create(INCIDENT_RECIPIENTS, recipient.to_document())
        except DocumentConflict:
            stored = self.recipient(recipient.incident_id, recipient.id)
            if stored is not None and stored.email is None and recipient.email is not None:
                self._recipients.change(recipient.id, recipient.incident_id, _address(recipient.email))
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
        """The next ``limit`` recipients with an address in id order after ``after`` (a batch's worth,
        never more)."""
        documents = self._store.query(
            INCIDENT_RECIPIENTS,
            incident_id,
            f"SELECT TOP {int(limit)} * FROM c WHERE c.incidentId = @incident AND c.id > @after "  # noqa: S608
            "AND IS_STRING(c.email) ORDER BY c.id",
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


def _address(email: str) -> Callable[[Recipient], None]:
    def give_back(recipient: Recipient) -> None:
        if recipient.email is None:
            recipient.email = email

    return give_back
