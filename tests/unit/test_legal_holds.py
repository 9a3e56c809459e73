"""Legal holds (GDPR Art. 17(3)(e)) over in-memory fakes: placed once however often staff press, what
they keep from the purge and from erasures, what happens when they end, and the digest's warning."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError

from core.containers import AUDIT, DSR_REQUESTS
from core.pseudonyms import keyed_hash
from devstack.demo_data import DemoPerson, seed_person
from functions.audit.models import AuditQueryParams
from functions.requests.dispatch import StepMessage
from functions.requests.intake import Intake
from functions.requests.lifecycle import STEPS_QUEUE, WEBSITE, RequestType, Status, StepStatus
from functions.requests.models import StaffRequestQuery
from functions.requests.request_record import DsrRequest
from functions.retention.errors import HoldEndInPast, HoldNotInForce, HoldTargetNotFound
from functions.retention.models import PlaceHoldRequest
from functions.retention.staff import HoldTarget
from tests.unit.retention_world import PEPPER, RetentionWorld, retention_world

TOKEN = re.compile(r"token=(\S+)")


@pytest.fixture
def world() -> RetentionWorld:
    return retention_world()


def drain(world: RetentionWorld) -> None:
    worker = world.services.request_worker
    for _ in range(200):
        message = world.queue.take(STEPS_QUEUE)
        if message is None:
            return
        parsed = StepMessage.parse(json.dumps(message.body).encode())
        assert parsed is not None
        worker.run(parsed, message.id, final_attempt=True)
    raise AssertionError("the step messages never stop")


def person(world: RetentionWorld, email: str = "erin@example.com") -> DemoPerson:
    someone = DemoPerson(email, "Erin Example")
    seed_person(world.store, PEPPER, someone, navigation=3)
    world.payments.customers["cus_erin"] = email
    world.contacts.contacts[email] = "contact-erin"
    profile = next(p for p in world.store.all("profiles") if p["userId"] == someone.user_id)
    world.store.upsert("profiles", {**profile, "stripeCustomerId": "cus_erin"})
    return someone


def verified_erasure(world: RetentionWorld, email: str) -> DsrRequest:
    intake = world.services.request_intake
    intake.submit(Intake(RequestType.ERASURE, email, "GDPR", False, WEBSITE))
    match = TOKEN.search(world.mailer.to(email, "Confirm")[-1].text)
    assert match
    return intake.verify(match.group(1))


def hold(world: RetentionWorld, target: HoldTarget, reason: str = "Litigation 2027-3", **kw: object) -> str:
    placed, _ = world.services.retention_staff.place_hold(target, reason, kw.get("ends_at"), "dpo-1")  # type: ignore[arg-type]
    return placed.id


def test_the_same_hold_asked_for_twice_is_one_hold_and_a_new_one_after_release_is_another(
    world: RetentionWorld,
) -> None:
    staff = world.services.retention_staff
    target = HoldTarget("subject", user_id="usr_case")
    first, created = staff.place_hold(target, "Litigation 2027-3", None, "dpo-1")
    again, created_again = staff.place_hold(target, "Litigation 2027-3", None, "dpo-2")
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert len(staff.holds(in_force=True)) == 1
    released, _ = staff.release_hold(first.id, "dpo-1", "Settled")
    assert released.status(world.clock.now()) == "released"
    with pytest.raises(HoldNotInForce):
        staff.release_hold(first.id, "dpo-2", "Settled")  # a second click changes nothing
    renewed, created_renewed = staff.place_hold(target, "Litigation 2027-3", None, "dpo-1")
    assert created_renewed
    assert renewed.id != first.id


def test_a_hold_names_an_existing_request_and_an_end_in_the_future(world: RetentionWorld) -> None:
    staff = world.services.retention_staff
    with pytest.raises(HoldTargetNotFound):
        staff.place_hold(HoldTarget("request", request_id="0f8c2b9e-4d1a-4c3e-9b7a-2f6d5e4c3b2a"), "x" * 5, None, "d")
    with pytest.raises(HoldEndInPast):
        staff.place_hold(HoldTarget("subject", user_id="u1"), "Case", world.clock.now() - timedelta(days=1), "d")


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (PlaceHoldRequest, {"subject": {"userId": "u1"}, "reason": "Overflow", "endsAt": "9999-12-31T23:59:59-01:00"}),
        (PlaceHoldRequest, {"subject": {"userId": "u1"}, "reason": "Underflow", "endsAt": "0001-01-01T00:00:00+01:00"}),
    ],
)
def test_a_time_outside_the_years_utc_can_hold_is_a_validation_error_not_a_crash(
    model: type[BaseModel], data: dict[str, object]
) -> None:
    """The shared UTC types turn a time that overflows on conversion (year 10000 or year 0 in UTC)
    into a ValueError, which the edge answers as a 422 problem (never a 500)."""
    with pytest.raises(ValidationError, match="between the years 1 and 9999"):
        model.model_validate(data, strict=False)


def test_a_query_bound_past_the_years_utc_can_hold_is_the_end_of_time() -> None:
    """A filter's bound is no stored time: beyond year 9999 in UTC it means "no bound", not a crash."""
    end_of_time = datetime.max.replace(tzinfo=UTC)
    assert StaffRequestQuery.model_validate({"dueBefore": "9999-12-31T23:59:59-01:00"}).due_before == end_of_time
    assert AuditQueryParams.model_validate({"since": "9999-12-31T23:59:59-01:00"}).since == end_of_time


