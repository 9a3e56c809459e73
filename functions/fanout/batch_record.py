"""A batch of one mailing, as stored in ``mail-batches`` (one partition per mailing)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, computed_field

from core.models import StoredDocument, UtcDateTime, VersionedDocument
from functions.fanout.lifecycle import BatchStatus, DeliveryStatus


class Delivery(StoredDocument):
    status: DeliveryStatus
    at: UtcDateTime
    detail: str | None = None  # the bounce's SMTP status, the drop's reason: never an address


class Addressee(StoredDocument):
    id: str  # keyed hash of the address: events name recipients by it
    email: str


class Batch(VersionedDocument):
    """One SendGrid request: at most 1,000 recipients, each in a personalization of its own. Stored
    before it is sent, under an id fixed by its mailing and place, so a replay finds it."""

    id: str  # <mailing id>-<seq>
    mailing_id: str
    kind: str  # whose mailing: incident | notice ...
    seq: int
    status: BatchStatus = BatchStatus.RECORDED
    recipients: list[Addressee]
    size: int  # len(recipients), so reports need not read the addresses
    last_recipient_id: str  # the next batch starts after it
    attempts: int = 0
    claimed_by: str | None = None  # the queue message that sends it: only its redelivery goes on from here
    claimed_at: UtcDateTime | None = None
    sent_at: UtcDateTime | None = None
    message_id: str | None = None
    error: str | None = None  # SendGrid's answer to a refused batch, without addresses
    events_seen: bool = False  # SendGrid reported at least one event for it
    last_event_at: UtcDateTime | None = None
    # What SendGrid reported, per recipient id; and the ids of the events already applied, so a
    # replayed event changes nothing (kept in the same document, so both change in one write).
    deliveries: dict[str, Delivery] = Field(default_factory=dict)
    event_ids: list[str] = Field(default_factory=list)
    recorded_at: UtcDateTime | None = None  # when it was composed and stored

    @computed_field  # type: ignore[prop-decorator]  # stored: retention counts a batch's time from it
    @property
    def last_activity_at(self) -> datetime | None:
        """The latest of its recording, sending and SendGrid's last report on it."""
        moments = [m for m in (self.recorded_at, self.claimed_at, self.sent_at, self.last_event_at) if m is not None]
        return max(moments, default=None)


class BatchSummary(StoredDocument):
    """A batch without its recipients: what reports count."""

    id: str
    seq: int
    status: BatchStatus
    size: int
    events_seen: bool = False


def batch_id(mailing_id: str, seq: int) -> str:
    return f"{mailing_id}-{seq:06d}"
