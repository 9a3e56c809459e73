"""A legal hold as it is stored in ``legal-holds``: what it covers, why, until when, who placed and
released it. It names a subject by ids only (a user id, the keyed hash of an address, a visitor id),
one request or one incident; never an address."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import PrivateAttr, computed_field

from core.models import StoredDocument, UtcDateTime
from functions.inventory.holds import Hold

HoldKind = Literal["subject", "request", "incident"]


class LegalHold(StoredDocument):
    id: str
    kind: HoldKind
    user_id: str | None = None
    subject_key: str | None = None
    visitor_id: str | None = None
    request_id: str | None = None
    incident_id: str | None = None
    reason: str
    ends_at: UtcDateTime | None = None
    placed_by: str
    placed_at: UtcDateTime
    released_by: str | None = None
    released_at: UtcDateTime | None = None
    release_reason: str | None = None
    # Done once the hold ended: its archives freed, the erasures it held back run again.
    followed_up: bool = False

    _etag: str | None = PrivateAttr(default=None)

    @classmethod
    def from_document(cls, document: dict[str, Any], etag: str | None) -> LegalHold:
        hold = cls.model_validate(document)
        hold._etag = etag
        return hold

    @property
    def etag(self) -> str | None:
        return self._etag

    @computed_field  # type: ignore[prop-decorator]  # stored: retention counts a hold's own time from it
    @property
    def ended_at(self) -> datetime | None:
        """When the hold stops (or stopped): its release, else its end date; None while open-ended."""
        return self.released_at or self.ends_at

    def in_force(self, now: datetime) -> bool:
        return self.released_at is None and (self.ends_at is None or now < self.ends_at)

    def status(self, now: datetime) -> Literal["in-force", "released", "ended"]:
        if self.released_at is not None:
            return "released"
        return "in-force" if self.in_force(now) else "ended"

    def as_hold(self) -> Hold:
        return Hold(
            id=self.id,
            reason=self.reason,
            ends_at=self.ends_at,
            user_id=self.user_id,
            subject_key=self.subject_key,
            visitor_id=self.visitor_id,
            request_id=self.request_id,
            incident_id=self.incident_id,
        )
