"""The queue worker: runs one step of a request per message, at most one step of a request at a time.

A step is claimed in the request document (etag-guarded) by the message that runs it. Then:
- a message of an earlier run (a staff retry since) is dropped;
- the redelivery of the claiming message after a crash resumes the step, which every location
  tolerates (deleting what is gone is a no-op; third parties are asked before they are told);
- any other copy of a message (queues deliver at least once) is dropped while the claim holds, and
  finds the step done afterwards;
- a failure on the final attempt marks the step and the request ``failed``, with the error's class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from core.errors import DomainError, StillChanging
from core.ports import MailUnavailable
from functions.inventory.declaration import Inventory
from functions.inventory.locations import Outcome, StoredLocation
from functions.inventory.ports import ArchiveStore, LegalHolds
from functions.proof.errors import ProofKeyUnavailable
from functions.proof.signer import DocumentSigner
from functions.requests import certificate
from functions.requests.dispatch import StepMessage, steps_of
from functions.requests.export_readme import ExportedFile, export_readme
from functions.requests.lifecycle import (
    DELIVER_STEP,
    EXPORT_MESSAGE,
    RESOLVE_STEP,
    MailKind,
    MailStatus,
    RequestType,
    Status,
    StepStatus,
)
from functions.requests.parts import RequestParts
from functions.requests.request_record import DsrRequest
from functions.requests.resolve import SubjectResolver

log = logging.getLogger("privacy.requests")

# Domain errors that a later attempt may overcome; any other one fails the step at once.
TRANSIENT = (MailUnavailable, StillChanging, ProofKeyUnavailable)


class _NotThisMessage(Exception):
    """The step is not (or no longer) this message's to run."""


