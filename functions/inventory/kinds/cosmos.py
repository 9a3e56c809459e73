"""A product container in Cosmos DB, partitioned by user id: items are deleted, or anonymized where a
law keeps the record (invoices) but not the person's identity."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from functions.inventory.declaration import ANONYMIZE
from functions.inventory.locations import Outcome, StoredLocation, location_kind
from functions.inventory.subject import Subject

KEYS_ONLY = "c.id, c.userId"
MAX_DELETE_ROUNDS = 5


@location_kind("cosmos")
class CosmosLocation(StoredLocation):
    counts_before_erasure = True

    def _items(self, subject: Subject, fields: str = "*") -> Iterator[dict[str, Any]]:
        container = self.declaration.container
        if subject.user_id is None or container is None:
            return iter(())
        return self.systems.store.query(
            container,
            subject.user_id,
            f"SELECT {fields} FROM c WHERE c.userId = @user",  # noqa: S608 - fields are constants of this module
            {"@user": subject.user_id},
        )

    def held_items(self, subject: Subject) -> int:
        return sum(1 for _ in self._items(subject, KEYS_ONLY))

    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        yield from self._items(subject)

    def affected_users(self, since: datetime, until: datetime) -> Iterator[str] | None:
        container, time_field = self.declaration.container, self.declaration.time_field
        if container is None or time_field is None:
            return None
        rows = self.systems.store.query_across_partitions(
            container,
            f"SELECT c.userId FROM c WHERE c.{time_field} >= @since AND c.{time_field} < @until ORDER BY c.userId",  # noqa: S608 - declared field
            {"@since": since.isoformat(), "@until": until.isoformat()},
        )
        return (str(row["userId"]) for row in rows)

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        container = self.declaration.container
        if container is None:
            return Outcome()
        store = self.systems.store
        if self.declaration.erasure.strategy == ANONYMIZE:
            cleared = dict.fromkeys(self.declaration.erasure.fields)
            anonymized = 0
            for item in self._items(subject):
                store.upsert(container, {**item, **cleared, "anonymized": True})
                anonymized += 1
            return Outcome(counts={"found": anonymized if found is None else found, "anonymized": anonymized})
        deleted = remaining = 0
        for _round in range(MAX_DELETE_ROUNDS):
            # Deleting while paging through a query may skip items a page boundary moved: query again
            # until nothing is left.
            deleted += sum(store.delete(container, i["id"], i["userId"]) for i in self._items(subject, KEYS_ONLY))
            remaining = self.held_items(subject)
            if remaining == 0:
                break
        total = deleted if found is None else found
        return Outcome(counts={"found": total, "deleted": total - remaining, "remaining": remaining})
