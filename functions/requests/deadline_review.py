"""The hourly review: finishes owed mails and tells staff what is due, late or unconfirmed, and which
legal holds end soon. (Unconfirmed requests and export archives past their time are the retention
purge's: ``functions/retention``.)"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from core.ports import Mailer, MailNotSent
from functions.inventory.holds import Hold
from functions.inventory.ports import LegalHolds
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
    unconfirmed_mails: list[str] = field(default_factory=list)
    holds_ending: list[Hold] = field(default_factory=list)


class DeadlineReview:
    def __init__(self, parts: RequestParts, mailer: Mailer, holds: LegalHolds, hold_warning: timedelta) -> None:
        self._parts = parts
        self._requests = parts.requests
        self._mailer = mailer
        self._holds = holds
        self._hold_warning = hold_warning

    def run(self) -> ReviewResult:
        now = self._parts.clock.now()
        config = self._parts.config
        result = ReviewResult()
        for request in self._requests.open_requests():
            if request.status == Status.AWAITING_VERIFICATION:
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
        result.holds_ending = self._holds.ending_by(now + self._hold_warning)
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

    def _tell_staff(self, result: ReviewResult) -> None:
        staff = self._parts.config.staff_email
        news = (result.near, result.overdue, result.acknowledgements_due, result.unconfirmed_mails, result.holds_ending)
        if not staff or not any(news):
            return
        text = notices.staff_digest(
            result.overdue, result.near, result.acknowledgements_due, result.unconfirmed_mails, result.holds_ending
        )
        try:
            self._mailer.send(staff, text.subject, text.text, text.category)
        except MailNotSent:
            log.warning("dsr digest not sent (mail service); the next review tries again")