class StepWorker:
    def __init__(
        self,
        parts: RequestParts,
        locations: dict[str, StoredLocation],
        resolver: SubjectResolver,
        archives: ArchiveStore,
        signer: DocumentSigner,
        inventory: Inventory,
        holds: LegalHolds,
    ) -> None:
        self._parts = parts
        self._requests = parts.requests
        self._locations = locations
        self._resolver = resolver
        self._archives = archives
        self._signer = signer
        self._inventory = inventory
        self._holds = holds

    def run(self, message: StepMessage, message_id: str, final_attempt: bool) -> None:
        try:
            request = self._claim(message, message_id)
        except _NotThisMessage as dropped:
            log.info("dsr step dropped request_id=%s step=%s reason=%s", message.request_id, message.step, dropped)
            return
        if request is None:  # finished by this message before a crash: only the next message was missing
            self._parts.dispatcher.send_next(self._requests.require(message.request_id))
            return
        try:
            request = self._perform(request, message.step)
        except Exception as exc:
            self._record_failure(message, exc, final_attempt or self._is_permanent(exc))
            if not self._is_permanent(exc):
                raise  # the host retries the message, then moves it to the poison queue
            return
        self._parts.dispatcher.send_next(request)

    @staticmethod
    def _is_permanent(exc: Exception) -> bool:
        return isinstance(exc, DomainError) and not isinstance(exc, TRANSIENT)

    def _claim(self, message: StepMessage, message_id: str) -> DsrRequest | None:
        """Claims the message's steps; None when this very message already finished them."""
        now = self._parts.clock.now()
        lease = self._parts.config.step_lease
        finished_by_me = False

        def claim(request: DsrRequest) -> None:
            nonlocal finished_by_me
            if request.status != Status.IN_PROGRESS:
                raise _NotThisMessage("request-not-running")
            if message.run != request.run:
                raise _NotThisMessage("earlier-run")
            try:
                steps = [request.step(name) for name in steps_of(request, message.step)]
            except KeyError:
                raise _NotThisMessage("unknown-step") from None
            if all(step.status == StepStatus.DONE for step in steps):
                if all(step.claimed_by == message_id for step in steps):
                    finished_by_me = True
                    return
                raise _NotThisMessage("already-done")
            for step in steps:
                held = step.status == StepStatus.RUNNING and step.claimed_by != message_id
                if held and step.claimed_at is not None and now - step.claimed_at < lease:
                    raise _NotThisMessage("claimed-by-another-message")
            for step in steps:
                if step.status != StepStatus.DONE:
                    step.status, step.attempts = StepStatus.RUNNING, step.attempts + 1
                    step.claimed_by, step.claimed_at = message_id, now
                    step.started_at = step.started_at or now

        try:
            request = self._requests.change(message.request_id, claim)
        except DomainError:
            raise _NotThisMessage("no-such-request") from None
        return None if finished_by_me else request

    def _perform(self, request: DsrRequest, step: str) -> DsrRequest:
        if step == RESOLVE_STEP:
            return self._resolve(request)
        if step == EXPORT_MESSAGE:
            return self._export(request)
        if step == DELIVER_STEP:
            return self._deliver(request)
        return self._erase(request, self._locations[step])

    def _finish(
        self, request_id: str, name: str, outcome: Outcome, also: Callable[[DsrRequest], None] | None = None
    ) -> DsrRequest:
        now = self._parts.clock.now()

        def finish(request: DsrRequest) -> None:
            step = request.step(name)
            step.status, step.error, step.finished_at = StepStatus.DONE, None, now
            step.counts = {**step.counts, **outcome.counts}
            step.confirmations = outcome.confirmations
            if also is not None:
                also(request)

        request = self._requests.change(request_id, finish)
        log.info("dsr step done request_id=%s step=%s", request_id, name)
        return request

    def _resolve(self, request: DsrRequest) -> DsrRequest:
        resolved = self._resolver.resolve(request)

        def keep(r: DsrRequest) -> None:
            r.user_id, r.stripe_customer_ids = resolved.user_id, list(resolved.stripe_customer_ids)

        counts = {"profiles": int(resolved.user_id is not None), "stripeCustomers": len(resolved.stripe_customer_ids)}
        return self._finish(request.id, RESOLVE_STEP, Outcome(counts=counts), keep)

    def _erase(self, request: DsrRequest, location: StoredLocation) -> DsrRequest:
        step = request.step(location.id)
        holds = self._holds.in_force()
        subject = replace(request.subject(), held_request_ids=holds.request_ids)
        hold = holds.for_subject(subject.user_id, subject.subject_key)
        if hold is not None:
            # GDPR Art. 17(3)(e): nothing of the person is erased while a hold covers them. The step
            # waits for the hold: when it ends, the erasure of this location is run again.
            kept = location.held_items(subject)
            counts = {"retainedUnderHold": kept} if kept is not None else {}
            outcome = Outcome(counts, [{"system": "legal-hold", "action": "retained", "reference": hold.id}])

            def wait(r: DsrRequest) -> None:
                r.step(location.id).held_by = hold.id

            return self._finish(request.id, location.id, outcome, wait)
        if location.counts_before_erasure and "found" not in step.counts:
            found = location.held_items(subject)

            def count(r: DsrRequest) -> None:
                r.step(location.id).counts["found"] = found or 0

            request = self._requests.change(request.id, count)
        outcome = location.erase(subject, request.step(location.id).counts.get("found"))
        return self._finish(request.id, location.id, outcome)

    def _export(self, request: DsrRequest) -> DsrRequest:
        """Every exported location into one archive; a retry writes it again from the start."""
        subject = request.subject()
        holds = self._holds.in_force()
        held = holds.covers_request(request.id, request.subject_key, request.user_id)
        writer = self._archives.open_archive(request.subject_key, request.id, held=held)
        files = []
        for name in steps_of(request, EXPORT_MESSAGE):
            location = self._locations[name]
            files.append(
                ExportedFile(location.declaration, writer.add_json_array(f"{name}.json", location.export(subject)))
            )
        now = self._parts.clock.now()
        writer.add_text("README.txt", export_readme(request, files, self._inventory, now))
        about = {"requestId": request.id, "type": request.type.value, "jurisdiction": request.jurisdiction}
        writer.add_json(
            "request.json", {**about, "receivedAt": request.received_at.isoformat(), "exportedAt": now.isoformat()}
        )
        blob = writer.close()

        def done(r: DsrRequest) -> None:
            r.archive_blob = blob
            for exported in files:
                step = r.step(exported.location.id)
                step.status, step.error, step.finished_at = StepStatus.DONE, None, now
                step.counts = {"exported": exported.items}

        return self._requests.change(request.id, done)

    def _deliver(self, request: DsrRequest) -> DsrRequest:
        now = self._parts.clock.now()
        if request.type == RequestType.ERASURE and request.certificate is None:
            issued = certificate.issue(request, self._inventory, now, self._signer)

            def certify(r: DsrRequest) -> None:
                r.certificate = r.certificate or issued  # a retry keeps the first certificate

            request = self._requests.change(request.id, certify)
        if request.email:
            request = self._requests.change(request.id, lambda r: r.queue_mail(MailKind.RESULT, now))
            request = self._parts.outbox.deliver(request.id)
            result = request.mail(MailKind.RESULT)
            if result is not None and result.status == MailStatus.PENDING:
                raise MailUnavailable()  # retried with the step; nothing was sent
        sent = int(any(m.kind == MailKind.RESULT and m.status == MailStatus.SENT for m in request.outbox))

        def complete(r: DsrRequest) -> None:
            r.status = Status.COMPLETED
            r.note(now, "worker", "completed")
            r.forget_addresses_if_done()

        return self._finish(request.id, DELIVER_STEP, Outcome(counts={"mailsSent": sent}), complete)

    def _record_failure(self, message: StepMessage, exc: Exception, final: bool) -> None:
        now = self._parts.clock.now()

        def record(request: DsrRequest) -> None:
            for name in steps_of(request, message.step):
                step = request.step(name)
                if step.status == StepStatus.DONE:
                    continue
                step.error = type(exc).__name__
                if final:
                    step.status = StepStatus.FAILED
            if final:
                request.status = Status.FAILED
                request.note(now, "worker", "step-failed", message.step)

        try:
            self._requests.change(message.request_id, record)
        except Exception as failure:  # the original error matters more; this one is only logged
            log.warning(
                "dsr step failure not recorded request_id=%s error=%s", message.request_id, type(failure).__name__
            )
        log.warning(
            "dsr step failed request_id=%s step=%s error=%s final=%s",
            message.request_id,
            message.step,
            type(exc).__name__,
            final,
        )
