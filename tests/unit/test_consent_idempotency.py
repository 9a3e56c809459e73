"""Idempotency keys over the ledger repository (in-memory store): replay, reuse, window, limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.containers import CONSENT_EVENTS, database_spec
from functions.consent.errors import IdempotencyKeyReused, TooManyDecisions
from functions.consent.ledger import Decision, EventContext, EventKind, Source
from functions.consent.ledger_repository import ConsentLedger
from functions.consent.retry_keys import IDEMPOTENCY_WINDOW, MAX_DECISIONS_PER_WINDOW
from tests.fakes import InMemoryDocumentStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SUBJECT = "user:ida"


def ledger() -> tuple[ConsentLedger, InMemoryDocumentStore]:
    store = InMemoryDocumentStore({c.id: c.partition_key.lstrip("/") for c in database_spec().containers})
    return ConsentLedger(store), store


def record(led: ConsentLedger, key: str, granted: bool, at: datetime = NOW) -> tuple[int, bool]:
    context = EventContext(Source.API, "2026-11", "sha256:x", at)
    recorded = led.record(SUBJECT, EventKind.DECISION, {"analytics": Decision(granted, Source.API)}, context, key)
    return recorded.event_seq, recorded.replayed


def test_a_retry_with_the_same_key_and_body_records_nothing() -> None:
    led, store = ledger()
    assert record(led, "key-00000001", True) == (1, False)
    assert record(led, "key-00000001", True, NOW + timedelta(hours=23)) == (1, True)
    assert len(store.all(CONSENT_EVENTS)) == 1


def test_the_same_key_with_another_body_is_refused_and_records_nothing() -> None:
    led, store = ledger()
    record(led, "key-00000001", True)
    with pytest.raises(IdempotencyKeyReused):
        record(led, "key-00000001", False)
    assert len(store.all(CONSENT_EVENTS)) == 1
    assert led.load(SUBJECT).state.purposes["analytics"].granted is True


def test_a_key_is_remembered_for_its_window_however_many_decisions_follow() -> None:
    led, _ = ledger()
    record(led, "key-first-00", True)
    for n in range(120):
        record(led, f"key-{n:08d}", n % 2 == 0, NOW + timedelta(minutes=n))
    assert record(led, "key-first-00", True, NOW + timedelta(hours=3)) == (1, True)
    later = NOW + IDEMPOTENCY_WINDOW + timedelta(hours=3)
    assert record(led, "key-first-00", True, later)[1] is False  # past its window it is a new decision


def test_a_flood_of_decisions_for_one_subject_is_refused_not_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    import functions.consent.ledger_repository as repository

    monkeypatch.setattr(repository, "MAX_DECISIONS_PER_WINDOW", 5)
    led, _ = ledger()
    for n in range(5):
        record(led, f"key-{n:08d}", True)
    with pytest.raises(TooManyDecisions):
        record(led, "key-00000099", True)
    assert record(led, "key-00000000", True) == (1, True)  # the earliest key is still known
    assert MAX_DECISIONS_PER_WINDOW >= 1000  # the real limit leaves ordinary use untouched