def test_a_hold_by_address_covers_the_user_and_stores_no_address(world: RetentionWorld) -> None:
    someone = person(world)
    placed = hold(world, HoldTarget("subject", email="Erin@Example.com"))
    stored = world.store.all("legal-holds")
    assert someone.email not in json.dumps(stored).lower()
    (held,) = world.services.legal_holds.in_force().holds
    assert held.id == placed
    assert held.user_id == someone.user_id
    assert held.subject_key is not None


def test_an_erasure_keeps_what_a_hold_covers_says_why_and_finishes_when_the_hold_is_released(
    world: RetentionWorld,
) -> None:
    someone = person(world)
    placed = hold(world, HoldTarget("subject", user_id=someone.user_id), "Litigation 2027-3: keep all records")
    request = verified_erasure(world, someone.email)
    plan = world.services.request_staff.erasure_plan(request.id)
    assert {entry.action for entry in plan.entries} == {"retain"}
    assert all("Litigation 2027-3" in entry.reason and "17(3)(e)" in entry.reason for entry in plan.entries)
    assert "audit-trail" not in {entry.location for entry in plan.entries}  # not a place requests look in
    world.services.request_staff.approve(request.id, "dpo-1")
    drain(world)
    done = world.services.request_staff.get(request.id)
    assert done.status == Status.COMPLETED
    assert done.awaiting_holds == [placed]
    assert done.step("navigation-events").counts == {"retainedUnderHold": 3}
    assert world.payments.deletes == []
    assert world.contacts.deletes == []
    assert len([i for i in world.store.all("navigation-events") if i["userId"] == someone.user_id]) == 3
    assert done.email == someone.email  # part of what is held, and needed to finish the erasure later
    (erased,) = world.mailer.to(someone.email, "erased")
    assert "legal claims (GDPR Art. 17(3)(e))" in erased.text
    assert "Litigation" not in erased.text  # staff's reason is not the person's business
    first_certificate = done.certificate
    _, resumed = world.services.retention_staff.release_hold(placed, "dpo-1", "Case settled")
    assert resumed == [request.id]
    drain(world)
    finished = world.services.request_staff.get(request.id)
    assert finished.status == Status.COMPLETED
    assert finished.awaiting_holds == []
    assert finished.step("navigation-events").counts == {"found": 3, "deleted": 3, "remaining": 0}
    assert world.payments.deletes == [("cus_erin", f"erasure-{request.id}-cus_erin")]
    assert world.contacts.deletes == ["contact-erin"]
    assert finished.email is None
    assert finished.certificate is not None
    assert finished.certificate != first_certificate
    # Pressing release again, or the next purge run following the hold up, resumes nothing twice.
    assert world.services.retention_run.run().holds_followed_up == 0
    assert len(world.payments.deletes) == 1


