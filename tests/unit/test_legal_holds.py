"""Legal holds (GDPR Art. 17(3)(e)) over in-memory fakes: placed once however often staff press, what
they keep from the purge and from erasures, what happens when they end, and the digest's warning."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from core.containers import DSR_REQUESTS
from devstack.demo_data import DemoPerson, seed_person
from functions.requests.dispatch import StepMessage
from functions.requests.intake import Intake
from functions.requests.lifecycle import STEPS_QUEUE, WEBSITE, RequestType, Status, StepStatus
from functions.requests.request_record import DsrRequest
from functions.retention.errors import HoldEndInPast, HoldNotInForce, HoldTargetNotFound
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
