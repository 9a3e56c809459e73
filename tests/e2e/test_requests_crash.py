"""A worker killed in the middle of an erasure: after a restart the request completes, nothing twice.

This module runs its own stack so that no other host drains the queue while this one is dead.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from adapters.cosmos import CosmosDocumentStore, connect
from core.containers import database_spec
from devstack.demo_data import DemoPerson, seed_person
from devstack.devkeys import providers
from devstack.services import COSMOS_LOCAL_KEY, STRIPE_LOCAL_KEY, StackPorts
from devstack.stack import LocalStack

pytestmark = pytest.mark.e2e

ITEMS = 4000
LEASE_SECONDS = "3"  # how soon a dead worker's message is handed out again


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = LocalStack(StackPorts.free(), tmp_path_factory.mktemp("crash"), persistent=False, settings_file=None)
    stack.start_backends()
    yield stack
    stack.stop()


def request_doc(store: CosmosDocumentStore, request_id: str) -> dict[str, Any]:
    found = store.read("dsr-requests", request_id, request_id)
    assert found is not None
    return found.body


def wait_until(check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_killed_worker_resumes_and_repeats_no_third_party_call(crash_stack: LocalStack) -> None:
    env = {"LOCAL_HOST_QUEUE_LEASE_SECONDS": LEASE_SECONDS}
    host = crash_stack.start_functions_host(env)
    settings = crash_stack.app_settings()
    store = CosmosDocumentStore(
        connect(settings["COSMOS_ENDPOINT"], COSMOS_LOCAL_KEY, verify_tls=False), database_spec()
    )
    stripe_client = stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": crash_stack.stripe_url})
    person = DemoPerson(f"crash-{uuid.uuid4().hex[:8]}@example.com", "Casey Crash")
    seeded = seed_person(store, settings["SUBJECT_HASH_PEPPER"], person, navigation=ITEMS, stripe_client=stripe_client)
    staff = {
        "Authorization": f"Bearer {providers(crash_stack.state_dir / 'keys')[1].token('dpo', ['Privacy.Officer'])}"
    }

    with httpx.Client(base_url=crash_stack.functions_url, timeout=30) as api:
        api.post("/requests", json={"type": "erasure", "email": person.email}).raise_for_status()
        mails = httpx.get(f"{crash_stack.mail_url}/_mails", params={"to": person.email}).json()
        token = mails[-1]["content"][0]["value"].split("token=", 1)[1].split()[0]
        request_id = api.post("/requests/verify", json={"token": token}).json()["id"]
        api.post(f"/staff/requests/{request_id}/approve", headers=staff).raise_for_status()

        def navigation_running() -> bool:
            step = next(s for s in request_doc(store, request_id)["steps"] if s["name"] == "navigation-events")
            return bool(step["status"] == "running" and "found" in step["counts"])

        def left() -> int:
            query = "SELECT c.id FROM c WHERE c.userId = @u"
            return sum(1 for _ in store.query("navigation-events", seeded.user_id, query, {"@u": seeded.user_id}))

        wait_until(navigation_running)
        wait_until(lambda: left() < ITEMS - 300)  # part of the items are gone
        host.process.kill()  # SIGKILL: no chance to finish or release anything
        host.process.wait()
        crash_stack.running.remove(host)
        remaining = left()
        assert 0 < remaining < ITEMS, "the worker must die in the middle of the step"
        step = next(s for s in request_doc(store, request_id)["steps"] if s["name"] == "navigation-events")
        assert step["status"] == "running"

        crash_stack.start_functions_host(env)
        wait_until(lambda: request_doc(store, request_id)["status"] == "completed")
        done = request_doc(store, request_id)
        steps = {s["name"]: s for s in done["steps"]}
        assert steps["navigation-events"]["attempts"] == 2
        assert steps["navigation-events"]["counts"] == {"found": ITEMS, "deleted": ITEMS, "remaining": 0}
        assert steps["stripe-customer"]["attempts"] == 1
        certificate = api.get(f"/certificates/{request_id}").json()
        assert api.post("/certificates/verify", json=certificate).json()["valid"] is True

    calls = Path(crash_stack.log_dir / "stripe-calls.log").read_text().splitlines()
    deletes = [c for c in calls if c.startswith(f"DELETE /v1/customers/{seeded.stripe_customer_id} ")]
    assert len(deletes) == 1
