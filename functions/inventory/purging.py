"""What purges of Cosmos items share: selecting the items past a cutoff, oldest first and without the
held ones, in bounded chunks, and counting them for a dry run.

A purge here works on what remains: every item it purges stops matching its selection (deleted,
cleared, marked), so the next chunk, the next run and a run after a crash all simply select again
and continue where the last one stopped. Held items are left out by the query itself, so they never
hold a chunk up; an item whose purge fails is put on record and passed over (Attempts), so it never
holds its rule up either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

from core.ports import Document, DocumentStore, Page
from functions.inventory.locations import Chunk, ItemFailure, Preview, PurgeScope, PurgeStep
from functions.inventory.periods import stored_cutoff
from functions.inventory.ports import DueRequest, RequestPurge, RequestRecords

FAILING = "failing"  # the bookmark's record of the items that failed, by keyed reference
MAX_TRIES = 5  # runs in a row that try a failing item; after that, one try every PARKED_FOR
PARKED_FOR = timedelta(days=7)
FAILURE_STREAK = 3  # new items failing one after another: the location fails, not its items
MAX_FAILING = 100  # items on record at once; more, and it is the location that fails


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
    chunk: Chunk,
    purge_one: Callable[[Document], bool],
    identity: str = "id",
    held: Callable[[Document], bool] | None = None,
) -> PurgeStep:
    """Up to ``chunk.limit`` items of the selections, in turn, each handed to ``purge_one`` (True when
    it purged it, False when there was nothing left to do) unless ``held`` (asked first) says a hold
    placed since the chunk began covers it. Items are named by their ``identity`` field; those on
    record as failing are passed over (see Attempts). Done once every selection came up short."""
    attempts = Attempts(chunk)
    held_since = 0  # counted by the last chunk only: by then the selections leave them out, and count them
    for selection in selections:
        room = chunk.limit - attempts.step.examined
        if room <= 0:
            return attempts.finish()
        passed_over = attempts.passed_over
        due = selection.due(store, keys, room + passed_over)  # failing items come first: fetched past
        taken = 0
        for item in due:
            item_id = str(item[identity])
            if attempts.passes_over(item_id):
                continue
            if taken == room or not chunk.time_left():
                return attempts.finish()
            taken += 1
            if held is not None and held(item):
                attempts.step.examined += 1
                held_since += 1
            elif not attempts.attempt(item_id, partial(_as_result, purge_one, item)):
                return attempts.finish()
        if len(due) == room + passed_over:
            return attempts.finish()  # there may be more of this selection
    step = attempts.finish(done=True)
    step.held = held_since + sum(selection.held_count(store) for selection in selections)
    return step


Result = Literal["purged", "skipped", "held"]  # what became of one item tried


def _as_result(purge_one: Callable[[Document], bool], item: Document) -> Result:
    return "purged" if purge_one(item) else "skipped"


class Attempts:
    """The items of one chunk, tried one at a time with each failure isolated. An item that raises is
    put on record in the rule's bookmark (by its keyed reference, never its id) and passed over for
    the rest of the run; each later run tries it again, and after MAX_TRIES failures only once every
    PARKED_FOR. The chunk goes on with the others, so an item a third party always refuses never
    holds its rule up. New items failing one after another (FAILURE_STREAK) mean the location itself
    is failing (Stripe down): the chunk stops, and its rule with it, until the next run."""

    def __init__(self, chunk: Chunk) -> None:
        self._chunk = chunk
        self._failing: dict[str, dict[str, Any]] = dict(chunk.bookmark.get(FAILING) or {})
        self._streak = 0
        self.step = PurgeStep(bookmark={k: v for k, v in chunk.bookmark.items() if k != FAILING})

    def passes_over(self, item_id: str) -> bool:
        return self._waiting(self._failing.get(self._chunk.ref(item_id)))

    @property
    def passed_over(self) -> int:
        return sum(self._waiting(entry) for entry in self._failing.values())

    def _waiting(self, entry: dict[str, Any] | None) -> bool:
        if entry is None:
            return False
        if entry.get("run") is not None and entry.get("run") == self._chunk.scope.run_id:
            return True
        resting = moment(entry.get("retryAt"))
        return resting is not None and resting > self._chunk.scope.now

    def attempt(self, item_id: str, purge: Callable[[], Result]) -> bool:
        """Tries one item: purged, skipped (nothing left to do), held or failed. False once the chunk
        must stop."""
        ref, step = self._chunk.ref(item_id), self.step
        step.examined += 1
        try:
            result = purge()
        except Exception as error:  # the item's own failure: on record, and the others go on
            return self._failed(ref, type(error).__name__)
        self._failing.pop(ref, None)
        self._streak = 0
        if result == "purged":
            step.purged += 1
        elif result == "held":
            step.held += 1
        else:
            step.skipped += 1
        return True

    def _failed(self, ref: str, error: str) -> bool:
        earlier = self._failing.get(ref)
        tries = int(earlier["tries"]) + 1 if earlier else 1
        parked = tries >= MAX_TRIES
        now = self._chunk.scope.now
        self._failing[ref] = {
            "tries": tries,
            "error": error,
            "run": self._chunk.scope.run_id,
            "retryAt": stored_cutoff(now + PARKED_FOR) if parked else None,
        }
        self.step.failed.append(ItemFailure(ref, error, tries, parked))
        self._streak += earlier is None  # items failing again say nothing of the location
        if self._streak >= FAILURE_STREAK or len(self._failing) > MAX_FAILING:
            self.step.broken = error
            return False
        return True

    def finish(self, done: bool = False) -> PurgeStep:
        step = self.step
        step.done, step.failing = done, len(self._failing)
        if self._failing:
            step.bookmark[FAILING] = self._failing
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
    chunk: Chunk,
    first: Callable[[DueRequest], None] | None = None,
) -> PurgeStep:
    """Request records past the rule's cutoff, oldest first: ``first`` (deleting an archive, say)
    then the record's own purge; each purged one stops being due."""
    scope, attempts = chunk.scope, Attempts(chunk)
    passed_over = attempts.passed_over
    due = records.due(purge, scope.cutoff, scope.holds, chunk.limit + passed_over)
    taken = 0
    for request in due:
        if attempts.passes_over(request.request_id):
            continue
        if taken == chunk.limit or not chunk.time_left():
            return attempts.finish()
        taken += 1
        if not attempts.attempt(request.request_id, partial(_purge_request, records, purge, scope, request, first)):
            return attempts.finish()
    if len(due) == chunk.limit + passed_over:
        return attempts.finish()
    step = attempts.finish(done=True)
    step.held = _held_requests(records, purge, scope)
    return step


def _purge_request(
    records: RequestRecords,
    purge: RequestPurge,
    scope: PurgeScope,
    request: DueRequest,
    first: Callable[[DueRequest], None] | None,
) -> Result:
    if first is not None:
        first(request)
    return "purged" if records.purge(purge, request.request_id, scope.now) else "skipped"


def preview_due_requests(records: RequestRecords, purge: RequestPurge, scope: PurgeScope) -> Preview:
    due, oldest = records.count_due(purge, scope.cutoff, scope.holds)
    return Preview(due=due, held=_held_requests(records, purge, scope), oldest=oldest)


def _held_requests(records: RequestRecords, purge: RequestPurge, scope: PurgeScope) -> int:
    if not scope.holds:
        return 0
    return records.count_due(purge, scope.cutoff, None)[0] - records.count_due(purge, scope.cutoff, scope.holds)[0]
