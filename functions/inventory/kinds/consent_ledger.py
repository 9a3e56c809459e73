"""The consent ledger: kept as proof (GDPR Art. 7(1)), pseudonymized on erasure. The user's chain and
the visitor chains linked to it at sign-in are the subject's; each is read once per call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.containers import CONSENT_EVENTS
from functions.consent.decisions import NOBODY, event_context
from functions.consent.ledger import ConsentEvent, Decision, EventKind, Source
from functions.inventory.locations import Outcome, StoredLocation, location_kind
from functions.inventory.subject import Subject

# What a person's export leaves out of an event: salts and commitments are bookkeeping of the
# proof itself (explained in the export's README), the idempotency key is a client's retry token.
INTERNAL_FIELDS = frozenset({"id", "proofSalt", "ipCommitment", "userAgentCommitment", "idempotencyKey"})


@location_kind("consent-ledger")
class ConsentLedgerLocation(StoredLocation):
    def _chains(self, subject: Subject) -> Iterator[list[ConsentEvent]]:
        if subject.user_id is None:
            return
        ledger = self.systems.ledger
        events, _ = ledger.history(f"user:{subject.user_id}")
        yield events
        for event in events:
            if event.kind is EventKind.VISITOR_LINKED and event.linked_subject:
                yield ledger.history(event.linked_subject)[0]

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
