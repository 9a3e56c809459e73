"""Staff decisions, failures and the deadline clock of data-subject requests, against the local stack."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.stripe_payments import StripeLookupFailed
from bootstrap import Services
from core.containers import DSR_REQUESTS
from core.problems import Problem
from core.settings import Settings
from devstack.stack import LocalStack
from functions.requests.model import Intake

pytestmark = pytest.mark.integration

STAFF_MAILBOX = "dpo-digest@example.com"


@dataclass
class MovableClock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime.now(UTC))


@pytest.fixture
def svc(app_settings: dict[str, str], clock: MovableClock) -> Services:
    return Services(Settings({**app_settings, "DSR_STAFF_EMAIL": STAFF_MAILBOX}), clock=clock)


def mails(local_stack: LocalStack, to: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{local_stack.mail_url}/_mails", params={"to": to}).json()
    return found


def anonymous(svc: Services, kind: str = "erasure") -> tuple[str, str]:
    email = f"life-{uuid.uuid4().hex[:10]}@example.com"
    request = svc.requests.submit(Intake(kind, email, "GDPR", False, "website"))
    return request.id, email


def test_a_denial_tells_the_person_why_and_forgets_the_address(svc: Services, local_stack: LocalStack) -> None:
    request_id, email = anonymous(svc)
    denied = svc.requests.deny(request_id, "dpo-3", "We could not confirm the identity of the requester.")
    assert denied.status == "denied"
    assert denied.email is None
    assert denied.decision is not None
    assert denied.decision["reason"].startswith("We could not confirm")
    (notice,) = [m for m in mails(local_stack, email) if m["subject"] == "Your privacy request"]
    assert "We could not confirm the identity" in notice["content"][0]["value"]
    assert "supervisory authority" in notice["content"][0]["value"]


def test_an_extension_moves_the_deadline_once_with_notice(svc: Services, local_stack: LocalStack) -> None:
    request_id, email = anonymous(svc, "access")
    before = svc.requests.require(request_id)
    extended = svc.requests.extend(request_id, "dpo-3", "The request covers several years of records.")
    assert extended.due_at == before.max_due_at
    assert datetime.fromisoformat(extended.due_at) > datetime.fromisoformat(before.due_at) + timedelta(days=55)
    assert any("take longer" in m["subject"] for m in mails(local_stack, email))
    with pytest.raises(Problem) as again:
        svc.requests.extend(request_id, "dpo-3", "again")
    assert again.value.status == 409


def test_unverified_requests_close_and_deadlines_reach_staff(
    svc: Services, clock: MovableClock, local_stack: LocalStack
) -> None:
    stale_id, _ = anonymous(svc)
    clock.moment += timedelta(days=15)
    result = svc.requests.review_deadlines()
    assert stale_id in result["closed"]
    closed = svc.requests.require(stale_id)
    assert closed.status == "closed-unverified"
    assert closed.email is None

    waiting_id, _ = anonymous(svc)
    request = svc.requests.require(waiting_id)
    svc.documents.upsert(DSR_REQUESTS, {**request.to_document(), "status": "awaiting-approval"})
    clock.moment += timedelta(days=27)  # due in about 4 days
    assert waiting_id in svc.requests.review_deadlines()["near"]
    clock.moment += timedelta(days=5)
    assert waiting_id in svc.requests.review_deadlines()["overdue"]
    digests = [m for m in mails(local_stack, STAFF_MAILBOX) if "overdue" in m["subject"]]
    assert any(waiting_id in m["content"][0]["value"] for m in digests)


def test_a_failing_step_is_recorded_and_staff_can_rerun_it(
    svc: Services, app_settings: dict[str, str], functions_url: str
) -> None:
    request_id, _ = anonymous(svc)
    request = svc.requests.require(request_id)
    svc.documents.upsert(DSR_REQUESTS, {**request.to_document(), "status": "in-progress", "verificationNonce": None})
    broken = Services(Settings({**app_settings, "STRIPE_API_BASE": "http://127.0.0.1:9"}))  # nobody listens there
    with pytest.raises(StripeLookupFailed) as failure:
        broken.requests.run(request_id, "resolve-subject", final_attempt=True)
    failed = svc.requests.require(request_id)
    assert failed.status == "failed"
    assert failed.step("resolve-subject").error == type(failure.value).__name__
    assert "@" not in str(failure.value)

    svc.requests.retry(request_id, "dpo-3")  # the local host's worker picks the step up again
    deadline = time.monotonic() + 60
    while svc.requests.require(request_id).status != "completed":
        assert time.monotonic() < deadline, svc.requests.require(request_id).steps
        time.sleep(0.3)
    done = svc.requests.require(request_id)
    assert done.certificate is not None
    assert done.step("resolve-subject").attempts == 2


def test_export_archives_are_deleted_after_their_retention(
    svc: Services, clock: MovableClock, app_settings: dict[str, str], functions_url: str
) -> None:
    from azure.storage.blob import BlobServiceClient

    email = f"archive-{uuid.uuid4().hex[:8]}@example.com"
    request = svc.requests.submit(Intake("access", email, "GDPR", False, "dashboard", user_id=f"u-{uuid.uuid4().hex}"))
    deadline = time.monotonic() + 60
    while svc.requests.require(request.id).status != "completed":  # the local host's worker exports it
        assert time.monotonic() < deadline
        time.sleep(0.3)
    blob_name = svc.requests.require(request.id).archive_blob
    assert blob_name
    blob = BlobServiceClient.from_connection_string(app_settings["AzureWebJobsStorage"]).get_blob_client(
        "exports", blob_name
    )
    assert blob.exists()
    clock.moment += timedelta(days=6)
    assert request.id not in svc.requests.review_deadlines()["archivesDeleted"]
    clock.moment += timedelta(days=2)
    assert request.id in svc.requests.review_deadlines()["archivesDeleted"]
    assert not blob.exists()
    assert svc.requests.require(request.id).archive_blob is None


def test_an_unverified_request_by_someone_else_cannot_hold_back_a_verified_one(svc: Services) -> None:
    request_id, email = anonymous(svc)  # filed through the public form, never confirmed
    user_id = f"u-{uuid.uuid4().hex}"
    joined = svc.requests.submit(Intake("erasure", email, "GDPR", False, "dashboard", user_id=user_id))
    assert joined.id == request_id
    assert joined.status == "awaiting-approval"  # verified by the token, now waiting for staff
    assert joined.verified_at is not None
    assert joined.user_id == user_id


def test_the_resend_limit_lasts_one_link_lifetime_only(svc: Services, clock: MovableClock) -> None:
    request_id, email = anonymous(svc, "access")
    for _ in range(2):
        svc.requests.submit(Intake("access", email, "GDPR", False, "website"))
    with pytest.raises(Problem) as limited:
        svc.requests.submit(Intake("access", email, "GDPR", False, "website"))
    assert limited.value.status == 429
    clock.moment += timedelta(hours=25)  # the links sent so far have expired
    assert svc.requests.submit(Intake("access", email, "GDPR", False, "website")).id == request_id
