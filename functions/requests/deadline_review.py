"""The hourly review: closes stale unverified requests, finishes owed mails, deletes expired export
archives, and tells staff what is due, late or unconfirmed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.ports import Mailer, MailNotSent
from functions.inventory.ports import ArchiveStore
from functions.requests import notices
from functions.requests.lifecycle import MailStatus, Status
from functions.requests.parts import RequestParts
from functions.requests.request_record import DsrRequest

log = logging.getLogger("privacy.requests")

ACKNOWLEDGEMENT_WARNING = timedelta(days=2)
INTERRUPTED_MAIL_AFTER = timedelta(minutes=15)  # a send takes seconds; a claim older than this was cut off


@dataclass
class ReviewResult:
    near: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    acknowledgements_due: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    unconfirmed_mails: list[str] = field(default_factory=list)
    archives_deleted: list[str] = field(default_factory=list)


class DeadlineReview:
    def __init__(self, parts: RequestParts, mailer: Mailer, archives: ArchiveStore) -> None:
        self._parts = parts
        self._requests = parts.requests
        self._mailer = mailer
        self._archives = archives

    def run(self) -> ReviewResult:
        now = self._parts.clock.now()
        config = self._parts.config
        result = ReviewResult()
        for request in self._requests.open_requests():
            if request.status == Status.AWAITING_VERIFICATION:
                if now - request.received_at > timedelta(days=config.unverified_close_days):
                    self._requests.change(request.id, lambda r: self._close_unverified(r, now))
                    result.closed.append(request.id)
                continue
            if request.due_at < now:
                result.overdue.append(request.id)
            elif request.due_at - now <= config.warn_within:
                result.near.append(request.id)
            unacknowledged = request.acknowledge_by is not None and request.acknowledged_at is None
            if unacknowledged and request.acknowledge_by and request.acknowledge_by - now <= ACKNOWLEDGEMENT_WARNING:
                result.acknowledgements_due.append(request.id)
            self._finish_mails(request, result)
        for request in self._requests.with_outstanding_mail():
            self._finish_mails(request, result)
        result.archives_deleted = self._expire_archives(now)
        self._tell_staff(result)
        for request_id in result.overdue:
            log.warning("dsr overdue request_id=%s", request_id)
        return result

    def _finish_mails(self, request: DsrRequest, result: ReviewResult) -> None:
        outbox = self._parts.outbox
        if any(m.status == MailStatus.SENDING for m in request.outbox):
            request = outbox.give_up_on_interrupted(request.id, INTERRUPTED_MAIL_AFTER)
        if any(m.status == MailStatus.PENDING and m.attempts > 0 for m in request.outbox):
            request = outbox.deliver(request.id)
        if any(m.status == MailStatus.UNCONFIRMED for m in request.outbox):
            result.unconfirmed_mails.append(request.id)

    def _expire_archives(self, now: datetime) -> list[str]:
        """Export archives past their retention are deleted (Blob lifecycle rules do it too in Azure;
        this keeps the promise wherever the code runs, and records it on the request)."""
        retention = timedelta(days=self._parts.config.export_retention_days)
        expired = []
        for request in self._requests.archived_exports():
            completed = next((e.at for e in reversed(request.log) if e.action == "completed"), None)
            if request.archive_blob is None or completed is None or now - completed < retention:
                continue
            confirmation = self._archives.delete_archive(request.archive_blob)

            def forget(r: DsrRequest, reference: str = confirmation.reference) -> None:
                r.archive_blob = None
                r.note(now, "timer", "archive-deleted", reference)

            self._requests.change(request.id, forget)
            expired.append(request.id)
        return expired

    def _tell_staff(self, result: ReviewResult) -> None:
        staff = self._parts.config.staff_email
        if not staff or not (result.near or result.overdue or result.acknowledgements_due or result.unconfirmed_mails):
            return
        text = notices.staff_digest(result.overdue, result.near, result.acknowledgements_due, result.unconfirmed_mails)
        try:
            self._mailer.send(staff, text.subject, text.text, text.category)
        except MailNotSent:
            log.warning("dsr digest not sent (mail service); the next review tries again")

    @staticmethod
    def _close_unverified(request: DsrRequest, now: datetime) -> None:
        if request.status == Status.AWAITING_VERIFICATION:
            request.status = Status.CLOSED_UNVERIFIED
            request.verification_nonce = None
            request.note(now, "timer", "closed-unverified")
            request.forget_addresses_if_done()
