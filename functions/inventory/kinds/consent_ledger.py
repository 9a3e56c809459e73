"""The consent ledger: kept as proof (GDPR Art. 7(1)), pseudonymized on erasure. The user's chain and
the visitor chains linked to it at sign-in are the subject's; each is read once per call.

Retention removes a chain with its state once nothing in it has been in force for the rule's period:
a user's when every consent was withdrawn (or the account ended) that long ago, a visitor's (linked
to a user or not) when its cookie decisions expired (or were withdrawn) that long ago. Each chain
keeps to its own clock: the user's chain holds what was carried over from a visitor in its own
events, so either proof stands without the other. Removal is done by the ledger itself
(``ConsentLedger.retire``), safe against a subject who comes back while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from core.containers import CONSENT_EVENTS, CONSENT_STATE
from core.ports import Document
from functions.consent.decisions import NOBODY, event_context
from functions.consent.ledger import ConsentEvent, ConsentState, Decision, EventKind, Source
from functions.inventory.locations import (
    Outcome,
    Preview,
    PurgeScope,
    PurgeStep,
    StoredLocation,
    TimeLeft,
    location_kind,
)
from functions.inventory.purging import Selection, preview_of, purge_remaining
from functions.inventory.subject import Subject

# What a person's export leaves out of an event: salts and commitments are bookkeeping of the
# proof itself (explained in the export's README), the idempotency key is a client's retry token.
INTERNAL_FIELDS = frozenset({"id", "proofSalt", "ipCommitment", "userAgentCommitment", "idempotencyKey"})
USERS, VISITORS = "user:", "visitor:"


@location_kind("consent-ledger")
class ConsentLedgerLocation(StoredLocation):
    purge_chunk = 200  # each item is a whole chain

    def _chains(self, subject: Subject) -> Iterator[list[ConsentEvent]]:
        """The user's chain, then every visitor chain linked to it (named by its events, or naming it)."""
        if subject.user_id is None:
            return
        ledger, user = self.systems.ledger, f"user:{subject.user_id}"
        events, _ = ledger.history(user)
        yield events
        linked = [e.linked_subject for e in events if e.kind is EventKind.VISITOR_LINKED and e.linked_subject]
        naming = self.systems.store.query_across_partitions(
            CONSENT_STATE, "SELECT c.subjectId FROM c WHERE c.linkedTo = @user", {"@user": user}
        )
        for visitor in dict.fromkeys([*linked, *(str(d["subjectId"]) for d in naming)]):
            yield ledger.history(visitor)[0]

    def held_items(self, subject: Subject) -> int:
        return sum(len(events) for events in self._chains(subject))

    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        for events in self._chains(subject):
            for event in events:
                yield {k: v for k, v in event.to_document().items() if k not in INTERNAL_FIELDS}

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        withdrawn = self._withdraw_everything(subject)
        pseudonymized = kept = 0
        for events in self._chains(subject):
            for event in events:
                kept += 1
                if event.proof_salt is not None or event.context.ip_truncated or event.context.user_agent:
                    self.systems.store.upsert(CONSENT_EVENTS, event.pseudonymized().to_document())
                    pseudonymized += 1
        if subject.user_id is not None:  # the account is erased: the proof's retention counts from now
            self.systems.ledger.note_account_end(f"user:{subject.user_id}", self.systems.clock.now())
        return Outcome(counts={"eventsKept": kept, "pseudonymized": pseudonymized, "withdrawn": withdrawn})

    def _withdraw_everything(self, subject: Subject) -> int:
        """The last event of each of an erased person's chains (theirs, and the visitor chains linked
        to it) withdraws every purpose still granted, so no check, export or mailing list ever counts
        them in again. A rerun after a crash finds nothing granted and writes nothing."""
        withdrawn = 0
        for events in list(self._chains(subject)):
            if not events:
                continue
            subject_id = events[0].subject_id
            ledger = self.systems.ledger
            loaded = ledger.load(subject_id)
            granted = sorted(p for p, decision in loaded.state.purposes.items() if decision.granted)
            if not granted:
                continue
            version = self.systems.catalog.current().require_current_version()
            context = event_context(Source.ERASURE, version, NOBODY, self.systems.clock.now())
            decisions = {purpose: Decision(granted=False, source=Source.ERASURE) for purpose in granted}
            ledger.record(
                subject_id, EventKind.DECISION, decisions, context, f"erasure:{loaded.state.seq}", loaded=loaded
            )
            withdrawn += len(granted)
        return withdrawn

    # ---- retention -----------------------------------------------------------------------------

    def _expired_before(self, scope: PurgeScope) -> datetime:
        """A visitor's granted decisions end when they expire: the rule's clock for them is later."""
        return scope.cutoff - self.systems.cookie_max_age

    def _selections(self, scope: PurgeScope) -> list[Selection]:
        subjects = {"@heldSubjects": sorted(scope.holds.consent_subjects)}
        if scope.rule.clock == "expired":
            # Visitors, linked to a user or not; one linked to a held user is held with them.
            # Every state document writes linkedTo (null when unlinked), so the test is never undefined.
            held: tuple[str, ...] = (
                "NOT ARRAY_CONTAINS(@heldSubjects, c.subjectId)",
                "NOT ARRAY_CONTAINS(@heldSubjects, c.linkedTo)",
            )
            visitors = f"STARTSWITH(c.subjectId, '{VISITORS}')"
            return [
                Selection(
                    CONSENT_STATE, "c.lastEventAt", scope.cutoff, (visitors, "c.anyGranted = false"), {}, held, subjects
                ),
                Selection(
                    CONSENT_STATE,
                    "c.lastEventAt",
                    self._expired_before(scope),
                    (visitors, "c.anyGranted = true"),
                    {},
                    held,
                    subjects,
                ),
            ]
        held = ("NOT ARRAY_CONTAINS(@heldSubjects, c.subjectId)",)
        users = f"STARTSWITH(c.subjectId, '{USERS}')"
        return [
            Selection(
                CONSENT_STATE, "c.lastEventAt", scope.cutoff, (users, "c.anyGranted = false"), {}, held, subjects
            ),
            Selection(CONSENT_STATE, "c.accountEndedAt", scope.cutoff, (users,), {}, held, subjects),
        ]

    def _due(self, scope: PurgeScope) -> Callable[[ConsentState], bool]:
        """The stored state's own check, so a subject who decided again since the query stays."""

        def before(moment: datetime | None, cutoff: datetime) -> bool:
            return moment is not None and moment < cutoff

        if scope.rule.clock == "expired":
            expired = self._expired_before(scope)
            return lambda s: before(s.last_event_at, expired if s.any_granted else scope.cutoff)
        return lambda s: (
            before(s.account_ended_at, scope.cutoff) or (not s.any_granted and before(s.last_event_at, scope.cutoff))
        )

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        due = self._due(scope)

        def retire(item: Document) -> bool:
            return self.systems.ledger.retire(str(item["subjectId"]), due)

        chunk = self.chunk(scope, bookmark, limit, time_left)
        return purge_remaining(
            self.systems.store, self._selections(scope), "c.subjectId", chunk, retire, identity="subjectId"
        )

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        return preview_of(self.systems.store, self._selections(scope))
