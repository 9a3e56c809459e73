"""Recording and reading consent against the document store.

A decision costs three requests when nobody else writes for the same subject: read the state,
create the next event (its id is its place in the chain, so a racing writer gets a conflict instead
of a fork), replace the state if its etag is unchanged. Under contention the loser folds the
winner's events into its state and tries the next place; nothing is lost and nothing forks.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from core.containers import CONSENT_EVENTS, CONSENT_STATE
from core.ports import DocumentChanged, DocumentConflict, DocumentStore
from functions.consent.chain import ChainVerification, verify_chain
from functions.consent.errors import ConsentBusy, IdempotencyKeyReused, TooManyDecisions
from functions.consent.ledger import (
    STATE_DOCUMENT_ID,
    ConsentEvent,
    ConsentState,
    Decision,
    EventContext,
    EventKind,
    event_id,
    request_fingerprint,
)
from functions.consent.retry_keys import MAX_DECISIONS_PER_WINDOW

MAX_APPEND_ATTEMPTS = 200


@dataclass(frozen=True)
class Recorded:
    state: ConsentState
    event_seq: int
    replayed: bool  # the idempotency key was seen before: nothing new was written
    event: ConsentEvent  # the event recorded (or, for a replay, recorded before)


@dataclass(frozen=True)
class Loaded:
    state: ConsentState
    etag: str | None


class ConsentLedger:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def load(self, subject_id: str) -> Loaded:
        found = self._store.read(CONSENT_STATE, STATE_DOCUMENT_ID, subject_id)
        if found is None:
            return Loaded(ConsentState(subject_id=subject_id), None)
        return Loaded(ConsentState.from_document(found.body), found.etag)

    def states_of(self, subject_ids: list[str]) -> dict[str, ConsentState]:
        """The current states of many subjects in one query (at most 1,000 ids); none for a subject
        that never decided."""
        if not subject_ids:
            return {}
        names = {f"@s{n}": subject_id for n, subject_id in enumerate(subject_ids)}
        rows = self._store.query_across_partitions(
            CONSENT_STATE,
            f"SELECT * FROM c WHERE c.id = @state AND c.subjectId IN ({', '.join(names)})",  # noqa: S608
            {"@state": STATE_DOCUMENT_ID, **names},
        )
        states = (ConsentState.from_document(r) for r in rows)
        return {state.subject_id: state for state in states}

    def record(
        self,
        subject_id: str,
        kind: EventKind,
        decisions: Mapping[str, Decision],
        context: EventContext,
        idempotency_key: str,
        linked_subject: str | None = None,
        loaded: Loaded | None = None,
        precondition: Callable[[ConsentState], None] | None = None,
    ) -> Recorded:
        """Append one event. ``precondition`` is checked against the state the event will follow,
        on every attempt, so a rule like "not linked to someone else" holds under races too."""
        current = loaded or self.load(subject_id)
        state, etag = current.state, current.etag
        asked = request_fingerprint(kind, decisions, context.policy_version, linked_subject)
        now = context.recorded_at
        for attempt in range(MAX_APPEND_ATTEMPTS):
            seen = state.key_use(idempotency_key, now)
            if seen is not None:
                if seen.fingerprint not in (None, asked):
                    raise IdempotencyKeyReused()
                if state.seq > current.state.seq:
                    # The stored state lacks events we just folded in (an earlier attempt died
                    # between its event and its state write): store them before answering.
                    state = self._save_state(state, etag)
                return Recorded(state, seen.seq, replayed=True, event=self.event(subject_id, seen.seq))
            if state.decisions_in_window(now) >= MAX_DECISIONS_PER_WINDOW:
                raise TooManyDecisions()
            if precondition is not None:
                precondition(state)
            event = state.next_event(kind, decisions, context, idempotency_key, linked_subject)
            try:
                self._store.create(CONSENT_EVENTS, event.to_document())
            except DocumentConflict:
                # Someone else took this place in the chain: fold their event in and try the next.
                state = self._fold_next(state)
                _back_off(attempt)
                continue
            saved = self._save_state(state.apply(event), etag)
            return Recorded(saved, event.seq, replayed=False, event=event)
        raise ConsentBusy()

    def event(self, subject_id: str, seq: int) -> ConsentEvent:
        found = self._store.read(CONSENT_EVENTS, event_id(seq), subject_id)
        if found is None:  # the state names it, so it was written: only a rewritten ledger lacks it
            raise LookupError("a recorded event is missing from the ledger")
        return ConsentEvent.from_document(found.body)

    def _fold_next(self, state: ConsentState) -> ConsentState:
        """Apply the event that took the place after ``state`` (it exists: our create conflicted)."""
        found = self._store.read(CONSENT_EVENTS, event_id(state.seq + 1), state.subject_id)
        return state if found is None else state.apply(ConsentEvent.from_document(found.body))

    def _catch_up(self, state: ConsentState) -> ConsentState:
        """Apply every event after ``state.seq`` that exists in the store."""
        while True:
            found = self._store.read(CONSENT_EVENTS, event_id(state.seq + 1), state.subject_id)
            if found is None:
                return state
            state = state.apply(ConsentEvent.from_document(found.body))

    def _save_state(self, state: ConsentState, etag: str | None) -> ConsentState:
        """Store ``state`` unless a newer one (which then includes our event) is already stored."""
        for attempt in range(MAX_APPEND_ATTEMPTS):
            try:
                if etag is None:
                    self._store.create(CONSENT_STATE, state.to_document())
                else:
                    self._store.replace(CONSENT_STATE, state.to_document(), etag)
                return state
            except (DocumentChanged, DocumentConflict):
                fresh = self.load(state.subject_id)
                if fresh.state.seq >= state.seq:
                    return fresh.state
                # The stored state lags behind our event: rebuild from it, then store again.
                state, etag = self._catch_up(fresh.state), fresh.etag
                _back_off(attempt)
        raise ConsentBusy()

    def link_event(self, user_id: str, visitor_id: str) -> ConsentEvent | None:
        """The event on the user's chain that took the visitor's consents over, if it was written."""
        documents = self._store.query(
            CONSENT_EVENTS,
            user_id,
            "SELECT * FROM c WHERE c.subjectId = @subject AND c.kind = @kind AND c.linkedSubject = @visitor",
            {"@subject": user_id, "@kind": EventKind.VISITOR_LINKED.value, "@visitor": visitor_id},
        )
        return next((ConsentEvent.from_document(d) for d in documents), None)

    def history(self, subject_id: str) -> tuple[list[ConsentEvent], ChainVerification]:
        loaded = self.load(subject_id)
        documents = self._store.query(
            CONSENT_EVENTS,
            subject_id,
            "SELECT * FROM c WHERE c.subjectId = @subject ORDER BY c.seq",
            {"@subject": subject_id},
        )
        events = [ConsentEvent.from_document(doc) for doc in documents]
        head = (loaded.state.seq, loaded.state.head_hash) if loaded.etag is not None else None
        return events, verify_chain(events, head, loaded.state.checkpoint)

    def note_account_end(self, subject_id: str, at: datetime) -> None:
        """Records when the subject's account ended (closed, or erased): the proof's retention counts
        from it. A subject that never decided anything has nothing to keep; a first end stays."""
        for attempt in range(MAX_APPEND_ATTEMPTS):
            found = self._store.read(CONSENT_STATE, STATE_DOCUMENT_ID, subject_id)
            if found is None:
                return
            state = ConsentState.from_document(found.body)
            if state.account_ended_at is not None:
                return
            try:
                self._store.replace(CONSENT_STATE, state.with_account_ended(at).to_document(), found.etag)
                return
            except DocumentChanged:
                _back_off(attempt)
        raise ConsentBusy()

    def retire(self, subject_id: str, due: Callable[[ConsentState], bool]) -> bool:
        """Removes the subject's chain and state if ``due`` still holds for the stored state; False
        when it does not (any more). Safe to repeat and to resume after a crash:

        1. the state is replaced, etag-guarded, by its retired form (no decisions, the head hash kept
           as a checkpoint), so a concurrent decision wins and the chain is left alone;
        2. the events up to the checkpoint are deleted;
        3. the state is deleted if still unchanged. A subject who came back meanwhile keeps a state
           whose checkpoint their new events chain on from, so the proof of those still verifies.
        """
        found = self._store.read(CONSENT_STATE, STATE_DOCUMENT_ID, subject_id)
        if found is None:
            return False
        state, etag = ConsentState.from_document(found.body), found.etag
        already_retired = state.checkpoint is not None and state.purged_through == state.seq
        if not already_retired:
            if not due(state):
                return False
            state = state.retired()
            try:
                etag = self._store.replace(CONSENT_STATE, state.to_document(), etag).etag
            except DocumentChanged:
                return False
        for event in self._store.query(
            CONSENT_EVENTS,
            subject_id,
            "SELECT c.id FROM c WHERE c.subjectId = @subject AND c.seq <= @through",
            {"@subject": subject_id, "@through": state.purged_through},
        ):
            self._store.delete(CONSENT_EVENTS, str(event["id"]), subject_id)
        with contextlib.suppress(DocumentChanged):  # the subject came back: its state stays, with the checkpoint
            self._store.delete(CONSENT_STATE, STATE_DOCUMENT_ID, subject_id, etag=etag)
        return True


def _back_off(attempt: int) -> None:
    # Jitter spreads racing writers of one subject so that each round has a clear winner.
    time.sleep(random.uniform(0, min(0.002 * (attempt + 1), 0.05)))
