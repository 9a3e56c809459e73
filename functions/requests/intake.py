"""How requests come in: from the privacy page (verified by a mailed link), from a signed-in user
(verified by the token), and from a product backend flagging an under-13 account."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.keyring import KeyRing
from core.ports import Mailer, MailNotSent
from core.pseudonyms import keyed_hash
from functions.inventory.declaration import Inventory
from functions.requests import notices
from functions.requests.deadlines import Calendar, deadlines
from functions.requests.errors import LinkAlreadyUsed, RequestNotFound, TooManyOpenRequests
from functions.requests.lifecycle import (
    DASHBOARD,
    DELIVER_STEP,
    RESOLVE_STEP,
    UNDER_13,
    WEBSITE,
    MailKind,
    RequestType,
    Status,
)
from functions.requests.links import LinkClaims, make_token, read_token
from functions.requests.parts import RequestParts
from functions.requests.request_record import DsrRequest, Step

log = logging.getLogger("privacy.requests")


@dataclass(frozen=True)
class Intake:
    type: RequestType
    email: str | None
    jurisdiction: str
    on_behalf_of_child: bool
    source: str  # website | dashboard | under-13
    user_id: str | None = None
    parent_email: str | None = None

    @property
    def verified(self) -> bool:
        """A user's token or a product's flag proves what the mailed link would."""
        return self.source != WEBSITE


class RequestIntake:
    def __init__(
        self, parts: RequestParts, mailer: Mailer, keys: KeyRing, pepper: str, inventory: Inventory, calendar: Calendar
    ) -> None:
        self._parts = parts
        self._requests = parts.requests
        self._mailer = mailer
        self._keys = keys
        self._pepper = pepper
        self._inventory = inventory
        self._calendar = calendar

    def submit_form(self, type_: RequestType, email: str, jurisdiction: str, on_behalf_of_child: bool) -> DsrRequest:
        """The privacy page's form: verified by the link mailed to the address."""
        return self.submit(Intake(type_, email, jurisdiction, on_behalf_of_child, WEBSITE))

    def submit_signed_in(self, user_id: str, email: str, type_: RequestType, jurisdiction: str) -> DsrRequest:
        """A signed-in user's request: the token proves who asks; receipt is confirmed by mail."""
        return self.submit(Intake(type_, email, jurisdiction, False, DASHBOARD, user_id=user_id))

    def flag_under_13(self, user_id: str, email: str | None, parent_email: str | None) -> DsrRequest:
        """A product flagged an account as under 13: the policy prohibits it, so it is erased at once."""
        intake = Intake(RequestType.ERASURE, email, "OTHER", True, UNDER_13, user_id=user_id, parent_email=parent_email)
        return self.submit(intake)

    def status(self, request_id: str) -> DsrRequest:
        """A request by the reference its mails carry: what the privacy page shows of it."""
        return self._requests.require(request_id)

    def requests_of(self, user_id: str) -> list[DsrRequest]:
        return self._requests.for_user(user_id)

    def certificate(self, request_id: str) -> dict[str, Any] | None:
        """The signed deletion certificate of a completed erasure, readable by anyone with its id."""
        request = self._requests.get(request_id)
        return request.certificate if request is not None else None

    def subject_key(self, intake: Intake) -> str:
        identity = intake.email or f"user:{intake.user_id}"
        return keyed_hash(self._pepper, identity)

    def submit(self, intake: Intake) -> DsrRequest:
        """Create a request, or join the open one of the same type for the same person."""
        now = self._parts.clock.now()
        subject_key = self.subject_key(intake)
        open_ = self._requests.open_for(subject_key)
        same = next((r for r in open_ if r.type == intake.type), None)
        if same is not None:
            joined = self._join(same, intake, now)
            log.info("dsr joined request_id=%s type=%s", joined.id, joined.type)
            return joined
        if len(open_) >= self._parts.config.max_open_per_subject:
            raise TooManyOpenRequests()
        request = self._new(intake, subject_key, now)
        if intake.verified:
            self._mark_verified(request, intake, now)
            request = self._start(self._requests.save(request))
        else:
            request.verification_nonce = secrets.token_urlsafe(16)
            self._count_mail(request, now)
            # The mail goes first: if the mail service refuses or is down, nothing is stored.
            self._send_verification(request, intake.email or "", now)
            request.acknowledged_at = now  # the verification mail says how and by when (CCPA § 7021(a))
            request = self._requests.save(request)
        log.info("dsr received request_id=%s type=%s status=%s", request.id, request.type, request.status)
        return request

    def verify(self, token: str) -> DsrRequest:
        now = self._parts.clock.now()
        claims = read_token(self._keys, token, now)

        def confirm(request: DsrRequest) -> None:
            if request.status != Status.AWAITING_VERIFICATION or request.verification_nonce != claims.nonce:
                raise LinkAlreadyUsed()
            self._mark_verified(request, None, now)

        try:
            request = self._requests.change(claims.request_id, confirm)
        except RequestNotFound:
            raise LinkAlreadyUsed() from None
        return self._start(request)

    def _new(self, intake: Intake, subject_key: str, now: datetime) -> DsrRequest:
        due = deadlines(intake.jurisdiction, now, self._calendar)
        locations = [
            loc.id
            for loc in self._inventory.locations
            if loc.findable and (intake.type == RequestType.ERASURE or loc.exported)
        ]
        request = DsrRequest(
            id=str(uuid.uuid4()),
            type=intake.type,
            status=Status.AWAITING_VERIFICATION,
            jurisdiction=intake.jurisdiction,
            subject_key=subject_key,
            email=intake.email,
            parent_email=intake.parent_email,
            received_at=now,
            due_at=due.due_at,
            max_due_at=due.extended_due_at,
            acknowledge_by=due.acknowledge_by,
            source=intake.source,
            on_behalf_of_child=intake.on_behalf_of_child,
            user_id=intake.user_id,
            steps=[Step(name=RESOLVE_STEP), *(Step(name=name) for name in locations), Step(name=DELIVER_STEP)],
        )
        request.note(now, intake.source, "received", f"type={intake.type} jurisdiction={intake.jurisdiction}")
        return request

    def _join(self, same: DsrRequest, intake: Intake, now: datetime) -> DsrRequest:
        if same.status == Status.AWAITING_VERIFICATION and intake.verified:
            # Upgrade the open request, so an unverified one filed by someone else cannot hold this one back.
            def upgrade(request: DsrRequest) -> None:
                if request.status == Status.AWAITING_VERIFICATION:
                    request.user_id = request.user_id or intake.user_id
                    request.source = intake.source
                    request.on_behalf_of_child = request.on_behalf_of_child or intake.on_behalf_of_child
                    request.parent_email = request.parent_email or intake.parent_email
                    self._mark_verified(request, intake, now)

            return self._start(self._requests.change(same.id, upgrade))
        if same.status == Status.AWAITING_VERIFICATION:
            return self._resend_verification(same, intake.email or "", now)
        if same.status == Status.IN_PROGRESS and all(step.attempts == 0 for step in same.steps):
            self._parts.dispatcher.send_next(same)  # its first message may have been lost; a copy is dropped
        return same

    def _resend_verification(self, same: DsrRequest, email: str, now: datetime) -> DsrRequest:
        """Joining resends the link, a few times per link lifetime at most: the form must not become a
        mail cannon, nor let a stranger lock the owner out for longer than that."""

        def take_slot(request: DsrRequest) -> None:
            if self._mails_in_window(request, now) >= self._parts.config.max_open_per_subject:
                raise TooManyOpenRequests()
            self._count_mail(request, now)

        request = self._requests.change(same.id, take_slot)
        try:
            self._send_verification(request, email, now)
        except MailNotSent:

            def give_back(r: DsrRequest) -> None:
                r.verification_mails = max(0, r.verification_mails - 1)

            self._requests.change(same.id, give_back)
            raise
        return request

    def _mark_verified(self, request: DsrRequest, intake: Intake | None, now: datetime) -> None:
        via = "email-link" if intake is None else ("token" if intake.source == DASHBOARD else "product-flag")
        request.verification_nonce = None
        request.verified_at = now
        needs_approval = (
            request.type == RequestType.ERASURE
            and self._parts.config.erasure_needs_approval
            and request.source != UNDER_13
        )
        request.status = Status.AWAITING_APPROVAL if needs_approval else Status.IN_PROGRESS
        if request.status == Status.IN_PROGRESS:
            request.run += 1
        if intake is not None and intake.source == DASHBOARD:
            request.queue_mail(MailKind.ACKNOWLEDGEMENT, now)  # no link was mailed: confirm receipt by mail
        if request.parent_email:
            request.queue_mail(MailKind.PARENT_NOTICE, now)
        request.note(now, "subject", "verified", via)

    def _start(self, request: DsrRequest) -> DsrRequest:
        if request.status == Status.IN_PROGRESS:
            self._parts.dispatcher.send_next(request)
        if request.outbox:
            request = self._parts.outbox.deliver(request.id)
        return request

    def _window_open(self, request: DsrRequest, now: datetime) -> bool:
        start = request.verification_window_start
        return start is not None and now - start < timedelta(hours=self._parts.config.verification_link_hours)

    def _mails_in_window(self, request: DsrRequest, now: datetime) -> int:
        return request.verification_mails if self._window_open(request, now) else 0

    def _count_mail(self, request: DsrRequest, now: datetime) -> None:
        if not self._window_open(request, now):
            request.verification_window_start, request.verification_mails = now, 0
        request.verification_mails += 1

    def _send_verification(self, request: DsrRequest, email: str, now: datetime) -> None:
        config = self._parts.config
        assert request.verification_nonce is not None
        expires = now + timedelta(hours=config.verification_link_hours)
        token = make_token(self._keys, LinkClaims(request.id, request.verification_nonce, expires))
        text = notices.verification(request, f"{config.public_api_url}/requests/verify?token={token}", config)
        self._mailer.send(email, text.subject, text.text, text.category)
