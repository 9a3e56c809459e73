"""The retention purge run by the local Functions host, killed half-way (SIGKILL) while it deletes
Stripe customers or SendGrid contacts, then run again: every expired item goes, nothing young goes,
no customer is deleted twice, no marketing contact twice (counted in DELETE calls at the mail server,
which meanwhile still finds deleted contacts, as SendGrid does); and two runs started at once purge
each item once.

This module runs its own stack so that no other test's data or host takes part.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe

from bootstrap import Services
from core.containers import PROFILES
from core.models import utc_text
from core.pseudonyms import keyed_hash
from core.settings import Settings
from devstack.devkeys import providers
from devstack.services import SENDGRID_LOCAL_KEY, STRIPE_LOCAL_KEY, Service, StackPorts
from devstack.stack import LocalStack
from functions.inventory.kinds.sendgrid import DELETION, IN_FLIGHT_FOR, REVISIT
from tests.retention_cases import Seeded, Seeder
from tests.retention_checks import (
    StackPlaces,
    contact_deletes,
    restart_withdrawal_window,
    sendgrid_deletes_slowly,
    stripe_deletes,
    wrong,
)

pytestmark = pytest.mark.e2e

CLOSED_ACCOUNTS = 120  # enough Stripe deletions for the host to be killed among them
LEASE_SECONDS = 30  # the shortest the app accepts: a dead run's lease may be taken over this much later
HOST_ENV = {"RETENTION_LEASE_SECONDS": str(LEASE_SECONDS)}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = LocalStack(StackPorts.free(), tmp_path_factory.mktemp("retention"), persistent=False, settings_file=None)
    stack.start_backends()
    yield stack
    stack.stop()


@dataclass
class Expired:
    seeded: Seeded  # both sides of every cutoff
    customers: list[str]  # Stripe customers of accounts closed long ago: each deleted exactly once
    contacts: list[str]  # their marketing contacts: each deleted exactly once


def wait_until(check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def seed(stack: LocalStack, svc: Services) -> Expired:
    stripe_client = stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": stack.stripe_url})
    sendgrid = httpx.Client(base_url=stack.mail_url, headers={"Authorization": f"Bearer {SENDGRID_LOCAL_KEY}"})

    def new_customer(email: str) -> str:
        return str(stripe_client.v1.customers.create(params={"email": email}).id)

    def new_contact(email: str) -> None:
        sendgrid.put("/v3/marketing/contacts", json={"contacts": [{"email": email}]}).raise_for_status()

    pepper = svc.settings.get("SUBJECT_HASH_PEPPER")
    now = datetime.now(UTC)
    seeder = Seeder(svc.documents, svc.ledger, svc.archives, pepper, new_customer, new_contact, svc.cookie_max_age, now)
    seeded = seeder.seed()
    expired = Expired(seeded, [*seeded.customers_gone, seeded.held_customer], [seeded.held_email])
    closed = utc_text(now - timedelta(days=45))
    for _ in range(CLOSED_ACCOUNTS):
        user, email = f"usr_{uuid.uuid4().hex[:12]}", f"gone-{uuid.uuid4().hex[:10]}@example.com"
        customer = new_customer(email)
        new_contact(email)
        svc.documents.upsert(
            PROFILES,
            {
                "id": user,
                "userId": user,
                "email": email,
                "emailHash": keyed_hash(pepper, email),
                "stripeCustomerId": customer,
                "closedAt": closed,
            },
        )
        expired.customers.append(customer)
        expired.contacts.append(email)
    sendgrid.close()
    return expired


class Api:
    def __init__(self, stack: LocalStack) -> None:
        staff = providers(stack.state_dir / "keys")[1].token("dpo", ["Privacy.Officer"])
        self.client = httpx.Client(base_url=stack.functions_url, timeout=30)
        self.staff = {"Authorization": f"Bearer {staff}"}
        self.master = {"x-functions-key": stack.master_key, "Content-Type": "application/json"}
        self.admin = f"http://127.0.0.1:{stack.ports.functions}/admin/functions/retention_purge"

    def start_run(self) -> None:
        assert httpx.post(self.admin, headers=self.master, content=b"{}").status_code == 202

    def reports(self) -> list[dict[str, Any]]:
        answer = self.client.get("/staff/retention/runs", params={"limit": 20}, headers=self.staff)
        answer.raise_for_status()
        runs: list[dict[str, Any]] = answer.json()["runs"]
        return runs


def running_host(stack: LocalStack) -> Service:
    """The module's Functions host, started if no test left one running."""
    running = [service for service in stack.running if service.name == "functions" and service.is_running()]
    return running[0] if running else stack.start_functions_host(HOST_ENV)


def kill(stack: LocalStack, host: Service) -> None:
    host.process.kill()  # SIGKILL: no chance to finish a call, save a cursor or release the lease
    host.process.wait()
    stack.running.remove(host)


