"""A signed-in user's fresh download link: only for their own ready archive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.containers import database_spec
from functions.requests.downloads import ExportDownloads
from functions.requests.errors import ExportNotReady, RequestNotFound
from functions.requests.lifecycle import RequestType, Status
from functions.requests.repository import RequestRepository
from functions.requests.request_record import DsrRequest
from tests.fakes import InMemoryArchives, InMemoryDocumentStore, MovableClock

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _request(request_id: str, type_: RequestType, user_id: str, archive: str | None) -> DsrRequest:
    return DsrRequest(
        id=request_id,
        type=type_,
        status=Status.COMPLETED,
        jurisdiction="GDPR",
        subject_key="k" * 64,
        email=None,
        received_at=NOW,
        due_at=NOW,
        max_due_at=NOW,
        source="dashboard",
        user_id=user_id,
        archive_blob=archive,
    )


def test_only_the_owner_gets_a_link_to_a_ready_archive() -> None:
    requests = RequestRepository(
        InMemoryDocumentStore({c.id: c.partition_key.lstrip("/") for c in database_spec().containers})
    )
    requests.save(_request("r-ready", RequestType.ACCESS, "alice", "k/r-ready.zip"))
    requests.save(_request("r-gone", RequestType.ACCESS, "alice", None))
    requests.save(_request("r-erasure", RequestType.ERASURE, "alice", None))
    downloads = ExportDownloads(requests, InMemoryArchives(), MovableClock(NOW), link_hours=72)

    link = downloads.link_for("alice", "r-ready")
    assert "k/r-ready.zip" in link.url
    assert link.expires_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert requests.require("r-ready").export_ready is True
    with pytest.raises(RequestNotFound):
        downloads.link_for("mallory", "r-ready")  # another's request: the same answer as none at all
    with pytest.raises(RequestNotFound):
        downloads.link_for("alice", "r-none")
    for not_ready in ("r-gone", "r-erasure"):
        with pytest.raises(ExportNotReady):
            downloads.link_for("alice", not_ready)
