"""What privacy staff do with requests: find them, check an erasure's plan, approve, deny, extend, retry.

Every decision that owes the person a mail queues it in the same write (see outbox.py), so a double
click or a crash never mails twice; every change is etag-guarded, so two staff members pressing at
once get one decision and a clear refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.pseudonyms import keyed_hash
from functions.inventory.locations import PlanEntry, StoredLocation
from functions.inventory.ports import LegalHolds
from functions.inventory.subject import Subject
from functions.requests.errors import (
    AlreadyExtended,
    CannotDeny,
    ExtensionTooLate,
    NotAnErasure,
    NotAwaitingApproval,
    NothingToRetry,
    RequestClosed,
    StepRunning,
)
from functions.requests.lifecycle import DELIVER_STEP, MailKind, RequestType, Status, StepStatus
from functions.requests.parts import RequestParts
from functions.requests.repository import RequestFilter, StaffSearch
from functions.requests.request_record import Decision, DsrRequest, Extension
from functions.requests.resolve import Resolved, SubjectResolver

DENIABLE = (Status.AWAITING_VERIFICATION, Status.AWAITING_APPROVAL, Status.FAILED)
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class ErasurePlan:
    request: DsrRequest
    resolved: Resolved  # whom the address resolved to, for staff to check before approving
    entries: list[PlanEntry]


class RequestStaff:
    def __init__(
        self,
        parts: RequestParts,
        locations: dict[str, StoredLocation],
        resolver: SubjectResolver,
        pepper: str,
        holds: LegalHolds,
    ) -> None:
        self._parts = parts
        self._requests = parts.requests
        self._locations = locations
        self._resolver = resolver
        self._pepper = pepper
        self._holds = holds

    def find(
        self,
        status: Status | None,
        type_: RequestType | None,
        due_before: datetime | None,
        email: str | None,
        user_id: str | None,
        page_size: int,
        continuation: str | None,
    ) -> tuple[list[DsrRequest], str | None]:
        """The staff list's query, as its parameters name it."""
        return self.search(StaffSearch(status, type_, due_before, email, user_id), page_size, continuation)

    def get(self, request_id: str) -> DsrRequest:
        return self._requests.require(request_id)

    def search(
        self, search: StaffSearch, page_size: int, continuation: str | None
    ) -> tuple[list[DsrRequest], str | None]:
        """A page of requests, soonest due first; an address is looked up by its keyed hash, never stored."""
        where = RequestFilter(
            status=search.status,
            type=search.type,
            due_before=search.due_before,
            subject_key=keyed_hash(self._pepper, search.email) if search.email else None,
            user_id=search.user_id,
        )
        return self._requests.page(where, min(page_size, MAX_PAGE_SIZE), continuation)

    def approve(self, request_id: str, actor: str) -> DsrRequest:
        now = self._parts.clock.now()

        def approve(request: DsrRequest) -> None:
            if request.status != Status.AWAITING_APPROVAL:
                raise NotAwaitingApproval()
            request.status, request.run = Status.IN_PROGRESS, request.run + 1
            request.decision = Decision(by=actor, decision="approved", at=now)
            request.note(now, actor, "approved")

        request = self._requests.change(request_id, approve)
        self._parts.dispatcher.send_next(request)
        return request

    def deny(self, request_id: str, actor: str, reason: str) -> DsrRequest:
        """GDPR Art. 12(4): the person is told why, and of their right to complain."""
        now = self._parts.clock.now()

        def deny(request: DsrRequest) -> None:
            if request.status not in DENIABLE:
                raise CannotDeny()
            request.status = Status.DENIED
            request.decision = Decision(by=actor, decision="denied", at=now, reason=reason)
            request.verification_nonce = None
            request.queue_mail(MailKind.DENIED, now)
            request.note(now, actor, "denied")

        self._requests.change(request_id, deny)
        return self._parts.outbox.deliver(request_id)

    def extend(self, request_id: str, actor: str, reason: str) -> DsrRequest:
        """GDPR Art. 12(3): once, with reasons, and only while the first month has not run out."""
        now = self._parts.clock.now()

        def extend(request: DsrRequest) -> None:
            if not request.is_open:
                raise RequestClosed()
            if request.extension is not None:
                raise AlreadyExtended()
            if now > request.due_at:
                raise ExtensionTooLate()
            request.extension = Extension(by=actor, reason=reason, at=now, previous_due_at=request.due_at)
            request.due_at = request.max_due_at
            request.queue_mail(MailKind.EXTENDED, now)
            request.note(now, actor, "extended", request.due_at.isoformat())

        self._requests.change(request_id, extend)
        return self._parts.outbox.deliver(request_id)

    def retry(self, request_id: str, actor: str) -> DsrRequest:
        """Re-runs the unfinished steps under a new run number: any step message still queued from the
        earlier run is dropped by the worker, so no step ever runs twice at once."""
        now = self._parts.clock.now()
        lease = self._parts.config.step_lease

        def retry(request: DsrRequest) -> None:
            if request.status not in (Status.FAILED, Status.IN_PROGRESS) or request.next_pending_step() is None:
                raise NothingToRetry()
            for step in request.steps:
                if step.status == StepStatus.RUNNING and step.claimed_at and now - step.claimed_at < lease:
                    raise StepRunning()
            for step in request.steps:
                if step.status in (StepStatus.RUNNING, StepStatus.FAILED):
                    step.status, step.claimed_by, step.claimed_at = StepStatus.PENDING, None, None
            request.status, request.run = Status.IN_PROGRESS, request.run + 1
            request.note(now, actor, "retried", f"run={request.run}")

        request = self._requests.change(request_id, retry)
        self._parts.dispatcher.send_next(request)
        return request

    def erasure_plan(self, request_id: str) -> ErasurePlan:
        """What an erasure will do in each location, read-only: nothing is stored, no third party told."""
        request = self._requests.require(request_id)
        if request.type != RequestType.ERASURE:
            raise NotAnErasure()
        resolved = self._resolver.resolve(request)
        holds = self._holds.in_force()
        subject = Subject(
            request_id=request.id,
            subject_key=request.subject_key,
            email=request.email,
            user_id=resolved.user_id,
            stripe_customer_ids=resolved.stripe_customer_ids,
            held_request_ids=holds.request_ids,
        )
        hold = holds.for_subject(subject.user_id, subject.subject_key)
        entries = [
            location.plan(subject) if hold is None else location.held_plan(subject, hold)
            for location in self._locations.values()
            if location.declaration.findable
        ]
        return ErasurePlan(request, resolved, entries)

    def resume_after_hold(self, hold_id: str, actor: str) -> list[str]:
        """A hold ended: every erasure it held back runs the held locations again (a new run, so any
        message still queued from before is dropped), and issues its certificate anew. An erasure with
        a step running right now is left for the next follow-up; pressing it again resumes nothing twice."""
        resumed = []
        now = self._parts.clock.now()
        lease = self._parts.config.step_lease
        for waiting in self._requests.awaiting_hold(hold_id):

            def resume(request: DsrRequest) -> None:
                held = [step for step in request.steps if step.held_by == hold_id]
                running = any(
                    s.status == StepStatus.RUNNING and s.claimed_at and now - s.claimed_at < lease
                    for s in request.steps
                )
                if not held or running:  # a step still runs: the next follow-up resumes it
                    return
                for step in [*held, request.step(DELIVER_STEP)]:
                    step.status, step.held_by, step.claimed_by, step.claimed_at = StepStatus.PENDING, None, None, None
                    step.counts, step.confirmations, step.finished_at = {}, [], None
                request.certificate = None
                request.status, request.run = Status.IN_PROGRESS, request.run + 1
                request.note(now, actor, "resumed-after-hold", hold_id)

            request = self._requests.change(waiting.id, resume)
            if request.status == Status.IN_PROGRESS:
                self._parts.dispatcher.send_next(request)
                resumed.append(request.id)
        return resumed
