"""The mails a request owes the person, sent at most once each, whatever crashes or double clicks do.

A mail is queued on the request together with the change that calls for it (a denial and its
notice are one write). Sending claims it first (``sending``, etag-guarded), so two senders never
both send; a mail service that is down leaves it ``pending`` for the next attempt; a crash after
the claim leaves it ``sending``, which the hourly review turns into ``unconfirmed`` for staff to
check, rather than risk mailing twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from core.ports import Clock, Mailer, MailRejected, MailUnavailable
from functions.inventory.declaration import Inventory
from functions.inventory.ports import ArchiveStore
from functions.requests import notices
from functions.requests.config import RequestConfig
from functions.requests.lifecycle import MailKind, MailStatus, RequestType
from functions.requests.notices import MailText
from functions.requests.repository import RequestRepository
from functions.requests.request_record import DsrRequest, OutgoingMail

log = logging.getLogger("privacy.requests")


class RequestMails:
    """The text of each kind of mail, for one request."""

    def __init__(self, config: RequestConfig, inventory: Inventory, archives: ArchiveStore) -> None:
        self._config = config
        self._inventory = inventory
        self._archives = archives

    def compose(self, request: DsrRequest, kind: MailKind) -> MailText:
        if kind == MailKind.ACKNOWLEDGEMENT:
            return notices.acknowledgement(request, self._config)
        if kind == MailKind.DENIED:
            return notices.denied(request)
        if kind == MailKind.EXTENDED:
            return notices.extended(request)
        if kind == MailKind.PARENT_NOTICE:
            return notices.parent_notice(request)
        if request.type == RequestType.ACCESS and request.archive_blob:
            link = self._archives.share_link(request.archive_blob, timedelta(hours=self._config.export_link_hours))
            return notices.access_ready(request, link, self._config)
        return notices.erasure_done(request, self._inventory, self._config)


class MailOutbox:
    def __init__(self, requests: RequestRepository, mailer: Mailer, mails: RequestMails, clock: Clock) -> None:
        self._requests = requests
        self._mailer = mailer
        self._mails = mails
        self._clock = clock

    def deliver(self, request_id: str) -> DsrRequest:
        """Sends every pending mail of the request once; returns the request as it now stands."""
        request = self._requests.require(request_id)
        for kind in [m.kind for m in request.outbox if m.status == MailStatus.PENDING]:
            request = self._send(request_id, kind)
        if not request.is_open and (request.email or request.parent_email):
            request = self._requests.change(request_id, DsrRequest.forget_addresses_if_done)
        return request

    def _send(self, request_id: str, kind: MailKind) -> DsrRequest:
        claimed = False

        def claim(request: DsrRequest) -> None:
            nonlocal claimed
            mail = request.mail(kind)
            claimed = mail is not None and mail.status == MailStatus.PENDING
            if mail is not None and claimed:
                mail.status, mail.attempts, mail.claimed_at = MailStatus.SENDING, mail.attempts + 1, self._clock.now()

        request = self._requests.change(request_id, claim)
        if not claimed:
            return request  # someone else is sending it, or it is done
        address = request.parent_email if kind == MailKind.PARENT_NOTICE else request.email
        if address is None:
            return self._settle(request_id, kind, MailStatus.REFUSED, error="NoAddress")
        text = self._mails.compose(request, kind)
        try:
            message_id = self._mailer.send(address, text.subject, text.text, text.category)
        except MailUnavailable as exc:
            log.warning("dsr mail not sent request_id=%s kind=%s (mail service unavailable)", request_id, kind)
            return self._settle(request_id, kind, MailStatus.PENDING, error=type(exc).__name__)
        except MailRejected as exc:
            log.warning("dsr mail refused request_id=%s kind=%s", request_id, kind)
            return self._settle(request_id, kind, MailStatus.REFUSED, error=type(exc).__name__)
        log.info("dsr mail sent request_id=%s kind=%s", request_id, kind)
        return self._settle(request_id, kind, MailStatus.SENT, message_id=message_id)

    def _settle(
        self,
        request_id: str,
        kind: MailKind,
        status: MailStatus,
        *,
        message_id: str | None = None,
        error: str | None = None,
    ) -> DsrRequest:
        now = self._clock.now()

        def settle(request: DsrRequest) -> None:
            mail: OutgoingMail | None = request.mail(kind)
            if mail is None:
                return
            mail.status, mail.error = status, error
            if status == MailStatus.SENT:
                mail.message_id, mail.sent_at = message_id, now
                if kind == MailKind.ACKNOWLEDGEMENT:
                    request.acknowledged_at = now
            request.note(now, "mailer", f"mail-{status.value}", kind.value)

        return self._requests.change(request_id, settle)

    def give_up_on_interrupted(self, request_id: str, older_than: timedelta) -> DsrRequest:
        """A mail left ``sending`` by a crash becomes ``unconfirmed``: never sent again automatically."""
        cutoff = self._clock.now() - older_than

        def mark(request: DsrRequest) -> None:
            for mail in request.outbox:
                if mail.status == MailStatus.SENDING and (mail.claimed_at or mail.queued_at) < cutoff:
                    mail.status = MailStatus.UNCONFIRMED
                    request.note(self._clock.now(), "timer", "mail-unconfirmed", mail.kind.value)
            request.forget_addresses_if_done()

        return self._requests.change(request_id, mark)
