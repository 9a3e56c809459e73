"""What purges of Cosmos items share: selecting the items past a cutoff, oldest first and without the
held ones, in bounded chunks, and counting them for a dry run.

A purge here works on what remains: every item it purges stops matching its selection (deleted,
cleared, marked), so the next chunk, the next run and a run after a crash all simply select again
and continue where the last one stopped. Held items are left out by the query itself, so they never
hold a chunk up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.ports import Document, DocumentStore, Page
from functions.inventory.locations import Preview, PurgeScope, PurgeStep, TimeLeft
from functions.inventory.periods import stored_cutoff
from functions.inventory.ports import DueRequest, RequestPurge, RequestRecords


@dataclass(frozen=True)
class Selection:
    """Items of one container whose ``clock`` (a path such as ``c.at``) is before ``cutoff``. Clauses
    are fixed text of ours; every value travels as a parameter."""

    container: str
    clock: str
    cutoff: datetime
    clauses: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    held: tuple[str, ...] = ()  # clauses that leave held items out
    held_parameters: Mapping[str, Any] = field(default_factory=dict)

    def _where(self, leave_held_out: bool) -> tuple[str, dict[str, Any]]:
        clauses = [f"{self.clock} < @cutoff", *self.clauses]
        parameters = {"@cutoff": stored_cutoff(self.cutoff), **self.parameters}
        if leave_held_out:
            clauses += self.held
            parameters.update(self.held_parameters)
        return " AND ".join(clauses), parameters

    def due(self, store: DocumentStore, keys: str, limit: int) -> list[Document]:
        where, parameters = self._where(leave_held_out=True)
        sql = f"SELECT TOP {int(limit)} {keys} FROM c WHERE {where} ORDER BY {self.clock}"  # noqa: S608 - ours
        return list(store.query_across_partitions(self.container, sql, parameters))

    def page(self, store: DocumentStore, keys: str, limit: int, continuation: str | None) -> Page:
        """One page of every item (held ones too), for purges that walk their candidates in a fixed
        window instead of seeing them disappear; ``continuation`` from the previous page."""
        where, parameters = self._where(leave_held_out=False)
        return store.query_page(self.container, f"SELECT {keys} FROM c WHERE {where}", parameters, limit, continuation)  # noqa: S608

    def count(self, store: DocumentStore, leave_held_out: bool) -> int:
        where, parameters = self._where(leave_held_out)
        found = store.query_value(self.container, f"SELECT VALUE COUNT(1) FROM c WHERE {where}", parameters)  # noqa: S608
        return int(found or 0)

    def held_count(self, store: DocumentStore) -> int:
        """Items past the cutoff that holds keep: none to count (and no query) while nothing is held."""
        if not any(self.held_parameters.values()):
            return 0
        return self.count(store, leave_held_out=False) - self.count(store, leave_held_out=True)

    def oldest(self, store: DocumentStore) -> datetime | None:
        where, parameters = self._where(leave_held_out=True)
        found = store.query_value(self.container, f"SELECT VALUE MIN({self.clock}) FROM c WHERE {where}", parameters)  # noqa: S608
        return moment(found)


def moment(value: Any) -> datetime | None:
    """A stored ISO time as a datetime (``Z`` or an offset); None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def purge_remaining(
    store: DocumentStore,
    selections: Sequence[Selection],
    keys: str,
    limit: int,
    time_left: TimeLeft,
    purge_one: Callable[[Document], bool],
    held: Callable[[Document], bool] | None = None,
) -> PurgeStep:
    """Up to ``limit`` items of the selections, in turn, each handed to ``purge_one`` (True when it
    purged it, False when there was nothing left to do) unless ``held`` (asked first) says a hold
    placed since the chunk began covers it. Done once every selection came up short."""
    step = PurgeStep()
    held_since = 0  # counted by the last chunk only: by then the selections leave them out, and count them
    for selection in selections:
        room = limit - step.examined
        if room <= 0:
            return step
        due = selection.due(store, keys, room)
        for item in due:
            if not time_left():
                return step
            step.examined += 1
            if held is not None and held(item):
                held_since += 1
            elif purge_one(item):
                step.purged += 1
            else:
                step.skipped += 1
        if len(due) == room:
            return step  # there may be more of this selection
    step.done = True
    step.held = held_since + sum(selection.held_count(store) for selection in selections)
    return step


def preview_of(store: DocumentStore, selections: Sequence[Selection]) -> Preview:
    oldest = [found for selection in selections if (found := selection.oldest(store)) is not None]
    return Preview(
        due=sum(selection.count(store, leave_held_out=True) for selection in selections),
        held=sum(selection.held_count(store) for selection in selections),
        oldest=min(oldest) if oldest else None,
    )


def purge_due_requests(
    records: RequestRecords,
    purge: RequestPurge,
    scope: PurgeScope,
    limit: int,
    time_left: TimeLeft,
    first: Callable[[DueRequest], None] | None = None,
) -> PurgeStep:
    """Request records past the rule's cutoff, oldest first: ``first`` (deleting an archive, say)
    then the record's own purge; each purged one stops being due."""
    step = PurgeStep()
    due = records.due(purge, scope.cutoff, scope.holds, limit)
    for request in due:
        if not time_left():
            return step
        step.examined += 1
        if first is not None:
            first(request)
        if records.purge(purge, request.request_id, scope.now):
            step.purged += 1
        else:
            step.skipped += 1
    if len(due) < limit:
        step.done = True
        step.held = _held_requests(records, purge, scope)
    return step


def preview_due_requests(records: RequestRecords, purge: RequestPurge, scope: PurgeScope) -> Preview:
    due, oldest = records.count_due(purge, scope.cutoff, scope.holds)
    return Preview(due=due, held=_held_requests(records, purge, scope), oldest=oldest)


def _held_requests(records: RequestRecords, purge: RequestPurge, scope: PurgeScope) -> int:
    if not scope.holds:
        return 0
    return records.count_due(purge, scope.cutoff, None)[0] - records.count_due(purge, scope.cutoff, scope.holds)[0]
