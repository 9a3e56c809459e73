"""A data-subject request as it is stored in ``dsr-requests``: its steps, its mails and its log.

Declared once: the stored document, the API views and the staff views all come from these fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, computed_field

from core.models import LogEntry, StoredDocument, UtcDateTime, VersionedDocument
from functions.inventory.subject import Subject
from functions.requests.lifecycle import OPEN_STATUSES, MailKind, MailStatus, RequestType, Status, StepStatus

CLOSED_UNCONFIRMED = "closed-unverified"
CLOSING_ACTIONS = frozenset({"completed", "denied", CLOSED_UNCONFIRMED})  # log actions that close a request


class Step(StoredDocument):
    name: str
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    started_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    confirmations: list[dict[str, str]] = Field(default_factory=list)
    error: str | None = None  # an exception type, never a message (it may hold personal data)
    # The queue message running the step: its own redelivery resumes the step, any other copy is dropped.
    claimed_by: str | None = None
    claimed_at: UtcDateTime | None = None
    held_by: str | None = None  # a legal hold kept this location's data: erased again when the hold ends


class OutgoingMail(StoredDocument):
    kind: MailKind
    status: MailStatus = MailStatus.PENDING
    attempts: int = 0
    queued_at: UtcDateTime
    claimed_at: UtcDateTime | None = None  # when it was handed to the mail service
    sent_at: UtcDateTime | None = None
    message_id: str | None = None
    error: str | None = None


class Decision(StoredDocument):
    by: str
    decision: Literal["approved", "denied"]
    at: UtcDateTime
    reason: str | None = None


class Extension(StoredDocument):
    by: str
    reason: str
    at: UtcDateTime
    previous_due_at: UtcDateTime


class DsrRequest(VersionedDocument):
    id: str
    type: RequestType
    status: Status
    jurisdiction: str
    subject_key: str  # keyed hash of the email: finds the person's requests without storing the email twice
    email: str | None  # in clear only while mail must still be sent; removed when the request closes
    parent_email: str | None = None  # an under-13 account's parent, until they have been told
    received_at: UtcDateTime
    due_at: UtcDateTime
    max_due_at: UtcDateTime  # the latest an extension may reach
    acknowledge_by: UtcDateTime | None = None
    acknowledged_at: UtcDateTime | None = None
    source: str  # website | dashboard | under-13
    on_behalf_of_child: bool = False
    user_id: str | None = None
    stripe_customer_ids: list[str] = Field(default_factory=list)
    verification_nonce: str | None = None
    verification_mails: int = 0  # sent in the current window (one link lifetime)
    verification_window_start: UtcDateTime | None = None
    verified_at: UtcDateTime | None = None
    decision: Decision | None = None
    extension: Extension | None = None
    archive_blob: str | None = None
    certificate: dict[str, Any] | None = None
    run: int = 0  # raised by every start and retry: step messages of an earlier run are dropped
    steps: list[Step] = Field(default_factory=list)
    outbox: list[OutgoingMail] = Field(default_factory=list)
    log: list[LogEntry] = Field(default_factory=list)

    @property
    def certificate_id(self) -> str | None:
        return str(self.certificate["certificateId"]) if self.certificate else None

    @property
    def export_ready(self) -> bool:
        return self.type == RequestType.ACCESS and self.archive_blob is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @computed_field  # type: ignore[prop-decorator]  # stored: the hourly review finds requests owing a mail
    @property
    def mail_outstanding(self) -> bool:
        return any(m.status in (MailStatus.PENDING, MailStatus.SENDING) for m in self.outbox)

    @computed_field  # type: ignore[prop-decorator]  # stored: retention counts a closed request's time from it
    @property
    def closed_at(self) -> datetime | None:
        """When the request closed (completed, denied, closed unconfirmed); None while it is open."""
        if self.is_open:
            return None
        return next((e.at for e in reversed(self.log) if e.action in CLOSING_ACTIONS), None)

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def next_pending_step(self) -> Step | None:
        return next((s for s in self.steps if s.status != StepStatus.DONE), None)

    def note(self, at: datetime, actor: str, action: str, detail: str = "") -> None:
        self.log.append(LogEntry(at=at, actor=actor, action=action, detail=detail))

    def mail(self, kind: MailKind) -> OutgoingMail | None:
        return next((m for m in self.outbox if m.kind == kind), None)

    def queue_mail(self, kind: MailKind, now: datetime) -> None:
        """Queues a mail of this kind once; queuing it again changes nothing."""
        if self.mail(kind) is None:
            self.outbox.append(OutgoingMail(kind=kind, queued_at=now))

    def close_unconfirmed(self, now: datetime) -> bool:
        """Closes a request nobody confirmed, forgetting its address and link; False if it was confirmed."""
        if self.status != Status.AWAITING_VERIFICATION:
            return False
        self.status = Status.CLOSED_UNVERIFIED
        self.verification_nonce = None
        self.note(now, "timer", CLOSED_UNCONFIRMED)
        self.forget_addresses_if_done()
        return True

    @computed_field  # type: ignore[prop-decorator]  # stored: a hold's end finds the erasures it held back
    @property
    def awaiting_holds(self) -> list[str]:
        return sorted({step.held_by for step in self.steps if step.held_by})

    def forget_addresses_if_done(self) -> None:
        """A closed request keeps no address once no mail of it is still to be sent and no legal hold
        holds back part of its erasure (the address is part of what is held, and finishing the
        erasure once the hold ends needs it)."""
        if not self.is_open and not self.mail_outstanding and not self.awaiting_holds:
            self.email = None
            self.parent_email = None

    def subject(self) -> Subject:
        return Subject(
            request_id=self.id,
            subject_key=self.subject_key,
            email=self.email,
            user_id=self.user_id,
            stripe_customer_ids=tuple(self.stripe_customer_ids),
        )
