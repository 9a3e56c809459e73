"""The person's other data-subject requests: kept as proof, without the address once closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from functions.inventory.locations import Outcome, StoredLocation, location_kind
from functions.inventory.subject import Subject


@location_kind("request-records")
class RequestRecordsLocation(StoredLocation):
    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        return iter(())  # the person sees their requests through the API, not in an export

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        cleared = self.systems.request_records.forget_address(subject.subject_key, subject.request_id)
        return Outcome(counts={"emailsRemoved": cleared})
