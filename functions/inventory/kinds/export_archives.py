"""Data-export archives made for the person's access requests, in Blob storage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from functions.inventory.locations import Outcome, StoredLocation, location_kind
from functions.inventory.subject import Subject


@location_kind("export-archives")
class ExportArchivesLocation(StoredLocation):
    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        return iter(())  # an archive is itself an export: it is not exported again

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        deleted = self.systems.archives.delete_archives(subject.subject_key)
        # Blob names start with the subject's keyed hash; the public certificate keeps only the file part.
        confirmations = [{**d.to_document(), "reference": d.reference.rsplit("/", 1)[-1]} for d in deleted]
        return Outcome(counts={"deleted": len(deleted)}, confirmations=confirmations)