def unconfirmed_deletions(svc: Services, emails: list[str]) -> list[dict[str, Any]]:
    """The profiles of these addresses whose contact deletion was marked and never confirmed."""
    wanted = set(emails)
    profiles = svc.documents.query_across_partitions(PROFILES, "SELECT * FROM c", {})
    return [
        p
        for p in profiles
        if p.get("email") in wanted and isinstance(p.get(DELETION), dict) and not p[DELETION].get("doneAt")
    ]


def age_marks(svc: Services, profiles: list[dict[str, Any]]) -> None:
    """As if IN_FLIGHT_FOR had passed since the marks were made (the host's clock cannot be moved)."""
    then = utc_text(datetime.now(UTC) - IN_FLIGHT_FOR - timedelta(minutes=5))
    for profile in profiles:
        aged = {**profile, DELETION: {**profile[DELETION], "askedAt": then}}
        svc.documents.upsert(PROFILES, aged | ({REVISIT: then} if REVISIT in profile else {}))  # due again now


@pytest.mark.parametrize("killed_among", ["stripe", "sendgrid"])
def test_a_run_killed_half_way_finishes_on_the_next_run_with_nothing_twice_and_nothing_missed(
    stack: LocalStack, killed_among: str
) -> None:
    svc = Services(Settings(stack.app_settings()))
    restart_withdrawal_window(svc)
    expired = seed(stack, svc)
    contacts = [*expired.contacts, *expired.seeded.contacts_gone]
    host = running_host(stack)
    api = Api(stack)
    before = {r["id"] for r in api.reports()}

    def deleted() -> int:
        if killed_among == "stripe":
            return sum(stripe_deletes(stack, expired.customers).values())
        return sum(contact_deletes(stack, expired.contacts).values())

    with sendgrid_deletes_slowly(stack):  # as at SendGrid: the dead run's last deletions are still found
        api.start_run()
        wait_until(lambda: 30 <= deleted() < CLOSED_ACCOUNTS - 30)
        kill(stack, host)  # the host dies among the deletions: maybe between a mark and its call
        assert 0 < deleted() < CLOSED_ACCOUNTS, "the host must die in the middle of the deletions"
        stack.start_functions_host(HOST_ENV)
        time.sleep(LEASE_SECONDS + 0.5)  # the dead run's lease runs out
        api.start_run()
        wait_until(lambda: any(r["outcome"] == "finished" for r in api.reports() if r["id"] not in before))
    reports = {r["outcome"]: r for r in api.reports() if r["id"] not in before}
    assert set(reports) == {"interrupted", "finished"}, list(reports)
    assert all(rule["finished"] and not rule["errors"] for rule in reports["finished"]["rules"])
    # Killed between a mark and its call, a deletion is in flight: left alone for IN_FLIGHT_FOR
    # (SendGrid may be at it), then asked for. Its mark is made that old, and one more run asks.
    in_flight = unconfirmed_deletions(svc, [e for e, n in contact_deletes(stack, contacts).items() if n == 0])
    assert len(in_flight) <= 1, "one call at a time: at most one deletion is in flight"
    if in_flight:
        finished = {r["id"] for r in api.reports()}
        age_marks(svc, in_flight)
        api.start_run()
        wait_until(lambda: any(r["outcome"] == "finished" for r in api.reports() if r["id"] not in finished))

    assert stripe_deletes(stack, expired.customers) == dict.fromkeys(expired.customers, 1)
    assert contact_deletes(stack, contacts) == dict.fromkeys(contacts, 1)  # DELETE calls at the server
    assert wrong(StackPlaces(svc, stack), expired.seeded, held=False) == []


def test_two_runs_started_together_purge_each_item_once(stack: LocalStack) -> None:
    svc = Services(Settings(stack.app_settings()))
    restart_withdrawal_window(svc)
    expired = seed(stack, svc)
    contacts = [*expired.contacts, *expired.seeded.contacts_gone]
    running_host(stack)
    api = Api(stack)
    before = {r["id"] for r in api.reports()}
    with sendgrid_deletes_slowly(stack):
        api.start_run()
        api.start_run()  # a second run while the first one works: it finds the lease taken and skips
        wait_until(lambda: len([r for r in api.reports() if r["id"] not in before and r["outcome"] != "running"]) == 2)
    outcomes = sorted(r["outcome"] for r in api.reports() if r["id"] not in before)
    assert outcomes == ["finished", "skipped"]
    assert stripe_deletes(stack, expired.customers) == dict.fromkeys(expired.customers, 1)
    assert contact_deletes(stack, contacts) == dict.fromkeys(contacts, 1)
    assert wrong(StackPlaces(svc, stack), expired.seeded, held=False) == []
