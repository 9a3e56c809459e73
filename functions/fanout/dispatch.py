"""The fan-out: one queue message per batch of at most 1,000 recipients, each batch sent once.

A batch is composed from the next recipients after the previous batch (so memory never grows with
their number), stored under an id fixed by its mailing and place, then claimed by the message that
sends it. A replayed or duplicated message finds the batch and changes nothing; the claiming
message's own redelivery after a crash goes on from where it stopped. A batch left ``sending`` by
a crash is settled by SendGrid's delivery events: any event for it means SendGrid took it; none
after the grace period, while events arrive for other batches, means it did not, and it goes once
more; with no events at all it is left ``unconfirmed`` for staff rather than risk a second mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from core.ports import Clock, MailUnavailable, WorkQueue
from functions.fanout.batch_record import Batch, batch_id
from functions.fanout.batches import BatchRepository
from functions.fanout.lifecycle import BATCH_SIZE, DISPATCH_QUEUE, BatchStatus
from functions.fanout.mailing import Mailing
from functions.fanout.ports import BulkMail, BulkMailer, BulkRecipient, BulkRejected, BulkThrottled

log = logging.getLogger("privacy.fanout")
MAX_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True)
class FanOutConfig:
    # A batch handed to SendGrid by a worker that then died: SendGrid reports "processed" within
    # seconds of accepting it. With no event after this long, it was not accepted and goes again.
    unconfirmed_grace: timedelta = timedelta(minutes=10)
    event_window: timedelta = timedelta(minutes=5)  # signed events older or newer than this are refused


@dataclass(frozen=True)
class DispatchMessage:
    kind: str
    owner: str  # what the mailing belongs to (an incident id); its kind reads it
    mailing_id: str
    seq: int
    after: str  # the last recipient id of the previous batch ("" before the first)
    on_behalf_of: str = ""  # a later look at a batch, for the message that claimed it

    def to_message(self) -> dict[str, Any]:
        message = {
            "kind": self.kind,
            "owner": self.owner,
            "mailingId": self.mailing_id,
            "seq": self.seq,
            "after": self.after,
        }
        return {**message, "onBehalfOf": self.on_behalf_of} if self.on_behalf_of else message

    @classmethod
    def parse(cls, data: Any) -> DispatchMessage | None:
        try:
            return cls(
                str(data["kind"]),
                str(data["owner"]),
                str(data["mailingId"]),
                int(data["seq"]),
                str(data["after"]),
                str(data.get("onBehalfOf", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


class _Taken(Exception):
    """Another message holds this batch."""


class FanOut:
    def __init__(
        self,
        batches: BatchRepository,
        mailings: Mapping[str, Mailing],
        mailer: BulkMailer,
        queue: WorkQueue,
        clock: Clock,
        config: FanOutConfig,
        events_arriving: Callable[[], bool],
    ) -> None:
        self._batches = batches
        self._mailings = mailings
        self._mailer = mailer
        self._queue = queue
        self._clock = clock
        self._config = config
        self._events_arriving = events_arriving

    def start(self, kind: str, owner: str, mailing_id: str) -> None:
        self._queue.send(DISPATCH_QUEUE, DispatchMessage(kind, owner, mailing_id, 0, "").to_message())

    def run(self, message: DispatchMessage, message_id: str) -> None:
        message_id = message.on_behalf_of or message_id
        mailing = self._mailings.get(message.kind)
        if mailing is None or not mailing.sending(message.owner, message.mailing_id):
            log.info("mail batch dropped mailing_id=%s seq=%d (not sending)", message.mailing_id, message.seq)
            return
        batch = self._batch(mailing, message)
        if batch is None:
            mailing.finished(message.owner, message.mailing_id, self._batches.summaries(message.mailing_id))
            log.info("mailing sent mailing_id=%s", message.mailing_id)
            return
        if batch.status in (BatchStatus.SENT, BatchStatus.REJECTED, BatchStatus.UNCONFIRMED):
            if batch.claimed_by == message_id:  # its own redelivery after a crash: the next one may be missing
                self._next(message, batch)
            return
        if batch.status == BatchStatus.SENDING and not self._settle_interrupted(batch, message, message_id):
            return
        self._send(mailing, batch, message, message_id)

    def _batch(self, mailing: Mailing, message: DispatchMessage) -> Batch | None:
        """The stored batch for this place, composing and storing it the first time; None past the end."""
        bid = batch_id(message.mailing_id, message.seq)
        stored = self._batches.get(message.mailing_id, bid)
        if stored is not None:
            return stored
        people = mailing.addressees_after(message.owner, message.mailing_id, message.after, BATCH_SIZE)
        if not people:
            return None
        batch = Batch(
            id=bid,
            mailing_id=message.mailing_id,
            kind=message.kind,
            seq=message.seq,
            recipients=people,
            size=len(people),
            last_recipient_id=people[-1].id,
            recorded_at=self._clock.now(),
        )
        return self._batches.create(batch) or self._batches.get(message.mailing_id, bid)

    def _settle_interrupted(self, batch: Batch, message: DispatchMessage, message_id: str) -> bool:
        """A batch left ``sending``: True when it must go (again), False when it is settled or must wait."""
        now = self._clock.now()
        claimed = batch.claimed_at or now
        if batch.events_seen:
            self._mark(batch, BatchStatus.SENT, message_id)
            self._next(message, batch)
            return False
        if now - claimed < self._config.unconfirmed_grace:
            later = replace(message, on_behalf_of=batch.claimed_by or message_id)
            self._queue.send(DISPATCH_QUEUE, later.to_message(), delay=self._config.unconfirmed_grace - (now - claimed))
            return False
        if not self._events_arriving():
            log.warning("mail batch unconfirmed batch_id=%s: no delivery events to settle it", batch.id)
            self._mark(batch, BatchStatus.UNCONFIRMED, message_id)
            self._next(message, batch)
            return False
        log.warning("mail batch resent batch_id=%s: interrupted, and SendGrid reported nothing for it", batch.id)

        def reopen(b: Batch) -> None:
            if b.status == BatchStatus.SENDING and not b.events_seen:
                b.status = BatchStatus.RECORDED

        self._batches.change(batch.mailing_id, batch.id, reopen)
        return True

    def _send(self, mailing: Mailing, batch: Batch, message: DispatchMessage, message_id: str) -> None:
        now = self._clock.now()

        def claim(b: Batch) -> None:
            if b.status != BatchStatus.RECORDED:
                raise _Taken()
            b.status, b.attempts, b.claimed_by, b.claimed_at = BatchStatus.SENDING, b.attempts + 1, message_id, now

        try:
            batch = self._batches.change(batch.mailing_id, batch.id, claim)
        except _Taken:
            return
        letter = mailing.letter(message.owner, message.mailing_id)
        custom_args = {**letter.custom_args, "mailing_id": batch.mailing_id, "batch_id": batch.id}
        recipients = [BulkRecipient(p.email, mailing.unsubscribe_url(p)) for p in batch.recipients]
        bulk = BulkMail(
            recipients,
            letter.subject,
            letter.text,
            letter.html,
            letter.category,
            custom_args,
            letter.transactional,
            letter.unsubscribe_group,
        )
        try:
            provider_id = self._mailer.send_batch(bulk)
        except BulkThrottled as throttled:
            self._retry(batch, message, timedelta(seconds=throttled.retry_after_seconds))
            return
        except MailUnavailable:
            self._retry(batch, message, min(timedelta(seconds=5 * 2**batch.attempts), MAX_BACKOFF))
            return
        except BulkRejected as rejected:
            log.warning("mail batch refused batch_id=%s status=%d", batch.id, rejected.status)
            self._mark(batch, BatchStatus.REJECTED, message_id, error=rejected.detail)
            self._next(message, batch)
            return
        self._mark(batch, BatchStatus.SENT, message_id, provider_id=provider_id)
        log.info("mail batch sent batch_id=%s recipients=%d", batch.id, len(batch.recipients))
        self._next(message, batch)

    def _retry(self, batch: Batch, message: DispatchMessage, after: timedelta) -> None:
        def release(b: Batch) -> None:
            if b.status == BatchStatus.SENDING:
                b.status = BatchStatus.RECORDED

        self._batches.change(batch.mailing_id, batch.id, release)
        self._queue.send(DISPATCH_QUEUE, replace(message, on_behalf_of="").to_message(), delay=after)
        log.info("mail batch retried later batch_id=%s after_s=%d", batch.id, after.total_seconds())

    def _mark(
        self,
        batch: Batch,
        status: BatchStatus,
        message_id: str,
        *,
        provider_id: str | None = None,
        error: str | None = None,
    ) -> None:
        now = self._clock.now()

        def mark(b: Batch) -> None:
            b.status, b.claimed_by = status, message_id
            if status == BatchStatus.SENT:
                b.sent_at, b.message_id = b.sent_at or now, provider_id or b.message_id
            b.error = error

        self._batches.change(batch.mailing_id, batch.id, mark)

    def _next(self, message: DispatchMessage, batch: Batch) -> None:
        following = DispatchMessage(
            message.kind, message.owner, batch.mailing_id, batch.seq + 1, batch.last_recipient_id
        )
        self._queue.send(DISPATCH_QUEUE, following.to_message())
