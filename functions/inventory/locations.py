"""One class per kind of place personal data lives, registered by kind, built from the declaration.

A location finds a subject's items, exports them, says what an erasure will do (the plan) and does
it, and purges what is past its retention (the purge, and its dry run, the preview). Engines
(requests, retention) only ever call these verbs: they never ask which kind a location is. A new
kind of system is a new class in ``kinds/`` and a line in the declaration.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from core.clock import SystemClock
from core.ports import Clock, DocumentStore
from core.pseudonyms import keyed_hash
from functions.consent.catalog_repository import CatalogRepository
from functions.consent.ledger_repository import ConsentLedger
from functions.inventory.declaration import RETAIN, Inventory, Location, RetentionRule
from functions.inventory.holds import HeldSet, Hold
from functions.inventory.ports import ArchiveStore, MarketingContacts, PaymentsGateway, RequestRecords
from functions.inventory.subject import Subject


@dataclass
class Outcome:
    counts: dict[str, int] = field(default_factory=dict)
    confirmations: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PlanEntry:
    location: str
    category: str
    action: str  # delete | anonymize | pseudonymize | retain | nothing-found
    items: int | None  # None when only known at run time (a third party is asked then)
    reason: str


TimeLeft = Callable[[], bool]  # the run's time budget, asked before each item


@dataclass(frozen=True)
class PurgeScope:
    """One retention rule at one moment: what is past ``cutoff`` goes, unless ``holds`` cover it.

    ``holds`` are those in force when the chunk began (queries leave their items out); a kind whose
    items are third-party calls asks ``held_now`` before each call, so a hold placed while a chunk
    works stops the items the chunk already selected."""

    rule: RetentionRule
    cutoff: datetime
    holds: HeldSet
    now: datetime
    current_holds: Callable[[], HeldSet] | None = None  # the run's: re-read once a few seconds old
    run_id: str | None = None  # the run purging: an item that failed in it is not tried again by it

    def held_now(self, user_id: str | None, subject_key: str | None) -> bool:
        holds = self.current_holds() if self.current_holds is not None else self.holds
        return holds.for_subject(user_id, subject_key) is not None


@dataclass(frozen=True)
class ItemFailure:
    """One item a purge could not purge: named by its keyed reference, never by its id."""

    item: str
    error: str  # the error's class, never its message
    tries: int  # runs that tried it and failed, this one included
    parked: bool  # failed too often: tried again only after a pause


@dataclass
class PurgeStep:
    """What one bounded chunk of a purge did. ``done``: nothing is left for the rule at this cutoff
    but the items on record as failing (then ``held`` counts what holds kept back). ``bookmark``:
    the rule's own place (where a rule that walks its candidates stopped, the items that failed),
    saved by the engine with the cursor. ``broken``: the error class of a location failing as a
    whole (item after item): the rule stops until the next run."""

    examined: int = 0
    purged: int = 0
    skipped: int = 0
    held: int = 0
    done: bool = False
    bookmark: dict[str, Any] = field(default_factory=dict)
    failed: list[ItemFailure] = field(default_factory=list)
    failing: int = 0  # items on record as failing after the chunk, waiting for their next try
    broken: str | None = None


@dataclass(frozen=True)
class Chunk:
    """One bounded chunk of a rule's purge: its scope, the rule's bookmark, how many items it takes
    at most, the time left, and how an item is named in the bookmark and the reports."""

    scope: PurgeScope
    bookmark: dict[str, Any]
    limit: int
    time_left: TimeLeft
    ref: Callable[[str], str]  # an item's id → its keyed reference (no personal data)


@dataclass(frozen=True)
class Preview:
    """A dry run of one rule: how many items would go now, how many holds keep, the oldest one due."""

    due: int
    held: int
    oldest: datetime | None


@dataclass(frozen=True)
class Systems:
    """Everything a location may reach."""

    store: DocumentStore
    ledger: ConsentLedger
    payments: PaymentsGateway
    contacts: MarketingContacts
    archives: ArchiveStore
    request_records: RequestRecords
    catalog: CatalogRepository  # erasure withdraws every consent under the current policy version
    pepper: str  # keys the references a purge keeps of items (SUBJECT_HASH_PEPPER)
    clock: Clock = field(default_factory=SystemClock)
    cookie_max_age: timedelta = timedelta(days=395)  # a visitor's cookie decisions expire after this


class NotInRequests:
    """Export and erasure of a place of this service's own records that no data-subject request
    reaches (kept as proof, or purged by retention alone): listed first among a kind's bases."""

    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        return iter(())

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        return Outcome()  # not a step of any request (find: none)


