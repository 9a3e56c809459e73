"""The person's other data-subject requests: kept as proof, without the address once closed.

Retention closes a request nobody confirmed (forgetting its address and link) and deletes a closed
request once its period is over; held requests stay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from functions.inventory.locations import (
    Outcome,
    Preview,
    PurgeScope,
    PurgeStep,
    StoredLocation,
    TimeLeft,
    location_kind,
)
from functions.inventory.ports import RequestPurge
from functions.inventory.purging import preview_due_requests, purge_due_requests
from functions.inventory.subject import Subject


def request_purge(scope: PurgeScope) -> RequestPurge:
    return "unconfirmed" if scope.rule.action == "forget" else "closed"


@location_kind("request-records")
class RequestRecordsLocation(StoredLocation):
    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        return iter(())  # the person sees their requests through the API, not in an export

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        cleared = self.systems.request_records.forget_address(
            subject.subject_key, subject.request_id, subject.held_request_ids
        )
        return Outcome(counts={"emailsRemoved": cleared})

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        chunk = self.chunk(scope, bookmark, limit, time_left)
        return purge_due_requests(self.systems.request_records, request_purge(scope), chunk)

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        return preview_due_requests(self.systems.request_records, request_purge(scope), scope)
