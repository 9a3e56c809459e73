from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from functions.consent.chain import verify_chain
from functions.consent.ledger import GENESIS_HASH, ConsentEvent, ConsentState, Decision, EventContext, EventKind, Source
from functions.consent.retry_keys import IDEMPOTENCY_WINDOW

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def context(version: str = "2026-11") -> EventContext:
    return EventContext(Source.BANNER, version, "sha256:abc", NOW, "EU", "203.0.113.0/24", "Mozilla/5.0")


def chain(n: int) -> tuple[ConsentState, list[ConsentEvent]]:
    state = ConsentState(subject_id="visitor:abcdefghijklmnop")
    events = []
    for i in range(n):
        event = state.next_event(
            EventKind.DECISION, {"analytics": Decision(i % 2 == 0, Source.BANNER)}, context(), f"key-{i:04d}"
        )
        state = state.apply(event)
        events.append(event)
    return state, events


def test_events_link_to_their_predecessor_and_fold_into_state() -> None:
    state, events = chain(3)
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert state.seq == 3
    assert state.head_hash == events[2].hash
    assert state.purposes["analytics"].granted is True  # events 0 and 2 grant, 1 withdraws
    assert state.purposes["analytics"].seq == 3


def test_state_round_trips_through_its_document() -> None:
    state, _ = chain(2)
    assert ConsentState.from_document(state.to_document()) == state


def test_event_round_trips_and_keeps_its_hash() -> None:
    _, events = chain(1)
    again = ConsentEvent.from_document(events[0].to_document())
    assert again == events[0]
    assert again.computed_hash() == again.hash


def test_intact_chain_verifies() -> None:
    state, events = chain(4)
    result = verify_chain(events, (state.seq, state.head_hash))
    assert result.valid
    assert result.event_count == 4


def test_altered_event_is_detected() -> None:
    state, events = chain(3)
    tampered = replace(events[1], decisions={"analytics": Decision(True, Source.BANNER)})
    result = verify_chain([events[0], tampered, events[2]], (state.seq, state.head_hash))
    assert not result.valid
    assert (2, "altered") in {(p.seq, p.problem) for p in result.problems}


def test_missing_event_is_detected_in_the_middle_and_at_the_end() -> None:
    state, events = chain(4)
    middle = verify_chain([events[0], events[2], events[3]], (state.seq, state.head_hash))
    assert (2, "missing") in {(p.seq, p.problem) for p in middle.problems}
    tail = verify_chain(events[:3], (state.seq, state.head_hash))
    assert (4, "missing") in {(p.seq, p.problem) for p in tail.problems}


def test_replaced_event_with_valid_own_hash_breaks_the_link() -> None:
    state, events = chain(3)
    forged = replace(events[1], decisions={"analytics": Decision(True, Source.BANNER)}).sealed()
    result = verify_chain([events[0], forged, events[2]], (state.seq, state.head_hash))
    assert (3, "broken-link") in {(p.seq, p.problem) for p in result.problems}


def test_an_event_that_does_not_continue_the_chain_is_refused() -> None:
    state, events = chain(2)
    with pytest.raises(ValueError, match="does not continue"):
        state.apply(events[0])


def test_idempotency_keys_are_remembered_for_a_window_however_many_events_follow() -> None:
    state, events = chain(60)
    last = events[-1].context.recorded_at
    assert state.key_use("key-0000", last) is not None  # 59 events later, still known
    assert state.key_use("key-0059", last) is not None
    assert state.key_use("key-0000", last + IDEMPOTENCY_WINDOW + timedelta(seconds=1)) is None
    assert state.decisions_in_window(last) == 60
    restored = ConsentState.from_document(state.to_document())
    assert restored.recent_keys == state.recent_keys


def test_pseudonymized_events_drop_ip_and_agent_but_the_chain_still_verifies() -> None:
    state, events = chain(3)
    redacted = [e.pseudonymized() for e in events]
    assert all(e.context.ip_truncated is None and e.context.user_agent is None for e in redacted)
    stored = [ConsentEvent.from_document(e.to_document()) for e in redacted]
    assert all(doc["proofSalt"] is None for doc in (e.to_document() for e in redacted))
    assert verify_chain(stored, (state.seq, state.head_hash)).valid


def test_a_changed_clear_ip_no_longer_matches_its_commitment() -> None:
    state, events = chain(2)
    document = events[0].to_document()
    document["ipTruncated"] = "192.0.2.0/24"
    tampered = ConsentEvent.from_document(document)
    result = verify_chain([tampered, events[1]], (state.seq, state.head_hash))
    assert (1, "altered") in {(p.seq, p.problem) for p in result.problems}
