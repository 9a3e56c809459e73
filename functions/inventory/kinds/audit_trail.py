"""The audit trail of staff reads and actions: never part of a data-subject request (it is about our
staff's work), deleted by retention once its period is over, except records about held things: a
hold itself, a held request, any request of a held subject, a held subject's consent proof."""

from __future__ import annotations

from typing import Any

from core.ports import Document
from functions.inventory.locations import (
    NotInRequests,
    Preview,
    PurgeScope,
    PurgeStep,
    StoredLocation,
    TimeLeft,
    location_kind,
)
from functions.inventory.purging import Selection, preview_of, purge_remaining


@location_kind("audit-trail")
class AuditTrailLocation(NotInRequests, StoredLocation):  # retained (GDPR Art. 5(2)); not a step of any request
    def _selection(self, scope: PurgeScope) -> Selection:
        subject_requests = self.systems.request_records.held_by_subject(scope.holds)
        return Selection(
            str(self.declaration.container),
            f"c.{scope.rule.field or 'at'}",
            scope.cutoff,
            held=("NOT ARRAY_CONTAINS(@heldTargets, c.target)",),
            held_parameters={"@heldTargets": sorted(scope.holds.audit_targets(subject_requests))},
        )

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        container = str(self.declaration.container)

        def delete(record: Document) -> bool:
            return self.systems.store.delete(container, str(record["id"]), str(record["month"]))

        chunk = self.chunk(scope, bookmark, limit, time_left)
        return purge_remaining(self.systems.store, [self._selection(scope)], "c.id, c.month", chunk, delete)

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        return preview_of(self.systems.store, [self._selection(scope)])
