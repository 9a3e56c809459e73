"""The retention purge against the real local stand-ins: Cosmos DB, Azurite blobs, localstripe and the
mail server's marketing contacts, with items on both sides of every cutoff and a held subject."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from bootstrap import Services
from core.containers import PROFILES
from core.models import utc_text
from core.pseudonyms import keyed_hash
from core.settings import Settings
from devstack.services import SENDGRID_LOCAL_KEY, STRIPE_LOCAL_KEY
from devstack.stack import LocalStack
from functions.consent.ledger import Decision, EventContext, EventKind, Source
from functions.retention.run_records import RunReport
from functions.retention.staff import HoldTarget
from tests.fakes import MovableClock
from tests.retention_cases import MARKETING, Seeded, Seeder
from tests.retention_checks import (
    StackPlaces,
    contact_deletes,
    exists,
    restart_withdrawal_window,
    sendgrid_deletes_slowly,
    stripe_deletes,
    wrong,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def svc(app_settings: dict[str, str]) -> Services:
    return Services(Settings({**app_settings, "RETENTION_LEASE_SECONDS": "30"}), MovableClock(datetime.now(UTC)))


@pytest.fixture
def places(svc: Services, local_stack: LocalStack) -> StackPlaces:
    return StackPlaces(svc, local_stack)


@pytest.fixture
def seeded(svc: Services, local_stack: LocalStack) -> Seeded:
    stripe_client = stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": local_stack.stripe_url})

    def new_customer(email: str) -> str:
        return str(stripe_client.v1.customers.create(params={"email": email, "name": "Seeded"}).id)

    def new_contact(email: str) -> None:
        httpx.put(
            f"{local_stack.mail_url}/v3/marketing/contacts",
            headers={"Authorization": f"Bearer {SENDGRID_LOCAL_KEY}"},
            json={"contacts": [{"email": email}]},
        ).raise_for_status()

    seeder = Seeder(
        svc.documents,
        svc.ledger,
        svc.archives,
        svc.settings.get("SUBJECT_HASH_PEPPER"),
        new_customer,
        new_contact,
        svc.cookie_max_age,
        now=svc.clock.now(),
    )
    restart_withdrawal_window(svc)
    return seeder.seed()


def withdrew_and_closed(svc: Services, stack: LocalStack) -> str:
    """Someone who withdrew marketing email and then closed the account, both over a month ago: both
    rules of the marketing contact want it gone. Returns the address."""
    user, email = f"usr-{uuid.uuid4().hex[:12]}", f"both-{uuid.uuid4().hex[:10]}@example.com"
    now = svc.clock.now()
    svc.documents.upsert(
        PROFILES,
        {
            "id": user,
            "userId": user,
            "email": email,
            "emailHash": keyed_hash(svc.settings.get("SUBJECT_HASH_PEPPER"), email),
            "closedAt": utc_text(now - timedelta(days=35)),
        },
    )
    httpx.put(
        f"{stack.mail_url}/v3/marketing/contacts",
        headers={"Authorization": f"Bearer {SENDGRID_LOCAL_KEY}"},
        json={"contacts": [{"email": email}]},
    ).raise_for_status()
    context = EventContext(Source.API, "2026-11", "sha256:x", now - timedelta(days=40))
    decision = {MARKETING: Decision(False, Source.API)}
    svc.ledger.record(f"user:{user}", EventKind.DECISION, decision, context, uuid.uuid4().hex)
    return email


def test_only_what_is_past_its_period_goes_everywhere_and_held_data_stays(
    svc: Services, seeded: Seeded, places: StackPlaces, local_stack: LocalStack, app_settings: dict[str, str]
) -> None:
    both = withdrew_and_closed(svc, local_stack)
    hold, _ = svc.retention_staff.place_hold(
        HoldTarget("subject", user_id=seeded.held_user), "Litigation 2027-3", None, "dpo-1"
    )
    dry = {r.rule: r for r in svc.retention_staff.dry_run().rules}
    assert dry["orders"].due >= 1
    assert dry["navigation-events"].held >= 1
    with sendgrid_deletes_slowly(local_stack):  # as at SendGrid: a deleted contact is found for a while
        report = svc.retention_run.run()
        assert report.outcome == "finished", report.failures
        again = svc.retention_run.run()
        assert again.outcome == "finished"
    assert wrong(places, seeded, held=True) == []
    assert not places.contact_exists(both)
    assert stripe_deletes(local_stack, seeded.customers_gone) == dict.fromkeys(seeded.customers_gone, 1)
    contacts = [*seeded.contacts_gone, both]
    assert contact_deletes(local_stack, contacts) == dict.fromkeys(contacts, 1)  # DELETE calls at the server
    # Released, the hold's items go with the next run; the subject's Stripe customer and contact once.
    svc.retention_staff.release_hold(hold.id, "dpo-1", "Settled")
    assert svc.retention_run.run().outcome == "finished"
    assert wrong(places, seeded, held=False) == []
    assert stripe_deletes(local_stack, [seeded.held_customer]) == {seeded.held_customer: 1}
    assert contact_deletes(local_stack, [seeded.held_email]) == {seeded.held_email: 1}


class Stalled:
    """A third-party call that waits inside, its first time, until the test lets it go on."""

    def __init__(self, call: Callable[..., Any]) -> None:
        self._call = call
        self.inside, self.go_on = threading.Event(), threading.Event()

    def __call__(self, *args: Any) -> Any:
        if not self.inside.is_set():
            self.inside.set()
            assert self.go_on.wait(60), "the test never let the call go on"
        return self._call(*args)


def run_in_thread(run: Callable[[], RunReport]) -> tuple[threading.Thread, list[RunReport]]:
    reports: list[RunReport] = []
    thread = threading.Thread(target=lambda: reports.append(run()))
    thread.start()
    return thread, reports


def test_a_run_started_while_another_is_inside_a_chunk_skips(
    svc: Services, seeded: Seeded, places: StackPlaces, local_stack: LocalStack
) -> None:
    first, second = Services(svc.settings, svc.clock), Services(svc.settings, svc.clock)
    stalled = Stalled(first.payments.delete_customer)
    first.payments.delete_customer = stalled  # type: ignore[method-assign,assignment]
    thread, reports = run_in_thread(lambda: first.retention_run.run(trigger="first"))
    try:
        assert stalled.inside.wait(60), "the first run never reached Stripe"
        skipped = second.retention_run.run(trigger="second")  # while the first is inside its Stripe chunk
    finally:
        stalled.go_on.set()
        thread.join(120)
    assert (skipped.outcome, skipped.rules) == ("skipped", [])
    assert [r.outcome for r in reports] == ["finished"]
    assert wrong(places, seeded, held=False) == []
    customers = [*seeded.customers_gone, seeded.held_customer]
    assert stripe_deletes(local_stack, customers) == dict.fromkeys(customers, 1)


def test_a_run_that_stalls_inside_a_sendgrid_call_past_its_lease_is_taken_over_with_nothing_twice(
    svc: Services, seeded: Seeded, places: StackPlaces, local_stack: LocalStack
) -> None:
    first, second = Services(svc.settings, svc.clock), Services(svc.settings, svc.clock)
    stalled = Stalled(first.contacts.delete_contact)
    first.contacts.delete_contact = stalled  # type: ignore[method-assign,assignment]
    with sendgrid_deletes_slowly(local_stack):
        thread, reports = run_in_thread(lambda: first.retention_run.run(trigger="stalls"))
        try:
            assert stalled.inside.wait(60), "the first run never reached SendGrid"
            # Its deletion is marked, the call not made yet; it stalls until its lease has lapsed.
            clock = svc.clock
            assert isinstance(clock, MovableClock)
            clock.advance(seconds=svc.retention_parts.config.lease.total_seconds() + 1)
            took_over = second.retention_run.run(trigger="takes-over")
        finally:
            stalled.go_on.set()  # and now the stalled call goes out after all
            thread.join(120)
    assert took_over.outcome == "finished", took_over.failures
    assert [r.outcome for r in reports] == ["unfinished"]  # it found the lease taken and stopped
    contacts = [*seeded.contacts_gone, seeded.held_email]
    assert contact_deletes(local_stack, contacts) == dict.fromkeys(contacts, 1)
    customers = [*seeded.customers_gone, seeded.held_customer]
    assert stripe_deletes(local_stack, customers) == dict.fromkeys(customers, 1)
    assert not any(places.contact_exists(e) for e in contacts)


def test_sendgrid_down_is_reported_and_retried_while_the_other_locations_are_purged(
    svc: Services, seeded: Seeded, places: StackPlaces, local_stack: LocalStack, app_settings: dict[str, str]
) -> None:
    down = Services(Settings({**svc.settings.values, "SENDGRID_API_HOST": "http://127.0.0.1:9"}), svc.clock)
    report = down.retention_run.run()
    assert report.outcome == "failed"
    assert report.failures == {
        "sendgrid-contact": ["ContactNotDeleted"],
        "sendgrid-contact.closed-accounts": ["ContactNotDeleted"],
    }
    assert not exists(svc.documents, "navigation-events", seeded.gone["navigation-events"][0])
    assert not any(places.customer_exists(c) for c in seeded.customers_gone)  # Stripe's rule went on
    assert all(places.contact_exists(e) for e in seeded.contacts_gone)
    assert svc.retention_run.run().outcome == "finished"  # SendGrid is back: the next run deletes them
    assert wrong(places, seeded, held=False) == []
    contacts = [*seeded.contacts_gone, seeded.held_email]
    assert contact_deletes(local_stack, contacts) == dict.fromkeys(contacts, 1)


def test_a_third_party_down_is_reported_and_retried_while_the_other_locations_are_purged(
    svc: Services, seeded: Seeded, places: StackPlaces, local_stack: LocalStack, app_settings: dict[str, str]
) -> None:
    broken = Services(Settings({**app_settings, "STRIPE_API_BASE": "http://127.0.0.1:9"}), svc.clock)  # nobody there
    report = broken.retention_run.run()
    assert report.outcome == "failed"
    assert set(report.failures) == {"stripe-customer"}
    assert all("@" not in error for errors in report.failures.values() for error in errors)
    expired_navigation = seeded.gone["navigation-events"][0]
    assert not exists(svc.documents, "navigation-events", expired_navigation)
    assert all(places.customer_exists(c) for c in seeded.customers_gone)
    assert svc.retention_run.run().outcome == "finished"
    assert wrong(places, seeded, held=False) == []


def test_a_dry_run_asks_no_third_party_and_changes_nothing(
    svc: Services, seeded: Seeded, places: StackPlaces, local_stack: LocalStack, app_settings: dict[str, str]
) -> None:
    calls_before = Path(local_stack.log_dir / "stripe-calls.log").read_text()
    dry = svc.retention_staff.dry_run()
    assert all(rule.error is None for rule in dry.rules)
    assert Path(local_stack.log_dir / "stripe-calls.log").read_text() == calls_before
    gone, _ = seeded.expected(held=False)
    assert all(exists(svc.documents, rule, i) for rule, ids in gone.items() for i in ids)
    assert all(places.customer_exists(c) for c in seeded.customers_gone)
    assert all(places.contact_exists(e) for e in seeded.contacts_gone)
    assert all(places.blob_exists(a) for a in seeded.archives_gone)
