"""A product container in Cosmos DB, partitioned by user id: items are deleted, or anonymized where a
law keeps the record (invoices) but not the person's identity. Retention deletes items past their
period, or clears the fields a rule names (a push token reported invalid).

The retention half works on any container (its partition key is read from the container's
declaration), so kinds of our own records build on it and say only what a hold keeps of theirs
(``_held``) and what else an item must meet to be due (``_only``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from core.containers import database_spec
from core.ports import Document, DocumentChanged, DocumentStore
from functions.inventory.accounts import done_by
from functions.inventory.declaration import ANONYMIZE
from functions.inventory.locations import (
    Outcome,
    Preview,
    PurgeScope,
    PurgeStep,
    StoredLocation,
    TimeLeft,
    location_kind,
)
from functions.inventory.purging import Selection, moment, preview_of, purge_remaining
from functions.inventory.subject import Subject

KEYS_ONLY = "c.id, c.userId"
MAX_DELETE_ROUNDS = 5
MAX_CLEAR_ATTEMPTS = 5


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

    # ---- retention -----------------------------------------------------------------------------

    @property
    def _partition(self) -> str:
        """The field the container is partitioned by (``userId`` for product containers)."""
        return database_spec().container(str(self.declaration.container)).partition_key.lstrip("/")

    def _held(self, scope: PurgeScope) -> tuple[tuple[str, ...], dict[str, Any]]:
        """Clauses (and their parameters) that leave out what holds keep: a product item is its user's."""
        return ("NOT ARRAY_CONTAINS(@heldUsers, c.userId)",), {"@heldUsers": sorted(scope.holds.user_ids)}

    def _only(self, scope: PurgeScope) -> tuple[str, ...]:
        """Fixed clauses an item must also meet to be due under ``scope.rule`` (none for product items)."""
        return ()

    def _selection(self, scope: PurgeScope, waiting: bool = True) -> Selection:
        """Items past the cutoff and not held; with ``waiting``, only those the rules it comes after
        are done with (a dry run counts them all: a run does those rules first)."""
        rule, container = scope.rule, self.declaration.container
        if container is None or rule.field is None:
            raise ValueError(f"retention rule {rule.id} needs the location's container and the item's field")
        held, held_parameters = self._held(scope)
        return Selection(
            container,
            f"c.{rule.field}",
            scope.cutoff,
            clauses=(*(done_by(needed) for needed in rule.after if waiting), *self._only(scope)),
            held=held,
            held_parameters=held_parameters,
        )

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        account = ("c.userId",) if scope.rule.ends_account else ()  # whose consent proof's clock it starts
        keys = ", ".join(dict.fromkeys(("c.id", f"c.{self._partition}", f"c.{scope.rule.field}", *account)))
        chunk = self.chunk(scope, bookmark, limit, time_left)
        return purge_remaining(
            self.systems.store, [self._selection(scope)], keys, chunk, lambda item: self._purge(scope, item)
        )

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        return preview_of(self.systems.store, [self._selection(scope, waiting=False)])

    def _purge(self, scope: PurgeScope, item: Document) -> bool:
        rule, container = scope.rule, str(self.declaration.container)
        partition, item_id = str(item[self._partition]), str(item["id"])
        if rule.action == "clear":
            return clear_fields(self.systems.store, container, item_id, partition, rule.fields)
        if rule.ends_account:
            ended = moment(item.get(rule.field or "")) or scope.now
            self.systems.ledger.note_account_end(f"user:{item['userId']}", ended)
        return self.systems.store.delete(container, item_id, partition)


def clear_fields(store: DocumentStore, container: str, item_id: str, partition: str, fields: tuple[str, ...]) -> bool:
    """Removes ``fields`` from one item, etag-guarded; False when the item is gone."""
    for _ in range(MAX_CLEAR_ATTEMPTS):
        found = store.read(container, item_id, partition)
        if found is None:
            return False
        try:
            store.replace(container, {k: v for k, v in found.body.items() if k not in fields}, found.etag)
            return True
        except DocumentChanged:  # its owner wrote meanwhile: read it again
            continue
    raise DocumentChanged(container)
