"""Legal holds in ``legal-holds``: placed once per identity (a repeated click finds the same hold),
changed with the etag loop, and read as the snapshot every purge and erasure consults."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from core.containers import LEGAL_HOLDS
from core.errors import StillChanging
from core.models import utc_text
from core.ports import Clock, DocumentChanged, DocumentConflict, DocumentStore
from functions.inventory.holds import HeldSet, Hold
from functions.retention.errors import HoldNotFound
from functions.retention.hold_record import LegalHold

MAX_CHANGE_ATTEMPTS = 10
MAX_SAME_HOLDS = 100  # holds ever placed with one target, reason and end date (released ones included)


def hold_id(identity: str, slot: int) -> str:
    """Deterministic: the same target, reason and end date give the same id, so two clicks (or a retried
    request) place one hold; a new hold like one released earlier takes the next slot."""
    return "hold-" + hashlib.sha256(f"{identity}|{slot}".encode()).hexdigest()[:24]


class LegalHoldRepository:
    """Also the inventory's ``LegalHolds`` port: the holds in force, for purges and erasures."""

    def __init__(self, store: DocumentStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def place(self, draft: LegalHold, identity: str) -> tuple[LegalHold, bool]:
        """Stores the hold; if the same one is already in force, returns that one (created False)."""
        for slot in range(MAX_SAME_HOLDS):
            hold = draft.model_copy(update={"id": hold_id(identity, slot)})
            try:
                saved = self._store.create(LEGAL_HOLDS, hold.to_document())
                return LegalHold.from_document(saved.body, saved.etag), True
            except DocumentConflict:
                existing = self.require(hold.id)
                if existing.in_force(self._clock.now()):
                    return existing, False
        raise StillChanging()

    def get(self, hold_id: str) -> LegalHold | None:
        found = self._store.read(LEGAL_HOLDS, hold_id, hold_id)
        return LegalHold.from_document(found.body, found.etag) if found else None

    def require(self, hold_id: str) -> LegalHold:
        hold = self.get(hold_id)
        if hold is None:
            raise HoldNotFound()
        return hold

    def change(self, hold_id: str, change: Callable[[LegalHold], None]) -> LegalHold:
        for _ in range(MAX_CHANGE_ATTEMPTS):
            hold = self.require(hold_id)
            change(hold)
            try:
                saved = self._store.replace(LEGAL_HOLDS, hold.to_document(), hold.etag or "")
            except DocumentChanged:
                continue
            return LegalHold.from_document(saved.body, saved.etag)
        raise StillChanging()

    def listed(self, in_force: bool | None) -> list[LegalHold]:
        """Every hold, newest first; ``in_force`` True or False keeps only those in force or not."""
        documents = self._store.query_across_partitions(LEGAL_HOLDS, "SELECT * FROM c ORDER BY c.placedAt DESC", {})
        now = self._clock.now()
        holds = [LegalHold.from_document(d, None) for d in documents]
        return [h for h in holds if in_force is None or h.in_force(now) == in_force]

    def to_follow_up(self) -> list[LegalHold]:
        """Holds that ended (released, or past their end date) whose ending was not acted on yet."""
        documents = self._store.query_across_partitions(
            LEGAL_HOLDS,
            "SELECT * FROM c WHERE c.followedUp = false AND c.endedAt < @now",
            {"@now": utc_text(self._clock.now())},
        )
        return [LegalHold.from_document(d, None) for d in documents]

    # ---- functions.inventory.ports.LegalHolds ------------------------------------------------

    def in_force(self) -> HeldSet:
        return HeldSet(tuple(hold.as_hold() for hold in self._open()))

    def ending_by(self, moment: datetime) -> list[Hold]:
        return [hold.as_hold() for hold in self._open() if hold.ends_at is not None and hold.ends_at < moment]

    def _open(self) -> list[LegalHold]:
        documents = self._store.query_across_partitions(
            LEGAL_HOLDS, "SELECT * FROM c WHERE NOT IS_STRING(c.releasedAt)", {}
        )
        now = self._clock.now()
        return [h for d in documents if (h := LegalHold.from_document(d, None)).in_force(now)]
