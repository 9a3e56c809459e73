"""The retention purge against the real local stand-ins: Cosmos DB, Azurite blobs, localstripe and the
mail server's marketing contacts, with items on both sides of every cutoff and a held subject."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import stripe

from bootstrap import Services
from core.settings import Settings
from devstack.services import SENDGRID_LOCAL_KEY, STRIPE_LOCAL_KEY
from devstack.stack import LocalStack
from functions.retention.run_records import RunReport
from functions.retention.staff import HoldTarget
from tests.fakes import MovableClock
from tests.retention_cases import Seeded, Seeder
from tests.retention_checks import StackPlaces, exists, restart_withdrawal_window, stripe_deletes, wrong

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


def test_only_what_is_past_its_period_goes_everywhere_and_held_data_stays(
    svc: Services, seeded: Seeded, places: StackPlaces, local_stack: LocalStack, app_settings: dict[str, str]
) -> None:
    hold, _ = svc.retention_staff.place_hold(
        HoldTarget("subject", user_id=seeded.held_user), "Litigation 2027-3", None, "dpo-1"
    )
    dry = {r.rule: r for r in svc.retention_staff.dry_run().rules}
    assert dry["orders"].due >= 1
    assert dry["navigation-events"].held >= 1
    report = svc.retention_run.run()
    assert report.outcome == "finished", report.failures
    assert wrong(places, seeded, held=True) == []
    assert stripe_deletes(local_stack, seeded.customers_gone) == dict.fromkeys(seeded.customers_gone, 1)
    again = svc.retention_run.run()
    assert again.outcome == "finished"
    assert stripe_deletes(local_stack, seeded.customers_gone) == dict.fromkeys(seeded.customers_gone, 1)
    # Released, the hold's items go with the next run; the subject's Stripe customer once.
    svc.retention_staff.release_hold(hold.id, "dpo-1", "Settled")
    assert svc.retention_run.run().outcome == "finished"
    assert wrong(places, seeded, held=False) == []
    assert stripe_deletes(local_stack, [seeded.held_customer]) == {seeded.held_customer: 1}


def test_two_runs_started_together_purge_each_item_once(
    svc: Services, seeded: Seeded, places: StackPlaces, local_stack: LocalStack, app_settings: dict[str, str]
) -> None:
    clock = svc.clock
    runs = [Services(svc.settings, clock).retention_run for _ in range(2)]
    reports: list[RunReport] = []
    start = threading.Barrier(2)

    def run(index: int) -> None:
        start.wait()
        reports.append(runs[index].run(trigger=f"test-{index}"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(r.outcome for r in reports)
    assert outcomes in (["finished", "skipped"], ["finished", "finished"])
    if outcomes == ["finished", "finished"]:  # the second took the lease after the first released it
        assert min(sum(r.purged for r in report.rules) for report in reports) == 0
    assert wrong(places, seeded, held=False) == []
    customers = [*seeded.customers_gone, seeded.held_customer]
    assert stripe_deletes(local_stack, customers) == dict.fromkeys(customers, 1)


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
