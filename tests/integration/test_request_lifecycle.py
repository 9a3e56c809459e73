"""Staff decisions, failures and the deadline clock of data-subject requests, against the local stack."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.stripe_payments import StripeLookupFailed
from bootstrap import Services
from core.containers import DSR_REQUESTS
from core.settings import Settings
from devstack.stack import LocalStack
from functions.requests.dispatch import StepMessage
from functions.requests.errors import AlreadyExtended, TooManyOpenRequests
from functions.requests.intake import Intake
from functions.requests.lifecycle import DASHBOARD, WEBSITE, RequestType, Status, StepStatus
from tests.fakes import MovableClock

pytestmark = pytest.mark.integration

STAFF_MAILBOX = "dpo-digest@example.com"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime.now(UTC))


@pytest.fixture
def svc(app_settings: dict[str, str], clock: MovableClock) -> Services:
    return Services(Settings({**app_settings, "DSR_STAFF_EMAIL": STAFF_MAILBOX}), clock=clock)


def mails(local_stack: LocalStack, to: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{local_stack.mail_url}/_mails", params={"to": to}).json()
    return found


def anonymous(svc: Services, kind: RequestType = RequestType.ERASURE) -> tuple[str, str]:
    email = f"life-{uuid.uuid4().hex[:10]}@example.com"
    request = svc.request_intake.submit(Intake(kind, email, "GDPR", False, WEBSITE))
    return request.id, email


def wait_for(svc: Services, request_id: str, status: Status, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while svc.request_staff.get(request_id).status != status:
        assert time.monotonic() < deadline, svc.request_staff.get(request_id).steps
        time.sleep(0.3)


def test_a_denial_tells_the_person_why_and_forgets_the_address(svc: Services, local_stack: LocalStack) -> None:
    request_id, email = anonymous(svc)
    denied = svc.request_staff.deny(request_id, "dpo-3", "We could not confirm the identity of the requester.")
    assert denied.status == Status.DENIED
    assert denied.email is None
    assert denied.decision is not None
    assert (denied.decision.reason or "").startswith("We could not confirm")
    (notice,) = [m for m in mails(local_stack, email) if m["subject"] == "Your privacy request"]
    assert "We could not confirm the identity" in notice["content"][0]["value"]
    assert "supervisory authority" in notice["content"][0]["value"]


def test_an_extension_moves_the_deadline_once_with_notice(svc: Services, local_stack: LocalStack) -> None:
    request_id, email = anonymous(svc, RequestType.ACCESS)
    before = svc.request_staff.get(request_id)
    extended = svc.request_staff.extend(request_id, "dpo-3", "The request covers several years of records.")
    assert extended.due_at == before.max_due_at
    assert extended.due_at > before.due_at + timedelta(days=55)
    assert any("take longer" in m["subject"] for m in mails(local_stack, email))
    with pytest.raises(AlreadyExtended):
        svc.request_staff.extend(request_id, "dpo-3", "again")


def test_unverified_requests_close_and_deadlines_reach_staff(
    svc: Services, clock: MovableClock, local_stack: LocalStack
) -> None:
    stale_id, _ = anonymous(svc)
    clock.moment += timedelta(days=13)
    svc.retention_run.run()
    assert svc.request_staff.get(stale_id).status == Status.AWAITING_VERIFICATION
    clock.moment += timedelta(days=2)  # past DSR_UNVERIFIED_CLOSE_DAYS: the retention purge closes it
    svc.retention_run.run()
    closed = svc.request_staff.get(stale_id)
    assert closed.status == Status.CLOSED_UNVERIFIED
    assert closed.email is None
    assert closed.verification_nonce is None

    waiting_id, _ = anonymous(svc)
    request = svc.request_staff.get(waiting_id)
    svc.documents.upsert(DSR_REQUESTS, {**request.to_document(), "status": "awaiting-approval"})
    clock.moment = request.due_at - timedelta(days=4)
    assert waiting_id in svc.deadline_review.run().near
    clock.moment += timedelta(days=5)
    assert waiting_id in svc.deadline_review.run().overdue
    digests = [m for m in mails(local_stack, STAFF_MAILBOX) if "overdue" in m["subject"]]
    assert any(waiting_id in m["content"][0]["value"] for m in digests)


def test_a_failing_step_is_recorded_and_staff_can_rerun_it(
    svc: Services, app_settings: dict[str, str], functions_url: str
) -> None:
    request_id, _ = anonymous(svc)
    request = svc.request_staff.get(request_id)
    svc.documents.upsert(
        DSR_REQUESTS, {**request.to_document(), "status": "in-progress", "verificationNonce": None, "run": 1}
    )
    broken = Services(Settings({**app_settings, "STRIPE_API_BASE": "http://127.0.0.1:9"}))  # nobody listens there
    with pytest.raises(StripeLookupFailed) as failure:
        broken.request_worker.run(StepMessage(request_id, "resolve-subject", 1), "message-1", final_attempt=True)
    failed = svc.request_staff.get(request_id)
    assert failed.status == Status.FAILED
    step = failed.step("resolve-subject")
    assert (step.status, step.error) == (StepStatus.FAILED, type(failure.value).__name__)
    assert "@" not in str(failure.value)

    svc.request_staff.retry(request_id, "dpo-3")  # the local host's worker picks the step up again
    wait_for(svc, request_id, Status.COMPLETED)
    done = svc.request_staff.get(request_id)
    assert done.certificate is not None
    assert done.step("resolve-subject").attempts == 2


def test_export_archives_are_deleted_after_their_retention(
    svc: Services, clock: MovableClock, app_settings: dict[str, str], functions_url: str
) -> None:
    from azure.storage.blob import BlobServiceClient

    email = f"archive-{uuid.uuid4().hex[:8]}@example.com"
    intake = Intake(RequestType.ACCESS, email, "GDPR", False, DASHBOARD, user_id=f"u-{uuid.uuid4().hex}")
    request = svc.request_intake.submit(intake)
    wait_for(svc, request.id, Status.COMPLETED)  # the local host's worker exports it
    blob_name = svc.request_staff.get(request.id).archive_blob
    assert blob_name
    blob = BlobServiceClient.from_connection_string(app_settings["AzureWebJobsStorage"]).get_blob_client(
        "exports", blob_name
    )
    assert blob.exists()
    assert blob.get_blob_tags() == {"legalHold": "none"}  # the storage lifecycle rule may delete it too
    clock.moment += timedelta(days=6)
    svc.retention_run.run()
    assert blob.exists()
    clock.moment += timedelta(days=2)
    report = svc.retention_run.run()
    assert not blob.exists()
    done = svc.request_staff.get(request.id)
    assert done.archive_blob is None
    assert [entry.action for entry in done.log][-1] == "archive-deleted"
    assert next(r for r in report.rules if r.rule == "export-archives").purged >= 1


def test_an_unverified_request_by_someone_else_cannot_hold_back_a_verified_one(svc: Services) -> None:
    request_id, email = anonymous(svc)  # filed through the public form, never confirmed
    user_id = f"u-{uuid.uuid4().hex}"
    joined = svc.request_intake.submit(Intake(RequestType.ERASURE, email, "GDPR", False, DASHBOARD, user_id=user_id))
    assert joined.id == request_id
    assert joined.status == Status.AWAITING_APPROVAL  # verified by the token, now waiting for staff
    assert joined.verified_at is not None
    assert joined.user_id == user_id


def test_the_resend_limit_lasts_one_link_lifetime_only(svc: Services, clock: MovableClock) -> None:
    request_id, email = anonymous(svc, RequestType.ACCESS)
    for _ in range(2):
        svc.request_intake.submit(Intake(RequestType.ACCESS, email, "GDPR", False, WEBSITE))
    with pytest.raises(TooManyOpenRequests):
        svc.request_intake.submit(Intake(RequestType.ACCESS, email, "GDPR", False, WEBSITE))
    clock.moment += timedelta(hours=25)  # the links sent so far have expired
    assert svc.request_intake.submit(Intake(RequestType.ACCESS, email, "GDPR", False, WEBSITE)).id == request_id


def test_staff_pages_through_requests_with_the_stores_continuation_tokens(svc: Services) -> None:
    from functions.requests.repository import StaffSearch

    ids = {anonymous(svc, RequestType.ACCESS)[0] for _ in range(5)}
    seen: list[str] = []
    continuation = None
    for _ in range(50):
        page, continuation = svc.request_staff.search(StaffSearch(status=Status.AWAITING_VERIFICATION), 2, continuation)
        assert len(page) <= 2
        seen += [r.id for r in page]
        if continuation is None:
            break
    assert ids <= set(seen)
    assert len(seen) == len(set(seen))
