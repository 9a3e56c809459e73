"""A host killed in the middle of a breach-notice fan-out: after a restart every recipient gets
exactly one mail. This module runs its own stack so that no other host drains the queues."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devstack.devkeys import providers
from devstack.services import StackPorts
from devstack.stack import LocalStack
from tests.e2e.test_incidents_http import COMPLETE

pytestmark = pytest.mark.e2e

PEOPLE = 4500
ENV = {
    "LOCAL_HOST_QUEUE_LEASE_SECONDS": "3",  # how soon a dead worker's message is handed out again
    # Longer than the mail server's event retries (about 15 s): a batch that went out before the
    # kill is reported by its events before its grace period ends.
    "INCIDENT_UNCONFIRMED_GRACE_SECONDS": "25",
}


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = LocalStack(
        StackPorts.free(), tmp_path_factory.mktemp("incident-crash"), persistent=False, settings_file=None
    )
    stack.start_backends()
    yield stack
    stack.stop()


def wait_until(check: Callable[[], bool], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_killed_host_resumes_the_fan_out_and_everyone_gets_one_mail(crash_stack: LocalStack) -> None:
    host = crash_stack.start_functions_host(ENV)
    staff_idp = providers(crash_stack.state_dir / "keys")[1]
    author = {"Authorization": f"Bearer {staff_idp.token('sec-1', ['Privacy.Incident'])}"}
    approver = {"Authorization": f"Bearer {staff_idp.token('dpo-2', ['Privacy.Incident'])}"}
    mail = httpx.Client(base_url=crash_stack.mail_url, timeout=30)

    def sent_requests(notice_id: str) -> list[dict[str, Any]]:
        return [m for m in mail.get("/_mails").json() if m["custom_args"].get("mailing_id") == notice_id]

    with httpx.Client(base_url=crash_stack.functions_url, timeout=60) as api:
        aware = datetime.now(UTC) - timedelta(hours=1)
        incident = api.post(
            "/staff/incidents",
            headers=author,
            json={
                "title": "Crash drill",
                "awareAt": aware.isoformat(),
                "description": "A drill.",
                "breachTime": {"kind": "date", "at": aware.isoformat()},
                "contactPoint": "dpo@example.com",
            },
        ).json()
        incident_id = incident["id"]
        tag = uuid.uuid4().hex[:6]
        for start in range(0, PEOPLE, 1000):
            emails = [f"drill-{tag}-{n:05d}@example.com" for n in range(start, min(start + 1000, PEOPLE))]
            api.post(
                f"/staff/incidents/{incident_id}/recipients", json={"emails": emails}, headers=author
            ).raise_for_status()
        drafted = api.post(
            f"/staff/incidents/{incident_id}/notices", headers=author, json={"subject": "Drill", "content": COMPLETE}
        )
        notice_id = drafted.json()["notices"][0]["id"]
        api.post(f"/staff/incidents/{incident_id}/notices/{notice_id}/approve", headers=approver).raise_for_status()
        api.post(f"/staff/incidents/{incident_id}/notices/{notice_id}/send", headers=author).raise_for_status()

        wait_until(lambda: len(sent_requests(notice_id)) >= 2)  # part of the fan-out is done
        host.process.kill()  # SIGKILL: no chance to finish or record anything
        host.process.wait()
        crash_stack.running.remove(host)
        assert len(sent_requests(notice_id)) < 5, "the host must die in the middle of the fan-out"

        crash_stack.start_functions_host(ENV)

        def finished() -> bool:
            view = api.get(f"/staff/incidents/{incident_id}", headers=author).json()
            return bool(view["notices"][0]["status"] == "sent")

        wait_until(finished)
    addresses = [p["to"][0]["email"] for m in sent_requests(notice_id) for p in m["personalizations"]]
    assert len(addresses) == PEOPLE
    assert len(set(addresses)) == PEOPLE  # nobody twice, nobody missed
    assert len(sent_requests(notice_id)) == 5
