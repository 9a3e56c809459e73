"""Creating many documents of one partition at once, against the Cosmos DB stand-in."""

from __future__ import annotations

import uuid

import pytest

from adapters.cosmos import BATCH_LIMIT, CosmosDocumentStore
from bootstrap import Services
from core.containers import INCIDENT_RECIPIENTS

pytestmark = pytest.mark.integration


def _bodies(incident_id: str, count: int) -> list[dict[str, str]]:
    return [{"id": f"r-{n:04d}", "incidentId": incident_id, "source": "upload"} for n in range(count)]


def _store(svc: Services) -> CosmosDocumentStore:
    store = svc.documents
    assert isinstance(store, CosmosDocumentStore)
    return store


def test_only_the_documents_not_yet_stored_are_created_past_one_batch(stack_services: Services) -> None:
    store = _store(stack_services)
    incident_id = str(uuid.uuid4())
    bodies = _bodies(incident_id, BATCH_LIMIT * 2 + 5)
    first = store.create_all(INCIDENT_RECIPIENTS, incident_id, bodies[:150])
    assert first == [True] * 150

    again = store.create_all(INCIDENT_RECIPIENTS, incident_id, bodies)

    assert again == [False] * 150 + [True] * (len(bodies) - 150)
    stored = store.query(
        INCIDENT_RECIPIENTS, incident_id, "SELECT c.id FROM c WHERE c.incidentId = @i", {"@i": incident_id}
    )
    assert sorted(row["id"] for row in stored) == [b["id"] for b in bodies]


def test_a_document_created_between_the_query_and_the_batch_is_not_created_twice(
    stack_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(stack_services)
    incident_id = str(uuid.uuid4())
    bodies = _bodies(incident_id, 10)
    store.create(INCIDENT_RECIPIENTS, bodies[4])  # by another route, unseen by the query below
    monkeypatch.setattr(store, "_existing_ids", lambda *_: set())

    created = store.create_all(INCIDENT_RECIPIENTS, incident_id, bodies)

    assert created == [True] * 4 + [False] + [True] * 5
    stored = store.query(
        INCIDENT_RECIPIENTS, incident_id, "SELECT c.id FROM c WHERE c.incidentId = @i", {"@i": incident_id}
    )
    assert len(list(stored)) == 10
