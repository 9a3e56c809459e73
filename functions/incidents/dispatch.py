"""The fan-out: one queue message per batch of at most 1,000 recipients, each batch sent once.

A batch is composed from the next recipients after the previous batch (so memory never grows with
their number), stored under an id fixed by its notice and place, then claimed by the message that
sends it. A replayed or duplicated message finds the batch and changes nothing; the claiming
message's own redelivery after a crash goes on from where it stopped. A batch left ``sending`` by
a crash is settled by SendGrid's delivery events: any event for it means SendGrid took it; none
after the grace period, while events are otherwise arriving, means it did not, and it goes again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from core.ports import Clock, MailUnavailable, WorkQueue
from functions.incidents.config import IncidentConfig
from functions.incidents.incident_record import Incident, Notice
from functions.incidents.lifecycle import BATCH_SIZE, DISPATCH_QUEUE, BatchStatus, NoticeStatus
from functions.incidents.notice_mail import CATEGORY, render
from functions.incidents.notice_record import NOTICE_RECORD_TYPE, sent_notice_claims
from functions.incidents.ports import BulkMail, BulkMailer, BulkRejected, BulkThrottled
from functions.incidents.recipient_record import Batch, BatchRecipient, batch_id
from functions.incidents.repository import IncidentRepository
from functions.proof.signer import DocumentSigner

log = logging.getLogger("privacy.incidents")
MAX_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True)
class DispatchMessage:
    incident_id: str
    notice_id: str
    seq: int
    after: str  # the last recipient id of the previous batch ("" before the first)
    on_behalf_of: str = ""  # a later look at a batch, for the message that claimed it

    def to_message(self) -> dict[str, Any]:
        message = {"incidentId": self.incident_id, "noticeId": self.notice_id, "seq": self.seq, "after": self.after}
        return {**message, "onBehalfOf": self.on_behalf_of} if self.on_behalf_of else message

    @classmethod
    def parse(cls, data: Any) -> DispatchMessage | None:
        try:
            return cls(
                str(data["incidentId"]),
                str(data["noticeId"]),
                int(data["seq"]),
                str(data["after"]),
                str(data.get("onBehalfOf", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


class _Taken(Exception):
    """Another message holds this batch."""


class NoticeDispatch:
    def __init__(
        self,
        incidents: IncidentRepository,
        mailer: BulkMailer,
        queue: WorkQueue,
        clock: Clock,
        config: IncidentConfig,
        category_names: dict[str, str],
        webhook_alive: Callable[[], bool],
        signer: DocumentSigner,
    ) -> None:
        self._incidents = incidents
        self._mailer = mailer
        self._queue = queue
        self._clock = clock
        self._config = config
        self._category_names = category_names
        self._webhook_alive = webhook_alive  # () -> bool: have delivery events arrived lately?
        self._signer = signer  # signs the record of a notice sent

    def run(self, message: DispatchMessage, message_id: str) -> None:
        message_id = message.on_behalf_of or message_id
        incident = self._incidents.require(message.incident_id)
        notice = incident.notice(message.notice_id)
        if notice is None or notice.status != NoticeStatus.DISPATCHING:
            log.info("incident batch dropped notice_id=%s seq=%d (not sending)", message.notice_id, message.seq)
            return
        batch = self._batch(incident, notice, message)
        if batch is None:
            self._finish(incident.id, notice.id)
            return
        if batch.status in (BatchStatus.SENT, BatchStatus.REJECTED, BatchStatus.UNCONFIRMED):
            if batch.claimed_by == message_id:  # its own redelivery after a crash: the next one may be missing
                self._next(batch)
            return
        if batch.status == BatchStatus.SENDING and not self._settle_interrupted(batch, message, message_id):
            return
        self._send(incident, notice, batch, message, message_id)

    def _batch(self, incident: Incident, notice: Notice, message: DispatchMessage) -> Batch | None:
        """The stored batch for this place, composing and storing it the first time; None past the end."""
        bid = batch_id(notice.id, message.seq)
        stored = self._incidents.batch(notice.id, bid)
        if stored is not None:
            return stored
        recipients = self._incidents.recipients_after(incident.id, message.after, BATCH_SIZE)
        if not recipients:
            return None
        batch = Batch(
            id=bid,
            notice_id=notice.id,
            incident_id=incident.id,
            seq=message.seq,
            recipients=[BatchRecipient(id=r.id, email=r.email) for r in recipients],
            size=len(recipients),
            last_recipient_id=recipients[-1].id,
        )
        return self._incidents.create_batch(batch) or self._incidents.batch(notice.id, bid)

    def _settle_interrupted(self, batch: Batch, message: DispatchMessage, message_id: str) -> bool:
        """A batch left ``sending``: True when it must go (again), False when it is settled or must wait."""
        now = self._clock.now()
        claimed = batch.claimed_at or now
        if batch.events_seen:
            self._mark(batch, BatchStatus.SENT, message_id)
            self._next(batch)
            return False
        if now - claimed < self._config.unconfirmed_grace:
            later = replace(message, on_behalf_of=batch.claimed_by or message_id)
            self._queue.send(DISPATCH_QUEUE, later.to_message(), delay=self._config.unconfirmed_grace - (now - claimed))
            return False
        if not self._webhook_alive():
            log.warning("incident batch unconfirmed batch_id=%s: no delivery events to settle it", batch.id)
            self._mark(batch, BatchStatus.UNCONFIRMED, message_id)
            self._next(batch)
            return False
        log.warning("incident batch resent batch_id=%s: interrupted, and SendGrid reported nothing for it", batch.id)

        def reopen(b: Batch) -> None:
            if b.status == BatchStatus.SENDING and not b.events_seen:
                b.status = BatchStatus.RECORDED

        self._incidents.change_batch(batch.notice_id, batch.id, reopen)
        return True

    def _send(
        self, incident: Incident, notice: Notice, batch: Batch, message: DispatchMessage, message_id: str
    ) -> None:
        now = self._clock.now()

        def claim(b: Batch) -> None:
            if b.status != BatchStatus.RECORDED:
                raise _Taken()
            b.status, b.attempts, b.claimed_by, b.claimed_at = BatchStatus.SENDING, b.attempts + 1, message_id, now

        try:
            batch = self._incidents.change_batch(batch.notice_id, batch.id, claim)
        except _Taken:
            return
        mail = render(incident, notice, self._category_names)
        custom_args = {"incident_id": incident.id, "notice_id": notice.id, "batch_id": batch.id}
        bulk = BulkMail([r.email for r in batch.recipients], mail.subject, mail.text, mail.html, CATEGORY, custom_args)
        try:
            provider_id = self._mailer.send_batch(bulk)
        except BulkThrottled as throttled:
            self._retry(batch, message, timedelta(seconds=throttled.retry_after_seconds))
            return
        except MailUnavailable:
            self._retry(batch, message, min(timedelta(seconds=5 * 2**batch.attempts), MAX_BACKOFF))
            return
        except BulkRejected as rejected:
            log.warning("incident batch refused batch_id=%s status=%d", batch.id, rejected.status)
            self._mark(batch, BatchStatus.REJECTED, message_id, error=rejected.detail)
            self._next(batch)
            return
        self._mark(batch, BatchStatus.SENT, message_id, provider_id=provider_id)
        log.info("incident batch sent batch_id=%s recipients=%d", batch.id, len(batch.recipients))
        self._next(batch)

    def _retry(self, batch: Batch, message: DispatchMessage, after: timedelta) -> None:
        def release(b: Batch) -> None:
            if b.status == BatchStatus.SENDING:
                b.status = BatchStatus.RECORDED

        self._incidents.change_batch(batch.notice_id, batch.id, release)
        self._queue.send(DISPATCH_QUEUE, message.to_message(), delay=after)
        log.info("incident batch retried later batch_id=%s after_s=%d", batch.id, after.total_seconds())

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

        self._incidents.change_batch(batch.notice_id, batch.id, mark)

    def _next(self, batch: Batch) -> None:
        following = DispatchMessage(batch.incident_id, batch.notice_id, batch.seq + 1, batch.last_recipient_id)
        self._queue.send(DISPATCH_QUEUE, following.to_message())

    def _finish(self, incident_id: str, notice_id: str) -> None:
        batches = self._incidents.batch_summaries(notice_id)
        now = self._clock.now()
        incident = self._incidents.require(incident_id)
        notice = incident.notice(notice_id)
        if notice is None or notice.status != NoticeStatus.DISPATCHING:
            return
        sent = sum(b.size for b in batches if b.status == BatchStatus.SENT)
        rejected = sum(1 for b in batches if b.status == BatchStatus.REJECTED)
        claims = sent_notice_claims(incident, notice, self._category_names, (len(batches), sent, rejected), now)
        record, _ = self._signer.sign(NOTICE_RECORD_TYPE, claims)

        def finish(incident: Incident) -> None:
            notice = incident.notice(notice_id)
            if notice is None or notice.status != NoticeStatus.DISPATCHING:
                return
            notice.status, notice.sent_at = NoticeStatus.SENT, now
            notice.batches, notice.recipients, notice.rejected_batches = len(batches), sent, rejected
            notice.record = record
            incident.note(now, "dispatch", "notice-sent", f"{notice_id} batches={len(batches)}")

        self._incidents.change(incident_id, finish)
        log.info("incident notice sent notice_id=%s batches=%d", notice_id, len(batches))