def test_a_hold_that_reaches_its_end_date_is_followed_up_by_the_next_purge(world: RetentionWorld) -> None:
    someone = person(world)
    ends = world.clock.now() + timedelta(days=10)
    placed = hold(world, HoldTarget("subject", user_id=someone.user_id), ends_at=ends)
    request = verified_erasure(world, someone.email)
    world.services.request_staff.approve(request.id, "dpo-1")
    drain(world)
    assert world.services.request_staff.get(request.id).awaiting_holds == [placed]
    world.clock.advance(days=11)
    report = world.services.retention_run.run()
    assert report.holds_followed_up == 1
    drain(world)
    assert world.services.request_staff.get(request.id).awaiting_holds == []
    assert world.payments.deletes == [("cus_erin", f"erasure-{request.id}-cus_erin")]


def test_archives_a_hold_covers_are_tagged_held_and_freed_when_it_ends(world: RetentionWorld) -> None:
    someone = person(world)
    intake = world.services.request_intake
    intake.submit(Intake(RequestType.ACCESS, someone.email, "GDPR", False, WEBSITE))
    match = TOKEN.search(world.mailer.to(someone.email, "Confirm")[-1].text)
    assert match
    access = intake.verify(match.group(1))
    drain(world)
    (archive,) = world.archives.archives
    assert archive not in world.archives.held
    placed = hold(world, HoldTarget("request", request_id=access.id), "Complaint to the authority")
    assert archive in world.archives.held
    world.clock.advance(days=30)
    report = world.services.retention_run.run()
    by_rule = {r.rule: r for r in report.rules}
    assert archive in world.archives.archives  # the purge leaves the held archive
    assert by_rule["export-archives"].held == 1
    world.services.retention_staff.release_hold(placed, "dpo-1", "Closed")
    assert archive not in world.archives.held
    world.services.retention_run.run()
    assert archive not in world.archives.archives


def test_a_held_request_keeps_its_address_when_another_erasure_of_the_person_runs(world: RetentionWorld) -> None:
    someone = person(world)
    old = world.services.request_intake.submit(Intake(RequestType.ACCESS, someone.email, "GDPR", False, WEBSITE))
    world.services.request_staff.deny(old.id, "dpo-1", "Not confirmed in time.")
    world.store.upsert(DSR_REQUESTS, {**world.services.request_staff.get(old.id).to_document(), "email": someone.email})
    hold(world, HoldTarget("request", request_id=old.id), "Complaint about this answer")
    request = verified_erasure(world, someone.email)
    world.services.request_staff.approve(request.id, "dpo-1")
    drain(world)
    assert world.services.request_staff.get(request.id).step("request-records").counts == {"emailsRemoved": 0}
    assert world.services.request_staff.get(old.id).email == someone.email


def test_the_staff_digest_names_holds_nearing_their_end(world: RetentionWorld) -> None:
    soon = hold(world, HoldTarget("subject", user_id="usr_a"), ends_at=world.clock.now() + timedelta(days=5))
    later = hold(world, HoldTarget("subject", user_id="usr_b"), ends_at=world.clock.now() + timedelta(days=60))
    result = world.services.deadline_review.run()
    assert [h.id for h in result.holds_ending] == [soon]
    (digest,) = world.mailer.to("dpo@example.test")
    assert soon in digest.text
    assert later not in digest.text
    assert "Legal holds ending soon" in digest.text


def test_an_erasure_with_a_step_running_when_its_hold_ends_is_resumed_by_the_next_run(world: RetentionWorld) -> None:
    someone = person(world)
    placed = hold(world, HoldTarget("subject", user_id=someone.user_id))
    request = verified_erasure(world, someone.email)
    world.services.request_staff.approve(request.id, "dpo-1")
    drain(world)

    def running(r: DsrRequest) -> None:  # a worker holds a step of it right now (a retry by staff, say)
        step = r.step("navigation-events")
        step.status, step.claimed_by, step.claimed_at = StepStatus.RUNNING, "message-1", world.clock.now()

    world.services.request_parts.requests.change(request.id, running)
    _, resumed = world.services.retention_staff.release_hold(placed, "dpo-1", "Settled")
    assert resumed == []
    assert world.services.legal_holds.require(placed).followed_up is False
    world.clock.advance(minutes=11)  # the step's lease has run out: its worker is gone
    assert world.services.retention_run.run().holds_followed_up == 1
    drain(world)
    assert world.services.request_staff.get(request.id).awaiting_holds == []
    assert world.services.legal_holds.require(placed).followed_up is True
    assert world.payments.deletes == [("cus_erin", f"erasure-{request.id}-cus_erin")]


