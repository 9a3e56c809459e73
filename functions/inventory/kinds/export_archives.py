"""Data-export archives made for the person's access requests, in Blob storage.

Retention deletes an archive once its period has passed since it was made, and notes that on its
request; archives of held requests and subjects stay."""

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
from functions.inventory.ports import DueRequest
from functions.inventory.purging import preview_due_requests, purge_due_requests
from functions.inventory.subject import Subject


@location_kind("export-archives")
class ExportArchivesLocation(StoredLocation):
    purge_chunk = 100  # each item is a blob deletion

    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        return iter(())  # an archive is itself an export: it is not exported again

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        deleted = self.systems.archives.delete_archives(subject.subject_key, subject.held_request_ids)
        # Blob names start with the subject's keyed hash; the public certificate keeps only the file part.
        confirmations = [{**d.to_document(), "reference": d.reference.rsplit("/", 1)[-1]} for d in deleted]
        return Outcome(counts={"deleted": len(deleted)}, confirmations=confirmations)

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        def delete_blob(request: DueRequest) -> None:
            if request.archive is not None:
                self.systems.archives.delete_archive(request.archive)

        chunk = self.chunk(scope, bookmark, limit, time_left)
        return purge_due_requests(self.systems.request_records, "archive", chunk, delete_blob)

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        return preview_due_requests(self.systems.request_records, "archive", scope)
