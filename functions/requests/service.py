"""The life of a data-subject request: intake, verification, staff decisions, steps, delivery.

Requests run through the ``dsr-steps`` queue, one message per step. Each step is recorded in the
request document before and after it runs, so a worker that dies is picked up by the queue's retry
and continues where it stopped: a step already done is skipped, and the step that was running is
repeated, which every connector tolerates (see connectors.py).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import problems
from core.containers import DSR_REQUESTS, PROFILES
from core.keyring import KeyRing
from core.ports import Clock, DocumentChanged, DocumentStore, WorkQueue
from core.pseudonyms import keyed_hash
from functions.requests import certificate as certificates
from functions.requests import connectors
from functions.requests.connectors import Connectors, PlanEntry
from functions.requests.deadlines import deadlines
from functions.requests.inventory import COSMOS, Inventory
from functions.requests.links import LinkClaims, make_token, read_token
from functions.requests.model import (
    ACCESS,
    AWAITING_APPROVAL,
    AWAITING_VERIFICATION,
    CLOSED_UNVERIFIED,
    COMPLETED,
    DELIVER_STEP,
    DENIED,
    DONE,
    ERASURE,
    FAILED,
    IN_PROGRESS,
    OPEN_STATUSES,
    RESOLVE_STEP,
    RUNNING,
    STEPS_QUEUE,
    DsrRequest,
    Intake,
    Step,
)
from functions.requests.ports import ArchiveStore, Mailer

log = logging.getLogger("privacy.requests")

EXPORT_MESSAGE = "export"


@dataclass(frozen=True)
class RequestConfig:
    public_api_url: str
    verification_link_hours: int = 24
    export_link_hours: int = 72
    export_retention_days: int = 7
    unverified_close_days: int = 14
    max_open_per_subject: int = 3
    staff_email: str | None = None
    erasure_needs_approval: bool = True


class RequestService:
    def __init__(
        self,
        store: DocumentStore,
        connectors_: Connectors,
        archives: ArchiveStore,
        mailer: Mailer,
        queue: WorkQueue,
        keys: KeyRing,
        clock: Clock,
        pepper: str,
        inventory: Inventory,
        config: RequestConfig,
    ) -> None:
        self._store = store
        self._connectors = connectors_
        self._archives = archives
        self._mailer = mailer
        self._queue = queue
        self._keys = keys
        self._clock = clock
        self._pepper = pepper
        self._inventory = inventory
        self._config = config

    # ---- storage -------------------------------------------------------------------------------

    def get(self, request_id: str) -> DsrRequest | None:
        found = self._store.read(DSR_REQUESTS, request_id, request_id)
        return DsrRequest.from_document(found.body, found.etag) if found else None

    def require(self, request_id: str) -> DsrRequest:
        request = self.get(request_id)
        if request is None:
            raise problems.not_found("No such request.")
        return request

    def _save(self, request: DsrRequest) -> None:
        if request.etag is None:
            saved = self._store.create(DSR_REQUESTS, request.to_document())
        else:
            saved = self._store.replace(DSR_REQUESTS, request.to_document(), request.etag)
        request.etag = saved.etag

    def _change(self, request_id: str, change: Callable[[DsrRequest], None]) -> DsrRequest:
        """Read-modify-write with the etag; a concurrent change is re-read and the change re-applied."""
        for _ in range(10):
            request = self.require(request_id)
            change(request)
            try:
                self._save(request)
                return request
            except DocumentChanged:
                continue
        raise problems.service_unavailable("request-busy", "Request busy", "Try again.")

    def open_requests(self, subject_key: str) -> list[DsrRequest]:
        statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
        documents = self._store.query_across_partitions(
            DSR_REQUESTS,
            f"SELECT * FROM c WHERE c.subjectKey = @key AND c.status IN ({statuses})",  # noqa: S608 - constants
            {"@key": subject_key},
        )
        return [DsrRequest.from_document(d) for d in documents]

    def find_for_user(self, user_id: str) -> list[DsrRequest]:
        documents = self._store.query_across_partitions(
            DSR_REQUESTS, "SELECT * FROM c WHERE c.userId = @user", {"@user": user_id}
        )
        return sorted((DsrRequest.from_document(d) for d in documents), key=lambda r: r.received_at)

    def find(self, status: str | None, type_: str | None, due_before: datetime | None) -> list[DsrRequest]:
        clauses, parameters = ["1 = 1"], {}
        if status:
            clauses.append("c.status = @status")
            parameters["@status"] = status
        if type_:
            clauses.append("c.type = @type")
            parameters["@type"] = type_
        sql = f"SELECT * FROM c WHERE {' AND '.join(clauses)}"  # noqa: S608 - fixed clauses, values are parameters
        documents = self._store.query_across_partitions(DSR_REQUESTS, sql, parameters)
        requests = [DsrRequest.from_document(d) for d in documents]
        if due_before is not None:
            requests = [r for r in requests if datetime.fromisoformat(r.due_at) <= due_before]
        return sorted(requests, key=lambda r: r.due_at)

    # ---- intake --------------------------------------------------------------------------------

    def submit(self, intake: Intake) -> DsrRequest:
        """Create a request, or join the open one of the same type for the same person."""
        now = self._clock.now()
        subject_key = keyed_hash(self._pepper, intake.email)
        open_ = self.open_requests(subject_key)
        same = next((r for r in open_ if r.type == intake.type), None)
        too_many = problems.Problem(
            429, "too-many-requests", "Too many requests", "Wait until an open request is answered.",
            headers={"Retry-After": "86400"},
        )  # fmt: skip
        verified = intake.user_id is not None or intake.source == "under-13"
        if same is not None:
            if same.status == AWAITING_VERIFICATION and verified:
                # A token or a product flag proves what the mail link would: upgrade the open request,
                # so an unverified one filed by someone else cannot hold this one back.
                def upgrade(r: DsrRequest) -> None:
                    if r.status == AWAITING_VERIFICATION:
                        r.user_id = r.user_id or intake.user_id
                        r.source = intake.source
                        r.on_behalf_of_child = r.on_behalf_of_child or intake.on_behalf_of_child
                        self._mark_verified(r, now, via="token" if intake.source != "under-13" else "product-flag")

                same = self._change(same.id, upgrade)
                self._after_verification(same)
            elif same.status == AWAITING_VERIFICATION:
                # Joining resends the link, but only a few times per link lifetime: the form must not
                # become a mail cannon, nor let a stranger lock the owner out for longer than that.
                if self._mails_in_window(same, now) >= self._config.max_open_per_subject:
                    raise too_many
                same = self._change(same.id, lambda r: self._count_mail(r, now))
                self._send_verification(same, intake.email, now)
            elif same.status == IN_PROGRESS and all(step.attempts == 0 for step in same.steps):
                self._after_verification(same)  # its first message may have been lost: queue it again
            log.info("dsr joined request_id=%s type=%s", same.id, same.type)
            return same
        if len(open_) >= self._config.max_open_per_subject:
            raise too_many
        due = deadlines(intake.jurisdiction, now)
        request = DsrRequest(
            id=str(uuid.uuid4()),
            type=intake.type,
            status=AWAITING_VERIFICATION,
            jurisdiction=intake.jurisdiction,
            subject_key=subject_key,
            email=intake.email,
            received_at=now.isoformat(),
            due_at=due.due_at.isoformat(),
            max_due_at=due.extended_due_at.isoformat() if due.extended_due_at else due.due_at.isoformat(),
            acknowledge_by=due.acknowledge_by.isoformat() if due.acknowledge_by else None,
            source=intake.source,
            on_behalf_of_child=intake.on_behalf_of_child,
            user_id=intake.user_id,
            steps=self._steps_for(intake.type),
        )
        request.note(now, intake.source, "received", f"type={intake.type} jurisdiction={intake.jurisdiction}")
        if verified:
            self._mark_verified(request, now, via="token" if intake.source != "under-13" else "product-flag")
            self._save(request)
            self._after_verification(request)
        else:
            request.verification_nonce = secrets.token_urlsafe(16)
            self._count_mail(request, now)
            self._save(request)
            self._send_verification(request, intake.email, now)
        log.info("dsr received request_id=%s type=%s status=%s", request.id, request.type, request.status)
        return request

    def _window_open(self, request: DsrRequest, now: datetime) -> bool:
        start = request.verification_window_start
        window = timedelta(hours=self._config.verification_link_hours)
        return start is not None and now - datetime.fromisoformat(start) < window

    def _mails_in_window(self, request: DsrRequest, now: datetime) -> int:
        return request.verification_mails if self._window_open(request, now) else 0

    def _count_mail(self, request: DsrRequest, now: datetime) -> None:
        if not self._window_open(request, now):
            request.verification_window_start, request.verification_mails = now.isoformat(), 0
        request.verification_mails += 1

    def _steps_for(self, type_: str) -> list[Step]:
        locations = [
            loc.id for loc in self._inventory.locations if type_ == ERASURE or (type_ == ACCESS and loc.exported)
        ]
        return [Step(RESOLVE_STEP), *(Step(name) for name in locations), Step(DELIVER_STEP)]

    def _send_verification(self, request: DsrRequest, email: str, now: datetime) -> None:
        expires = now + timedelta(hours=self._config.verification_link_hours)
        assert request.verification_nonce is not None
        token = make_token(self._keys, LinkClaims(request.id, request.verification_nonce, expires))
        link = f"{self._config.public_api_url}/requests/verify?token={token}"
        what = "a copy of your personal data" if request.type == ACCESS else "the erasure of your personal data"
        self._mailer.send(
            email,
            "Confirm your privacy request",
            f"We received a request for {what}.\n\nTo confirm that it was you, open this link within "
            f"{self._config.verification_link_hours} hours:\n\n{link}\n\n"
            "If you did not ask for this, ignore this message; nothing will happen.",
            "dsr-verification",
        )

    def verify(self, token: str) -> DsrRequest:
        now = self._clock.now()
        claims = read_token(self._keys, token, now)
        used = problems.conflict("link-used", "Link already used", "This link was already used.")

        def confirm(request: DsrRequest) -> None:
            if request.status != AWAITING_VERIFICATION or request.verification_nonce != claims.nonce:
                raise used
            self._mark_verified(request, now, via="email-link")

        try:
            request = self._change(claims.request_id, confirm)
        except problems.Problem as problem:
            if problem.status == 404:
                raise used from None
            raise
        self._after_verification(request)
        return request

    def _mark_verified(self, request: DsrRequest, now: datetime, via: str) -> None:
        request.verification_nonce = None
        request.verified_at = now.isoformat()
        needs_approval = (
            request.type == ERASURE and self._config.erasure_needs_approval and request.source != "under-13"
        )
        request.status = AWAITING_APPROVAL if needs_approval else IN_PROGRESS
        request.note(now, "subject", "verified", via)

    def _after_verification(self, request: DsrRequest) -> None:
        if request.status == IN_PROGRESS:
            self._enqueue(request.id, RESOLVE_STEP)

    def _enqueue(self, request_id: str, step: str) -> None:
        self._queue.send(STEPS_QUEUE, {"requestId": request_id, "step": step})

    # ---- staff ---------------------------------------------------------------------------------

    def approve(self, request_id: str, actor: str) -> DsrRequest:
        def change(request: DsrRequest) -> None:
            if request.status != AWAITING_APPROVAL:
                raise problems.conflict("not-awaiting-approval", "Not awaiting approval", "Nothing to approve.")
            request.status = IN_PROGRESS
            request.decision = {"by": actor, "decision": "approved", "at": self._clock.now().isoformat()}
            request.note(self._clock.now(), actor, "approved")

        request = self._change(request_id, change)
        self._enqueue(request.id, RESOLVE_STEP)
        return request

    def deny(self, request_id: str, actor: str, reason: str) -> DsrRequest:
        deniable = (AWAITING_VERIFICATION, AWAITING_APPROVAL, FAILED)
        current = self.require(request_id)
        if current.status not in deniable:
            raise problems.conflict("cannot-deny", "Cannot deny", "Only requests not yet running can be denied.")
        if current.email:  # Art. 12(4): the reasons for not acting, and the right to complain; sent first,
            # so that a mail failure leaves the request as it was and the denial can be repeated
            self._mailer.send(
                current.email,
                "Your privacy request",
                f"We cannot act on your request {current.id}.\n\nReason: {reason}\n\n"
                "You may lodge a complaint with a supervisory authority and seek a judicial remedy.",
                "dsr-denied",
            )

        def change(request: DsrRequest) -> None:
            if request.status not in deniable:
                raise problems.conflict("cannot-deny", "Cannot deny", "Only requests not yet running can be denied.")
            request.status = DENIED
            now = self._clock.now().isoformat()
            request.decision = {"by": actor, "decision": "denied", "reason": reason, "at": now}
            request.note(self._clock.now(), actor, "denied")
            request.email = None

        return self._change(request_id, change)

    def extend(self, request_id: str, actor: str, reason: str) -> DsrRequest:
        current = self.require(request_id)
        if current.status not in OPEN_STATUSES:
            raise problems.conflict("not-open", "Request closed", "Only open requests can be extended.")
        if current.extension is not None:
            raise problems.conflict("already-extended", "Already extended", "A request is extended once.")
        if current.email:  # the notice goes out before the extension is recorded (see deny)
            self._mailer.send(
                current.email,
                "Your privacy request will take longer",
                f"We need more time to answer your request {current.id}.\n\nReason: {reason}\n\n"
                f"We will answer by {current.max_due_at[:10]}.",
                "dsr-extended",
            )

        def change(request: DsrRequest) -> None:
            if request.extension is not None:
                raise problems.conflict("already-extended", "Already extended", "A request is extended once.")
            request.extension = {"by": actor, "reason": reason, "at": self._clock.now().isoformat(),
                                 "previousDueAt": request.due_at}  # fmt: skip
            request.due_at = request.max_due_at
            request.note(self._clock.now(), actor, "extended", request.due_at)

        return self._change(request_id, change)

    def retry(self, request_id: str, actor: str) -> DsrRequest:
        def change(request: DsrRequest) -> None:
            if request.status not in (FAILED, IN_PROGRESS):
                raise problems.conflict("nothing-to-retry", "Nothing to retry", "Only running or failed requests.")
            if request.status == IN_PROGRESS and any(step.status == RUNNING for step in request.steps):
                # Its message is still out; a second one would run the same step twice at once.
                raise problems.conflict("step-running", "Step running", "A step is running; retry once it fails.")
            request.status = IN_PROGRESS
            request.note(self._clock.now(), actor, "retried")

        request = self._change(request_id, change)
        pending = request.next_pending_step()
        if pending is not None:
            self._enqueue(request.id, self._message_for(request, pending.name))
        return request

    def erasure_plan(self, request_id: str) -> list[PlanEntry]:
        request = self.require(request_id)
        if request.type != ERASURE:
            raise problems.conflict("not-erasure", "Not an erasure", "Plans exist for erasure requests only.")
        if request.user_id is None and request.email:
            self._resolve(request)  # read-only lookups; nothing is stored
        return [connectors.plan(self._connectors, loc, request) for loc in self._inventory.locations]

    # ---- processing ----------------------------------------------------------------------------

    def _message_for(self, request: DsrRequest, step: str) -> str:
        if request.type == ACCESS and step not in (RESOLVE_STEP, DELIVER_STEP):
            return EXPORT_MESSAGE
        return step

    def run(self, request_id: str, step_name: str, final_attempt: bool) -> None:
        request = self.get(request_id)
        if request is None or request.status not in (IN_PROGRESS, FAILED):
            log.info("dsr step skipped request_id=%s step=%s (not running)", request_id, step_name)
            return
        names = [s.name for s in request.steps if s.name not in (RESOLVE_STEP, DELIVER_STEP)]
        running = names if step_name == EXPORT_MESSAGE else [step_name]
        if all(request.step(n).status == DONE for n in running):
            self._continue(request)
            return
        now = self._clock.now()
        for name in running:
            step = request.step(name)
            step.status, step.attempts = RUNNING, step.attempts + 1
            step.started_at = step.started_at or now.isoformat()
        self._save(request)
        try:
            if step_name == RESOLVE_STEP:
                self._resolve(request)
                self._finish(request, RESOLVE_STEP, connectors.Outcome(counts={
                    "profiles": int(request.user_id is not None),
                    "stripeCustomers": len(request.stripe_customer_ids)}))  # fmt: skip
            elif step_name == EXPORT_MESSAGE:
                self._export(request)
            elif step_name == DELIVER_STEP:
                self._deliver(request)
            else:
                location = self._inventory.location(step_name)
                step = request.step(step_name)
                if "found" not in step.counts and location.kind == COSMOS:
                    step.counts["found"] = connectors.count_items(self._connectors, location, request)
                    self._save(request)
                found = step.counts.get("found")
                outcome = connectors.erase(self._connectors, location, request, request.email, found)
                self._finish(request, step_name, outcome)
        except Exception as exc:
            for name in running:
                request.step(name).error = type(exc).__name__
            if final_attempt:
                request.status = FAILED
                request.note(self._clock.now(), "worker", "step-failed", step_name)
            self._save_quietly(request)
            log.warning("dsr step failed request_id=%s step=%s error=%s", request_id, step_name, type(exc).__name__)
            raise
        self._continue(request)

    def _save_quietly(self, request: DsrRequest) -> None:
        try:
            self._save(request)
        except DocumentChanged:
            log.warning("dsr step failure not recorded request_id=%s (changed meanwhile)", request.id)

    def _finish(self, request: DsrRequest, name: str, outcome: connectors.Outcome) -> None:
        step = request.step(name)
        step.status, step.error = DONE, None
        step.finished_at = self._clock.now().isoformat()
        step.counts, step.confirmations = outcome.counts, outcome.confirmations
        self._save(request)
        log.info("dsr step done request_id=%s step=%s", request.id, name)

    def _continue(self, request: DsrRequest) -> None:
        pending = request.next_pending_step()
        if pending is not None:
            self._enqueue(request.id, self._message_for(request, pending.name))

    def _resolve(self, request: DsrRequest) -> None:
        """Who the request is about: the product's user id and the Stripe customers."""
        if request.user_id is None:
            found = self._store.query_across_partitions(
                PROFILES, "SELECT c.userId FROM c WHERE c.emailHash = @key", {"@key": request.subject_key}
            )
            request.user_id = next((str(d["userId"]) for d in found), None)
        customers = set(request.stripe_customer_ids)
        if request.user_id is not None:
            profile = self._store.read(PROFILES, request.user_id, request.user_id)
            if profile is not None and profile.body.get("stripeCustomerId"):
                customers.add(str(profile.body["stripeCustomerId"]))
        if request.email:
            customers.update(self._connectors.payments.find_customer_ids(request.email))
        request.stripe_customer_ids = sorted(customers)

    def _export(self, request: DsrRequest) -> None:
        """All exported locations into one archive; on a retry it is written again from the start."""
        writer = self._archives.open_archive(request.subject_key, request.id)
        summary = [f"Your personal data, as held on {self._clock.now():%Y-%m-%d}", ""]
        for step in request.steps:
            if step.name in (RESOLVE_STEP, DELIVER_STEP):
                continue
            location = self._inventory.location(step.name)
            items = connectors.export_items(self._connectors, location, request, request.email or "")
            count = writer.add_json_array(f"{location.id}.json", items)
            step.status, step.error, step.counts = DONE, None, {"exported": count}
            step.finished_at = self._clock.now().isoformat()
            summary.append(f"- {location.id}.json: {count} item(s) of {self._inventory.categories[location.category]}")
        summary += ["", "Each file is JSON. Payment card numbers are never stored by us; Stripe holds them."]
        writer.add_text("README.txt", "\n".join(summary) + "\n")
        about = {"requestId": request.id, "type": request.type, "receivedAt": request.received_at}
        writer.add_json("request.json", {**about, "jurisdiction": request.jurisdiction})
        request.archive_blob = writer.close()
        self._save(request)

    def _deliver(self, request: DsrRequest) -> None:
        now = self._clock.now()
        if request.type == ERASURE and request.certificate is None:
            request.certificate = certificates.issue(request, self._inventory, now.isoformat(), self._keys)
            self._save(request)  # a retry reuses this certificate instead of signing another
        email = request.email
        already_sent = any(entry["action"] == "result-mailed" for entry in request.log)
        if email and not already_sent:
            subject, text = self._result_mail(request)
            message_id = self._mailer.send(email, subject, text, f"dsr-{request.type}-done")
            # Recorded at once, on its own: a retry after this point never mails twice.
            request = self._change(request.id, lambda r: r.note(now, "worker", "result-mailed", message_id))
        request.email = None  # the request record is kept without it
        request.status = COMPLETED
        request.note(now, "worker", "completed")
        self._finish(request, DELIVER_STEP, connectors.Outcome(counts={"mailsSent": int(email is not None)}))

    def _result_mail(self, request: DsrRequest) -> tuple[str, str]:
        if request.type == ACCESS and request.archive_blob:
            link = self._archives.share_link(request.archive_blob, timedelta(hours=self._config.export_link_hours))
            return "Your personal data is ready", (
                f"Your copy of your personal data is ready (request {request.id}).\n\nDownload it within "
                f"{self._config.export_link_hours} hours:\n\n{link}\n\nThe archive is deleted after that."
            )
        return "Your personal data has been erased", (
            f"Your personal data has been erased (request {request.id}).\n\nThe deletion certificate can be "
            f"checked at {self._config.public_api_url}/certificates/{request.id}"
        )

    # ---- the clock -----------------------------------------------------------------------------

    def review_deadlines(self, warn_within: timedelta = timedelta(days=7)) -> dict[str, list[str]]:
        """Close stale unverified requests; list those near or past their deadline (and mail staff)."""
        now = self._clock.now()
        near, overdue, closed = [], [], []
        for request in self.find(None, None, None):
            if request.status == AWAITING_VERIFICATION:
                if now - datetime.fromisoformat(request.received_at) > timedelta(
                    days=self._config.unverified_close_days
                ):
                    self._change(request.id, lambda r: self._close_unverified(r, now))
                    closed.append(request.id)
                continue
            if request.status not in OPEN_STATUSES:
                continue
            due = datetime.fromisoformat(request.due_at)
            if due < now:
                overdue.append(request.id)
            elif due - now <= warn_within:
                near.append(request.id)
        expired = self._expire_archives(now)
        if (near or overdue) and self._config.staff_email:
            self._mailer.send(
                self._config.staff_email,
                f"Privacy requests: {len(overdue)} overdue, {len(near)} due within {warn_within.days} days",
                "Overdue:\n" + "\n".join(overdue or ["(none)"]) + "\n\nDue soon:\n" + "\n".join(near or ["(none)"]),
                "dsr-deadlines",
            )
        for request_id in overdue:
            log.warning("dsr overdue request_id=%s", request_id)
        return {"near": near, "overdue": overdue, "closed": closed, "archivesDeleted": expired}

    def _expire_archives(self, now: datetime) -> list[str]:
        """Export archives past their retention are deleted (Blob lifecycle rules do it too in Azure;
        this keeps the promise wherever the code runs, and records it on the request)."""
        expired = []
        for request in self.find(COMPLETED, ACCESS, None):
            completed = next((e["at"] for e in reversed(request.log) if e["action"] == "completed"), None)
            if request.archive_blob is None or completed is None:
                continue
            if now - datetime.fromisoformat(completed) < timedelta(days=self._config.export_retention_days):
                continue
            confirmation = self._archives.delete_archive(request.archive_blob)

            def forget(r: DsrRequest, reference: str = confirmation.reference) -> None:
                r.archive_blob = None
                r.note(now, "timer", "archive-deleted", reference)

            self._change(request.id, forget)
            expired.append(request.id)
        return expired

    @staticmethod
    def _close_unverified(request: DsrRequest, now: datetime) -> None:
        if request.status == AWAITING_VERIFICATION:
            request.status = CLOSED_UNVERIFIED
            request.email = None
            request.verification_nonce = None
            request.note(now, "timer", "closed-unverified")
