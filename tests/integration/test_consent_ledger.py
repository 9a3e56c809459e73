"""The consent ledger against the Cosmos DB stand-in of the local stack (no fakes)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bootstrap import Services
from core.containers import CONSENT_EVENTS
from functions.consent.decisions import Caller, event_context
from functions.consent.ledger import Decision, EventKind, Source
from functions.consent.ledger_repository import ConsentLedger
from functions.consent.linking import link_visitor_to_user

pytestmark = pytest.mark.integration


def _record(svc: Services, subject: str, granted: bool, key: str | None = None):
    version = svc.catalog.current().require_current_version()
    ctx = event_context(Source.API, version, Caller("203.0.113.0/24", "test-agent", "EU"), svc.clock.now())
    return svc.ledger.record(
        subject, EventKind.DECISION, {"analytics": Decision(granted, Source.API)}, ctx, key or uuid.uuid4().hex
    )


def test_a_decision_is_stored_with_its_proof_and_chain(stack_services: Services) -> None:
    subject = f"user:{uuid.uuid4().hex}"
    _record(stack_services, subject, True)
    _record(stack_services, subject, False)
    loaded = stack_services.ledger.load(subject)
    assert loaded.state.seq == 2
    assert loaded.state.purposes["analytics"].granted is False
    events, verification = stack_services.ledger.history(subject)
    assert verification.valid
    assert [e.seq for e in events] == [1, 2]
    assert events[0].context.ip_truncated == "203.0.113.0/24"
    assert events[0].context.notice_text_hash.startswith("sha256:")


def test_a_retried_write_with_the_same_key_records_once(stack_services: Services) -> None:
    subject = f"user:{uuid.uuid4().hex}"
    first = _record(stack_services, subject, True, key="retry-key-0001")
    again = _record(stack_services, subject, True, key="retry-key-0001")
    assert not first.replayed
    assert again.replayed
    assert again.event_seq == first.event_seq
    assert stack_services.ledger.load(subject).state.seq == 1


def test_fifty_concurrent_writes_for_one_subject_neither_fork_nor_lose(stack_services: Services) -> None:
    subject = f"user:{uuid.uuid4().hex}"
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(
            pool.map(lambda i: _record(stack_services, subject, i % 2 == 0, f"concurrent-{i:04d}"), range(50))
        )
    assert sorted(r.event_seq for r in results) == list(range(1, 51))
    events, verification = stack_services.ledger.history(subject)
    assert verification.valid, verification.problems
    assert len(events) == 50
    assert {e.idempotency_key for e in events} == {f"concurrent-{i:04d}" for i in range(50)}
    assert stack_services.ledger.load(subject).state.seq == 50


def test_a_tampered_stored_event_is_reported(stack_services: Services) -> None:
    subject = f"user:{uuid.uuid4().hex}"
    for granted in (True, False, True):
        _record(stack_services, subject, granted)
    store = stack_services.documents
    stored = store.read(CONSENT_EVENTS, "e000000000002", subject)
    assert stored is not None
    forged = {**stored.body, "decisions": {"analytics": {"granted": True, "source": "api"}}}
    store.replace(CONSENT_EVENTS, forged, stored.etag)
    _, verification = stack_services.ledger.history(subject)
    assert not verification.valid
    assert (2, "altered") in {(p.seq, p.problem) for p in verification.problems}


def test_linking_a_visitor_carries_consents_to_the_user_once(stack_services: Services) -> None:
    visitor, user = f"visitor:{uuid.uuid4().hex}", f"user:{uuid.uuid4().hex}"
    _record(stack_services, visitor, True)
    catalog = stack_services.catalog.current()
    caller = Caller(None, None, None)
    linked = link_visitor_to_user(stack_services.ledger, catalog, visitor, user, caller, stack_services.clock.now())
    assert linked.state.purposes["analytics"].granted
    assert linked.state.purposes["analytics"].source is Source.LINK
    again = link_visitor_to_user(stack_services.ledger, catalog, visitor, user, caller, stack_services.clock.now())
    assert again.replayed
    assert stack_services.ledger.load(visitor).state.linked_to == user
    events, verification = stack_services.ledger.history(visitor)
    assert verification.valid
    assert events[-1].kind is EventKind.LINKED_TO_USER


class StateWriteFails:
    """The real store, except that the next consent-state write fails as a timeout would."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.failing = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def replace(self, container: str, body: dict[str, Any], etag: str) -> Any:
        if container == "consent-state" and self.failing:
            self.failing = False
            raise TimeoutError("state write lost")
        return self._store.replace(container, body, etag)


def test_a_retry_after_a_lost_state_write_repairs_the_state(stack_services: Services) -> None:
    subject = f"user:{uuid.uuid4().hex}"
    _record(stack_services, subject, True)
    flaky = StateWriteFails(stack_services.documents)
    version = stack_services.catalog.current().require_current_version()
    ctx = event_context(Source.API, version, Caller(None, None, None), stack_services.clock.now())
    withdraw = {"analytics": Decision(False, Source.API)}
    with pytest.raises(TimeoutError):
        ConsentLedger(flaky).record(subject, EventKind.DECISION, withdraw, ctx, "withdraw-0001")
    assert stack_services.ledger.load(subject).state.purposes["analytics"].granted is True  # stale for now
    retried = stack_services.ledger.record(subject, EventKind.DECISION, withdraw, ctx, "withdraw-0001")
    assert retried.replayed
    assert stack_services.ledger.load(subject).state.purposes["analytics"].granted is False


def test_two_users_racing_for_one_visitor_cannot_both_have_it(stack_services: Services) -> None:
    from functions.consent.errors import VisitorAlreadyLinked

    visitor = f"visitor:{uuid.uuid4().hex}"
    _record(stack_services, visitor, True)
    catalog = stack_services.catalog.current()
    users = [f"user:{uuid.uuid4().hex}" for _ in range(6)]

    def link(user: str) -> str:
        try:
            link_visitor_to_user(
                stack_services.ledger, catalog, visitor, user, Caller(None, None, None), stack_services.clock.now()
            )
        except VisitorAlreadyLinked:
            return "already-linked"
        return "linked"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(link, users))
    assert outcomes.count("linked") == 1
    assert outcomes.count("already-linked") == 5
    events, verification = stack_services.ledger.history(visitor)
    assert verification.valid
    assert sum(1 for e in events if e.kind is EventKind.LINKED_TO_USER) == 1