class StoredLocation(ABC):
    kind: ClassVar[str]
    # True where items are counted before the first deletion, so counts stay right across a crash.
    counts_before_erasure: ClassVar[bool] = False
    # Items one purge chunk takes at most (a chunk also ends half-way through the run's lease): the run
    # saves its cursor after each chunk; a kind whose items are third-party calls takes fewer.
    purge_chunk: ClassVar[int] = 1000

    def __init__(self, declaration: Location, systems: Systems) -> None:
        self.declaration = declaration
        self.systems = systems

    @property
    def id(self) -> str:
        return self.declaration.id

    def held_items(self, subject: Subject) -> int | None:
        """How many items the subject has here, when known without asking a third party."""
        return None

    def affected_users(self, since: datetime, until: datetime) -> Iterator[str] | None:
        """The users with items here in the window, in user order (repeats allowed); None when this
        location cannot be searched by time."""
        return None

    @abstractmethod
    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        """The subject's items, streamed (never all held at once)."""

    @abstractmethod
    def erase(self, subject: Subject, found: int | None) -> Outcome:
        """Erase the subject's items; safe to repeat. ``found`` is the count taken before a first attempt."""

    def chunk(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> Chunk:
        """What ``purge`` was given, with the keyed references of the rule's items."""
        rule_id, pepper = scope.rule.id, self.systems.pepper
        return Chunk(scope, bookmark, limit, time_left, lambda item_id: keyed_hash(pepper, f"{rule_id}/{item_id}"))

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        """Purges up to ``limit`` items of ``scope.rule`` that are past the cutoff and not held, while
        there is time left. Safe to repeat and to resume after a crash: what is gone is skipped, a
        third party is asked before it is told, an item half done is finished."""
        raise NotImplementedError(f"locations of kind {self.kind} have no retention purge")

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        """What ``purge`` would do now (from where ``bookmark`` says it stopped), changing nothing and
        asking no third party."""
        raise NotImplementedError(f"locations of kind {self.kind} have no retention purge")

    def held_plan(self, subject: Subject, hold: Hold) -> PlanEntry:
        """What an erasure does while a legal hold covers the subject: nothing; the items are kept."""
        return PlanEntry(self.id, self.declaration.category, RETAIN, self.held_items(subject), hold.words())

    def plan(self, subject: Subject) -> PlanEntry:
        erasure = self.declaration.erasure
        items = self.held_items(subject)
        action: str = "pseudonymize" if erasure.strategy == RETAIN and erasure.pseudonymize else erasure.strategy
        if items == 0:
            action = "nothing-found"
        reason = erasure.legal_basis or "erasure"
        return PlanEntry(self.id, self.declaration.category, action, items, reason)


L = TypeVar("L", bound=type[StoredLocation])
KINDS: dict[str, type[StoredLocation]] = {}


def location_kind(kind: str) -> Callable[[L], L]:
    def register(cls: L) -> L:
        cls.kind = kind
        KINDS[kind] = cls
        return cls

    return register


def build_locations(inventory: Inventory, systems: Systems) -> dict[str, StoredLocation]:
    """Every declared location as its kind's class, in declaration order."""
    from functions.inventory import kinds  # noqa: F401 - registers every kind

    unknown = sorted({loc.kind for loc in inventory.locations} - set(KINDS))
    if unknown:
        raise ValueError(f"the inventory names kinds without a class in functions/inventory/kinds: {unknown}")
    return {loc.id: KINDS[loc.kind](loc, systems) for loc in inventory.locations}