def audit_record(world: RetentionWorld, target: str, age: timedelta) -> str:
    at = world.clock.now() - age
    record_id = uuid.uuid4().hex
    record = {"id": record_id, "month": at.strftime("%Y-%m"), "at": at.isoformat(), "actor": "dpo-1"}
    world.store.create(AUDIT, {**record, "action": "request.read", "target": target, "details": {}})
    return record_id


def test_audit_records_of_a_held_subjects_requests_and_of_a_long_hold_stay_while_it_is_in_force(
    world: RetentionWorld,
) -> None:
    """The audit trail's three years end for everything but what a hold covers: the requests of a
    subject held by address or user id (their records stay, so does who read them) and the records
    of the hold itself, however long it has been in force."""
    someone = person(world)
    by_address = world.services.request_intake.submit(Intake(RequestType.ACCESS, someone.email, "GDPR", False, WEBSITE))
    placed = hold(world, HoldTarget("subject", email=someone.email))
    four_years = timedelta(days=4 * 365)
    kept = {
        audit_record(world, f"dsr:{by_address.id}", four_years),
        audit_record(world, f"hold:{placed}", four_years),
    }
    gone = audit_record(world, "dsr:someone-else", four_years)
    world.services.retention_run.run()
    remaining = {record["id"] for record in world.store.all(AUDIT)}
    assert kept <= remaining
    assert gone not in remaining
    world.services.retention_staff.release_hold(placed, "dpo-1", "Settled")
    world.services.retention_run.run()
    assert not kept & {record["id"] for record in world.store.all(AUDIT)}


def profile_without_hash(world: RetentionWorld, user_id: str, email: str, closed_days_ago: int) -> str:
    """A profile as the README tells product backends to write it: no emailHash, the address as typed."""
    customer = world.new_customer(email.lower())
    closed = (world.clock.now() - timedelta(days=closed_days_ago)).isoformat()
    profile = {"id": user_id, "userId": user_id, "email": email, "stripeCustomerId": customer, "closedAt": closed}
    world.store.upsert("profiles", profile)
    return customer


def test_a_hold_by_address_finds_a_profile_without_email_hash_and_keeps_the_account(world: RetentionWorld) -> None:
    held_customer = profile_without_hash(world, "usr_held", "Held.Person@Example.com", closed_days_ago=90)
    free_customer = profile_without_hash(world, "usr_free", "free@example.com", closed_days_ago=90)
    hold(world, HoldTarget("subject", email="held.person@example.com"))
    (held,) = world.services.legal_holds.in_force().holds
    assert held.user_id == "usr_held"
    world.services.retention_run.run()
    profiles = {p["userId"] for p in world.store.all("profiles")}
    assert "usr_held" in profiles
    assert held_customer in world.payments.customers
    # Without emailHash the hold clause is still true, so the free account is purged (Cosmos drops a row
    # where NOT ARRAY_CONTAINS meets an undefined field, and so does the fake).
    assert "usr_free" not in profiles
    assert free_customer not in world.payments.customers


def test_a_hold_by_user_id_takes_the_address_key_from_a_profile_without_email_hash(world: RetentionWorld) -> None:
    profile_without_hash(world, "usr_held", "Held.Person@Example.com", closed_days_ago=1)
    hold(world, HoldTarget("subject", user_id="usr_held"))
    (held,) = world.services.legal_holds.in_force().holds
    assert held.subject_key == keyed_hash(PEPPER, "held.person@example.com")


def test_a_request_by_address_finds_a_profile_without_email_hash(world: RetentionWorld) -> None:
    """The same lookup as holds: requests and holds find a person however the product stores them."""
    profile_without_hash(world, "usr_asks", "Asks.Person@Example.com", closed_days_ago=1)
    request = verified_erasure(world, "asks.person@example.com")
    assert world.services.request_staff.erasure_plan(request.id).resolved.user_id == "usr_asks"


