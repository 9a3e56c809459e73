"""SendGrid follows the consent ledger for marketing email: the ledger is the one truth.

Every decision on the marketing purpose leaves a mark (one small document of its own, never
overwritten). The worker, one at a time under a lease, takes a thousand marks, reads the
current decision and address of their subjects in one query each, puts the withdrawn in the
marketing unsubscribe group with one request, takes explicit new grants out of it, and deletes the
marks it read. A decision made meanwhile leaves a new mark for the next run; a run that dies before
its deletes is simply done again (adding an address the group holds changes nothing). Syncing the
current state, not the event, makes it idempotent and order-proof; SendGrid being down leaves the
marks for the next run (the queue retries, the sweep timer too, and staff see the backlog).

How soon: GDPR Art. 21(3) — after an objection to direct marketing the data "shall no longer be
processed for such purposes" — and Art. 7(3) (withdrawal as easy as consent) call for at once; US
CAN-SPAM (15 U.S.C. 7704(a)(4)(A)(i)) allows at most 10 business days. A sync runs within seconds of the
decision (the queue) and at the latest at the next sweep, every 15 minutes.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.containers import MARKETING_SYNC
from core.ports import Clock, DocumentChanged, DocumentConflict, DocumentStore, MailRejected, WorkQueue
from functions.consent.ledger_repository import ConsentLedger
from functions.notices.lifecycle import MARKETING_PURPOSE, MARKETING_SYNC_QUEUE
from functions.notices.ports import Directory, SuppressionGroups

log = logging.getLogger("privacy.notices")
CHUNK = 1000  # SendGrid takes up to 1,000 addresses per group-suppression request
LEASE_ID = "lease"  # beside the marks, whose ids are UUIDs
LEASE = timedelta(minutes=6)  # longer than a run may take
RUN_BUDGET_SECONDS = 240.0  # a queue-triggered run stays well inside the host's timeout


@dataclass(frozen=True)
class SyncResult:
    suppressed: int = 0
    released: int = 0
    without_address: int = 0
    remaining: bool = False


@dataclass(frozen=True)
class SyncBacklog:
    pending: int
    oldest: datetime | None


class MarketingSync:
    def __init__(
        self,
        store: DocumentStore,
        queue: WorkQueue,
        ledger: ConsentLedger,
        directory: Directory,
        groups: SuppressionGroups,
        group_id: int | None,
        clock: Clock,
    ) -> None:
        self._store = store
        self._queue = queue
        self._ledger = ledger
        self._directory = directory
        self._groups = groups
        self._group_id = group_id
        self._clock = clock

    def mark(self, subject_id: str) -> None:
        """The subject's marketing decision changed: SendGrid is brought in line by the next sync."""
        if not subject_id.startswith("user:"):
            return  # only users have an address
        mark = {"id": str(uuid.uuid4()), "subjectId": subject_id, "at": self._clock.now().isoformat()}
        self._store.create(MARKETING_SYNC, mark)
        self._queue.send(MARKETING_SYNC_QUEUE, {"pending": True})

    def run(self) -> SyncResult:
        """Syncs every pending mark, a thousand at a time, under a lease: one run at a time, so no
        address goes to SendGrid twice from two runs; a run that finds the lease taken leaves.

        A mark made while this run holds the lease may have woken a run that left at once: after
        releasing, this run looks again and, if a mark waits, wakes the next run itself."""
        if self._group_id is None:
            log.warning("marketing sync skipped: SENDGRID_MARKETING_GROUP_ID is not set")
            return SyncResult(remaining=True)
        lease = self._take_lease()
        if lease is None:
            return SyncResult(remaining=True)
        total = SyncResult()
        started = time.monotonic()
        try:
            while time.monotonic() - started < RUN_BUDGET_SECONDS:
                done = self._chunk(self._group_id)
                total = SyncResult(
                    total.suppressed + done.suppressed,
                    total.released + done.released,
                    total.without_address + done.without_address,
                    done.remaining,
                )
                if not done.remaining:
                    break
        finally:
            self._release(lease)
        if total.remaining or self._pending():  # out of time, or marked meanwhile: the next run goes on
            self._queue.send(MARKETING_SYNC_QUEUE, {"pending": True})
        log.info(
            "marketing sync suppressed=%d released=%d without_address=%d",
            total.suppressed,
            total.released,
            total.without_address,
        )
        return total

    def _chunk(self, group_id: int) -> SyncResult:
        marks = list(
            self._store.query_across_partitions(
                MARKETING_SYNC,
                # No order needed: every mark read is deleted, so none waits behind the others.
                f"SELECT TOP {CHUNK} c.id, c.subjectId FROM c WHERE c.id != @lease",  # noqa: S608
                {"@lease": LEASE_ID},
            )
        )
        subjects = sorted({str(m["subjectId"]) for m in marks})
        emails = self._directory.emails_of([s.removeprefix("user:") for s in subjects])
        states = self._ledger.states_of(subjects)
        suppress: list[str] = []
        release: list[str] = []
        for subject_id in subjects:
            email = emails.get(subject_id.removeprefix("user:"))
            if email is None:
                continue  # erased or without an address: nothing to keep in line
            state = states.get(subject_id)
            decision = state.purposes.get(MARKETING_PURPOSE) if state else None
            (release if decision is not None and decision.granted else suppress).append(email)
        refused = self._suppress(group_id, suppress) + self._release_all(group_id, release)
        for mark in marks:
            mark_id = str(mark["id"])
            self._store.delete(MARKETING_SYNC, mark_id, mark_id)
        without = len(subjects) - len(suppress) - len(release)
        if refused:
            log.warning("marketing sync: SendGrid refused %d addresses for good (not retried)", refused)
        return SyncResult(len(suppress), len(release), without, len(marks) == CHUNK)

    def _suppress(self, group_id: int, emails: list[str]) -> int:
        """One request for all; if SendGrid refuses it (an address it will not take), one each, so
        that one bad address never holds back the rest. Returns how many were refused."""
        if not emails:
            return 0
        try:
            self._groups.add(group_id, emails)
            return 0
        except MailRejected:
            refused = 0
            for email in emails:
                try:
                    self._groups.add(group_id, [email])
                except MailRejected:
                    refused += 1
            return refused

    def _release_all(self, group_id: int, emails: list[str]) -> int:
        refused = 0
        for email in emails:
            try:
                self._groups.remove(group_id, email)
            except MailRejected:
                refused += 1
        return refused

    def _take_lease(self) -> str | None:
        now = self._clock.now()
        lease = {"id": LEASE_ID, "until": (now + LEASE).isoformat()}
        found = self._store.read(MARKETING_SYNC, LEASE_ID, LEASE_ID)
        try:
            if found is None:
                return self._store.create(MARKETING_SYNC, lease).etag
            if datetime.fromisoformat(str(found.body["until"])) > now:
                return None  # another run holds it
            return self._store.replace(MARKETING_SYNC, lease, found.etag).etag
        except (DocumentChanged, DocumentConflict):
            return None

    def _release(self, etag: str) -> None:
        with contextlib.suppress(DocumentChanged):  # expired and taken by another run meanwhile: theirs
            self._store.delete(MARKETING_SYNC, LEASE_ID, LEASE_ID, etag=etag)

    def _pending(self) -> bool:
        sql = "SELECT TOP 1 c.id FROM c WHERE c.id != @lease"
        return any(True for _ in self._store.query_across_partitions(MARKETING_SYNC, sql, {"@lease": LEASE_ID}))

    def backlog(self) -> SyncBacklog:
        sql = "SELECT c.at FROM c WHERE c.id != @lease"
        rows = list(self._store.query_across_partitions(MARKETING_SYNC, sql, {"@lease": LEASE_ID}))
        oldest = min((str(r["at"]) for r in rows), default=None)
        return SyncBacklog(len(rows), datetime.fromisoformat(oldest) if oldest else None)
