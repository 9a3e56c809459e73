"""Legal holds themselves: kept while in force and for the rule's period after they ended (released,
or past their end date), then deleted. Never part of a data-subject request."""

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


@location_kind("legal-holds")
class LegalHoldsLocation(NotInRequests, StoredLocation):  # retained (GDPR Art. 17(3)(e)); not a step of any request
    def _selection(self, scope: PurgeScope) -> Selection:
        return Selection(str(self.declaration.container), f"c.{scope.rule.field or 'endedAt'}", scope.cutoff)

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        container = str(self.declaration.container)

        def delete(hold: Document) -> bool:
            return self.systems.store.delete(container, str(hold["id"]), str(hold["id"]))

        chunk = self.chunk(scope, bookmark, limit, time_left)
        return purge_remaining(self.systems.store, [self._selection(scope)], "c.id", chunk, delete)

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        return preview_of(self.systems.store, [self._selection(scope)])