def expired_items(world: RetentionWorld, user_id: str) -> dict[str, str]:
    """One item past its period in each product location (and a push token due to be cleared)."""
    now, items = world.clock.now(), {}
    for container, fields in (
        ("language-data", {"at": now - timedelta(days=400), "text": "hello"}),
        ("devices", {"lastSeenAt": now - timedelta(days=300)}),
        (
            "devices.invalid-push-tokens",
            {"lastSeenAt": now, "pushToken": "t", "pushTokenInvalidAt": now - timedelta(days=2)},
        ),
        ("orders", {"issuedAt": now - timedelta(days=365 * 10), "billingName": "Erin Example"}),
    ):
        item_id = uuid.uuid4().hex
        document = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}
        world.store.create(container.split(".")[0], {"id": item_id, "userId": user_id, **document})
        items[container] = item_id
    return items


def closed_request(world: RetentionWorld, subject_key: str, user_id: str | None, closed_days_ago: int) -> DsrRequest:
    closed = world.clock.now() - timedelta(days=closed_days_ago)
    request = DsrRequest(
        id=str(uuid.uuid4()),
        type=RequestType.ACCESS,
        status=Status.COMPLETED,
        jurisdiction="GDPR",
        subject_key=subject_key,
        email=None,
        user_id=user_id,
        received_at=closed - timedelta(days=3),
        due_at=closed + timedelta(days=27),
        max_due_at=closed + timedelta(days=87),
        source="website" if user_id is None else "dashboard",
    )
    request.note(closed, "worker", "completed")
    writer = world.archives.open_archive(subject_key, request.id)
    writer.add_text("README.txt", "an export")
    request.archive_blob = writer.close()
    world.store.create(DSR_REQUESTS, request.to_document())
    return request


def present(world: RetentionWorld, location: str, item_id: str) -> bool:
    found = next((i for i in world.store.all(location.split(".")[0]) if i["id"] == item_id), None)
    if location == "devices.invalid-push-tokens":
        return found is not None and "pushToken" in found
    return found is not None


@pytest.mark.parametrize("by", ["email", "user_id"])
def test_a_held_subject_keeps_dialogues_devices_orders_requests_and_archives_past_their_periods(
    world: RetentionWorld, by: str
) -> None:
    """GDPR Art. 17(3)(e): nothing a hold covers is purged, in any location; the same items of someone
    not held go, and the held ones go once the hold is released."""
    held, free = person(world), person(world, "frank@example.com")
    subject_key = keyed_hash(PEPPER, held.email)
    items = {who.user_id: expired_items(world, who.user_id) for who in (held, free)}
    requests = {
        who.user_id: [
            closed_request(world, keyed_hash(PEPPER, who.email), None, closed_days_ago=1200),  # by address
            closed_request(world, f"other-{who.user_id}", who.user_id, closed_days_ago=1200),  # signed in
            closed_request(world, keyed_hash(PEPPER, who.email), None, closed_days_ago=10),  # its archive is due
        ]
        for who in (held, free)
    }
    target = HoldTarget("subject", email=held.email) if by == "email" else HoldTarget("subject", user_id=held.user_id)
    placed = hold(world, target)
    assert world.services.legal_holds.require(placed).subject_key == subject_key
    world.services.retention_run.run()
    for location, item_id in items[held.user_id].items():
        assert present(world, location, item_id), location
    for location, item_id in items[free.user_id].items():
        assert not present(world, location, item_id), location
    kept = {r["id"] for r in world.store.all(DSR_REQUESTS)}
    assert {r.id for r in requests[held.user_id]} <= kept
    assert not {r.id for r in requests[free.user_id][:2]} & kept
    assert requests[held.user_id][2].archive_blob in world.archives.archives
    assert requests[free.user_id][2].archive_blob not in world.archives.archives
    world.services.retention_staff.release_hold(placed, "dpo-1", "Settled")
    world.services.retention_run.run()
    assert not any(present(world, location, item_id) for location, item_id in items[held.user_id].items())
    assert requests[held.user_id][2].archive_blob not in world.archives.archives


def test_a_hold_on_a_user_without_a_profile_keeps_what_outlived_the_profile(world: RetentionWorld) -> None:
    """A user id is held whether or not a profile exists: orders (kept for tax law), dialogue input and
    devices may outlive the profile (or come before it), and are what a claim may need."""
    ghost = "usr_profile_gone"
    items = expired_items(world, ghost)
    placed = hold(world, HoldTarget("subject", user_id=ghost), "Orders in dispute")
    assert world.services.legal_holds.require(placed).subject_key is None  # no address known to hash
    world.services.retention_run.run()
    assert all(present(world, location, item_id) for location, item_id in items.items())
