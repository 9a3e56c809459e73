"""The whole life of data-subject requests over in-memory fakes of every port: intake → verify →
approve → steps → certificate, with failures, retries, crashes and double clicks.

The wiring is the app's own (bootstrap.Services); only the edges are fakes. Integration and
end-to-end tests run the same flows on the real local stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bootstrap import Services
from core.containers import database_spec
from core.keyring import StaticKeyRing
from core.ports import MailUnavailable
from core.settings import Settings
from devstack.demo_data import DemoPerson, seed_person
from functions.requests.certificate import is_authentic
from functions.requests.dispatch import StepMessage
from functions.requests.errors import ExtensionTooLate, LinkAlreadyUsed, StepRunning, TooManyOpenRequests
from functions.requests.intake import Intake
from functions.requests.lifecycle import (
    DASHBOARD,
    STEPS_QUEUE,
    WEBSITE,
    MailKind,
    MailStatus,
    RequestType,
    Status,
    StepStatus,
)
from functions.requests.repository import StaffSearch
from functions.requests.request_record import DsrRequest
from tests.fakes import (
    FakeContacts,
    FakePayments,
    InMemoryArchives,
    InMemoryDocumentStore,
    InMemoryWorkQueue,
    MemoryRootKey,
    MovableClock,
    QueuedMessage,
    RecordingMailer,
)

PEPPER = "unit-test-pepper"
KEYS = "k1:unit-test-signing-key"
SETTINGS = {
    "SUBJECT_HASH_PEPPER": PEPPER,
    "SIGNING_KEYS": KEYS,
    "PUBLIC_API_URL": "https://privacy.example.test/api",
    "DSR_STAFF_EMAIL": "dpo@example.test",
    "EXPORT_LINK_HOURS": "48",
    "EXPORT_RETENTION_DAYS": "5",
}
TOKEN = re.compile(r"token=(\S+)")


@dataclass
class World:
    services: Services
    store: InMemoryDocumentStore
    queue: InMemoryWorkQueue
    mailer: RecordingMailer
    payments: FakePayments
    contacts: FakeContacts
    archives: InMemoryArchives
    clock: MovableClock

    def deliver(self, message: QueuedMessage, final: bool = False) -> None:
        parsed = StepMessage.parse(json.dumps(message.body).encode())
        assert parsed is not None
        self.services.request_worker.run(parsed, message.id, final_attempt=final)

    def drain(self, limit: int = 100) -> int:
        """Runs step messages as the host would: a failing one is delivered again, up to 5 times."""
        handled = 0
        while (message := self.queue.take(STEPS_QUEUE)) is not None:
            handled += 1
            assert handled <= limit, "the step messages never stop"
            try:
                self.deliver(message, final=message.dequeue_count >= 5)
            except Exception:
                if message.dequeue_count < 5:
                    self.queue.put_back(STEPS_QUEUE, message)
        return handled

    def request(self, request_id: str) -> DsrRequest:
        return self.services.request_staff.get(request_id)


@pytest.fixture
def world() -> World:
    store = InMemoryDocumentStore({c.id: c.partition_key.lstrip("/") for c in database_spec().containers})
    parts = World(
        services=None,  # type: ignore[arg-type]
        store=store,
        queue=InMemoryWorkQueue(),
        mailer=RecordingMailer(),
        payments=FakePayments(),
        contacts=FakeContacts(),
        archives=InMemoryArchives(),
        clock=MovableClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
    )
    parts.services = Services.with_edges(
        Settings(SETTINGS),
        parts.clock,
        documents=store,
        work_queue=parts.queue,
        mailer=parts.mailer,
        payments=parts.payments,
        contacts=parts.contacts,
        archives=parts.archives,
        signing_keys=StaticKeyRing(KEYS),
        root_key=MemoryRootKey(),
    )
    return parts


def person(world: World, email: str = "erin@example.com", **counts: int) -> DemoPerson:
    someone = DemoPerson(email, "Erin Example")
    seeded = seed_person(world.store, PEPPER, someone, **counts)
    world.payments.customers["cus_erin"] = email
    world.contacts.contacts[email] = "contact-erin"
    world.store.upsert("profiles", {**world.store.all("profiles")[-1], "stripeCustomerId": "cus_erin"})
    assert seeded.user_id == someone.user_id
    return someone


def submit_and_verify(world: World, email: str, kind: RequestType = RequestType.ERASURE) -> DsrRequest:
    intake = world.services.request_intake
    intake.submit(Intake(kind, email, "GDPR", False, WEBSITE))
    (mail,) = world.mailer.to(email, "Confirm your privacy request")[-1:]
    match = TOKEN.search(mail.text)
    assert match
    return intake.verify(match.group(1))


def test_an_access_request_delivers_an_archive_whose_readme_is_the_art_15_notice(world: World) -> None:
    someone = person(world, navigation=4, language=2)
    verified = submit_and_verify(world, someone.email, RequestType.ACCESS)
    (confirmation,) = world.mailer.to(someone.email, "Confirm")
    assert verified.due_at.date().isoformat() in confirmation.text  # when to expect an answer (CCPA § 7021(a))
    assert verified.acknowledged_at is not None
    world.drain()
    done = world.request(verified.id)
    assert done.status == Status.COMPLETED
    assert done.email is None
    (ready,) = world.mailer.to(someone.email, "ready")
    assert "48 hours" in ready.text
    assert "5 days" in ready.text
    (archive,) = world.archives.archives.values()
    readme = archive["README.txt"]
    assert "navigation-events.json: 4 items" in readme
    assert "consent-ledger.json: 0 items" in readme  # counts count items, not summary rows
    for words in (
        "Why we hold it",
        "Who holds it: Stripe, Inc.",
        "How long it is kept",
        "Art. 16",
        "Art. 17",
        "Art. 18",
        "Art. 21",
        "supervisory authority",
        "last four digits",
    ):
        assert words in readme
    assert len(json.loads(archive["navigation-events.json"])) == 4


def test_an_erasure_runs_each_step_once_and_certifies_what_it_did(world: World) -> None:
    someone = person(world, navigation=3)
    verified = submit_and_verify(world, someone.email)
    assert verified.status == Status.AWAITING_APPROVAL
    plan = world.services.request_staff.erasure_plan(verified.id)
    assert plan.resolved.user_id == someone.user_id
    assert plan.resolved.stripe_customer_ids == ("cus_erin",)
    assert {e.location: e.items for e in plan.entries}["navigation-events"] == 3
    world.services.request_staff.approve(verified.id, "dpo-1")
    world.drain()
    done = world.request(verified.id)
    assert done.status == Status.COMPLETED
    assert world.payments.deletes == [("cus_erin", f"erasure-{done.id}-cus_erin")]
    assert world.contacts.deletes == ["contact-erin"]
    assert someone.email in world.contacts.suppressed
    assert done.certificate is not None
    assert is_authentic(done.certificate, world.services.key_set, StaticKeyRing(KEYS))
    counts = {s["location"]: s["counts"] for s in done.certificate["steps"]}
    assert counts["navigation-events"] == {"found": 3, "deleted": 3, "remaining": 0}
    assert counts["sendgrid-contact"] == {"contactsDeleted": 1, "suppressed": 1}
    (erased,) = world.mailer.to(someone.email, "erased")
    assert "invoices" in erased.text.lower() or "tax" in erased.text.lower()
    assert "Proof of consent" in erased.text
    assert "suppression" in erased.text


def test_retry_pressed_many_times_during_an_erasure_runs_every_step_once(world: World) -> None:
    someone = person(world, navigation=3)
    request_id = submit_and_verify(world, someone.email).id
    staff = world.services.request_staff
    staff.approve(request_id, "dpo-1")
    refused = 0
    for _ in range(6):  # between steps, while no step is marked running, staff keep pressing retry
        message = world.queue.take(STEPS_QUEUE)
        assert message is not None
        for _ in range(4):
            try:
                staff.retry(request_id, "dpo-2")
            except StepRunning:
                refused += 1
        world.deliver(message)
    world.drain()
    done = world.request(request_id)
    assert done.status == Status.COMPLETED
    assert done.run > 10
    assert refused == 0
    assert len(world.payments.deletes) == 1
    assert world.contacts.deletes == ["contact-erin"]
    assert len(world.mailer.to(someone.email, "erased")) == 1
    assert all(step.attempts == 1 for step in done.steps)
    counts = {s["location"]: s["counts"] for s in (done.certificate or {})["steps"]}
    assert counts["sendgrid-contact"]["contactsDeleted"] == 1
    assert counts["navigation-events"] == {"found": 3, "deleted": 3, "remaining": 0}


def test_a_duplicate_message_is_dropped_and_a_redelivery_after_a_crash_resumes(world: World) -> None:
    someone = person(world)
    request_id = submit_and_verify(world, someone.email).id
    world.services.request_staff.approve(request_id, "dpo-1")
    first = world.queue.take(STEPS_QUEUE)
    assert first is not None
    copy = QueuedMessage("another-id", dict(first.body))
    world.deliver(first)  # resolve-subject done, next message queued
    world.deliver(copy)  # a second copy of the same message: dropped, nothing queued twice
    assert len(world.queue.queues[STEPS_QUEUE]) == 1
    world.deliver(first)  # its own redelivery (crash before the next message): queues the next again
    assert len(world.queue.queues[STEPS_QUEUE]) == 2
    world.drain()
    assert world.request(request_id).status == Status.COMPLETED
    assert len(world.payments.deletes) == 1


def test_a_step_that_keeps_failing_ends_failed_with_its_error_class_and_a_retry_finishes_it(world: World) -> None:
    someone = person(world)
    request_id = submit_and_verify(world, someone.email).id
    world.services.request_staff.approve(request_id, "dpo-1")
    original = world.payments.delete_customer

    def broken(customer_id: str, idempotency_key: str) -> object:
        raise ConnectionError("stripe unreachable")

    world.payments.delete_customer = broken  # type: ignore[method-assign,assignment]
    world.drain()
    failed = world.request(request_id)
    assert failed.status == Status.FAILED
    step = failed.step("stripe-customer")
    assert (step.status, step.error, step.attempts) == (StepStatus.FAILED, "ConnectionError", 5)
    world.payments.delete_customer = original  # type: ignore[method-assign]
    world.services.request_staff.retry(request_id, "dpo-1")
    world.drain()
    assert world.request(request_id).status == Status.COMPLETED
    assert len(world.payments.deletes) == 1


def test_an_extension_is_refused_after_the_first_deadline(world: World) -> None:
    someone = person(world)
    request = submit_and_verify(world, someone.email, RequestType.ACCESS)
    world.clock.advance(days=40)
    with pytest.raises(ExtensionTooLate):
        world.services.request_staff.extend(request.id, "dpo-1", "Several years of records.")
    assert world.mailer.to(someone.email, "longer") == []


def test_an_extension_in_time_reaches_three_months_from_receipt_with_one_notice(world: World) -> None:
    world.clock.moment = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    intake = world.services.request_intake
    request = intake.submit(Intake(RequestType.ACCESS, "late@example.com", "GDPR", False, WEBSITE))
    extended = world.services.request_staff.extend(request.id, "dpo-1", "Several years of records.")
    assert extended.due_at == request.max_due_at
    assert extended.due_at.astimezone(UTC).date().isoformat() == "2027-04-30"
    assert len(world.mailer.to("late@example.com", "longer")) == 1


def test_a_signed_in_users_request_is_acknowledged_by_mail_and_late_acknowledgements_reach_staff(
    world: World,
) -> None:
    someone = person(world)
    world.mailer.unavailable = 1  # the acknowledgement cannot go out at first
    intake = Intake(RequestType.ACCESS, someone.email, "CCPA", False, DASHBOARD, user_id=someone.user_id)
    request = world.services.request_intake.submit(intake)
    assert request.acknowledge_by is not None
    assert request.acknowledged_at is None
    world.clock.moment = request.acknowledge_by - timedelta(days=1)
    result = world.services.deadline_review.run()  # resends it, and still reports it was late
    assert request.id in result.acknowledgements_due
    (ack,) = world.mailer.to(someone.email, "We received your privacy request")
    assert "by" in ack.text
    assert request.due_at.date().isoformat() in ack.text
    assert world.request(request.id).acknowledged_at is not None
    assert world.mailer.to("dpo@example.test", "to acknowledge")


def test_a_denial_pressed_twice_mails_the_person_once(world: World) -> None:
    request = world.services.request_intake.submit(
        Intake(RequestType.ERASURE, "den@example.com", "GDPR", False, WEBSITE)
    )
    staff = world.services.request_staff
    staff.deny(request.id, "dpo-1", "We could not confirm the identity of the requester.")
    with pytest.raises(Exception, match="denied"):
        staff.deny(request.id, "dpo-2", "Again.")
    (notice,) = world.mailer.to("den@example.com", "Your privacy request")
    assert "supervisory authority" in notice.text
    assert "judicial remedy" in notice.text
    assert world.request(request.id).email is None


def test_a_mail_outage_on_the_form_stores_nothing_and_costs_no_attempt(world: World) -> None:
    intake = world.services.request_intake
    world.mailer.unavailable = 3
    for _ in range(3):
        with pytest.raises(MailUnavailable):
            intake.submit(Intake(RequestType.ACCESS, "down@example.com", "GDPR", False, WEBSITE))
    assert world.store.all("dsr-requests") == []
    for _ in range(3):  # the limit still allows three mails per link lifetime
        intake.submit(Intake(RequestType.ACCESS, "down@example.com", "GDPR", False, WEBSITE))
    with pytest.raises(TooManyOpenRequests):
        intake.submit(Intake(RequestType.ACCESS, "down@example.com", "GDPR", False, WEBSITE))
    assert len(world.store.all("dsr-requests")) == 1


def test_a_link_is_single_use(world: World) -> None:
    world.services.request_intake.submit(Intake(RequestType.ACCESS, "once@example.com", "GDPR", False, WEBSITE))
    token = TOKEN.search(world.mailer.to("once@example.com")[0].text)
    assert token
    world.services.request_intake.verify(token.group(1))
    with pytest.raises(LinkAlreadyUsed):
        world.services.request_intake.verify(token.group(1))


def test_staff_search_pages_and_finds_by_address_and_user(world: World) -> None:
    intake = world.services.request_intake
    for n in range(7):
        intake.submit(Intake(RequestType.ACCESS, f"p{n}@example.com", "GDPR", False, WEBSITE))
        world.clock.advance(hours=1)
    staff = world.services.request_staff
    seen: list[str] = []
    continuation = None
    while True:
        page, continuation = staff.search(StaffSearch(), 3, continuation)
        seen += [r.id for r in page]
        if continuation is None:
            break
    assert len(seen) == len(set(seen)) == 7
    (found,), _ = staff.search(StaffSearch(email="P3@example.com"), 10, None)
    assert found.email == "p3@example.com"
    assert "p3@example.com" not in json.dumps(world.store.all("audit"))


def test_every_mail_is_sent_at_most_once_even_after_a_crash_mid_send(world: World) -> None:
    request = world.services.request_intake.submit(
        Intake(RequestType.ERASURE, "crash@example.com", "GDPR", False, WEBSITE)
    )

    def stuck(r: DsrRequest) -> None:  # a denial whose sender died after handing the mail over
        r.status = Status.DENIED
        r.queue_mail(MailKind.DENIED, world.clock.now())
        r.outbox[-1].status, r.outbox[-1].claimed_at = MailStatus.SENDING, world.clock.now()

    world.services.request_parts.requests.change(request.id, stuck)
    world.clock.advance(hours=1)
    result = world.services.deadline_review.run()
    assert request.id in result.unconfirmed_mails
    assert world.mailer.to("crash@example.com", "Your privacy request") == []
    assert world.request(request.id).email is None
