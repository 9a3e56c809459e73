"""Breach incidents over in-memory fakes: required contents, approval, legal clocks, the fan-out
(batches, replays, crashes, throttling, refusals) and signed delivery events."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.sendgrid_email import SendGridEventSignatures
from bootstrap import Services
from core.containers import database_spec
from core.settings import Settings
from functions.fanout.dispatch import DispatchMessage
from functions.fanout.errors import InvalidEventSignature
from functions.fanout.events import DeliveryEvent
from functions.fanout.lifecycle import DISPATCH_QUEUE, EVENTS_QUEUE, BatchStatus
from functions.fanout.ports import BulkRejected, BulkThrottled
from functions.incidents.errors import (
    LateFilingNeedsReasons,
    NoticeIncomplete,
    SecondApproverRequired,
)
from functions.incidents.incident_record import BreachTime, NoticeContent
from functions.incidents.lifecycle import IncidentNoticeStatus
from functions.incidents.notice_mail import render
from functions.incidents.notice_record import NOTICE_RECORD_TYPE
from functions.incidents.staff import IncidentFacts
from tests.fakes import (
    FakeSuppressionGroups,
    InMemoryDocumentStore,
    InMemoryWorkQueue,
    MemoryRootKey,
    MovableClock,
    RecordingBulkMailer,
    RecordingMailer,
)

AWARE = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
COMPLETE = {
    "what_happened": "A backup of the order database was copied by an outsider.",
    "information_involved": "Names, email addresses and billing addresses.",
    "what_we_are_doing": "We closed the access and are working with forensic experts.",
    "what_you_can_do": "Watch for unexpected mails that ask for payment.",
    "more_information": "Visit our security page or write to us.",
    "protection_provided": "We reset every session and rotated every key.",
    "advice": "Be careful with mails that seem to come from us.",
    "cure_and_timeframe": "All systems will be reviewed by an outside firm within four weeks.",
    "contact_point": "Our data protection officer, dpo@softwareengineeringconcepts.com.",
    "likely_consequences": "Phishing mails using your name.",
    "measures": "Access closed, keys rotated, monitoring added.",
}


class World:
    def __init__(self) -> None:
        self.store = InMemoryDocumentStore({c.id: c.partition_key.lstrip("/") for c in database_spec().containers})
        self.queue = InMemoryWorkQueue()
        self.bulk = RecordingBulkMailer()
        self.clock = MovableClock(AWARE + timedelta(hours=2))
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        settings = Settings(
            {
                "SUBJECT_HASH_PEPPER": "pepper",
                "INCIDENT_STAFF_EMAIL": "security@example.test",
                "INCIDENT_UNCONFIRMED_GRACE_SECONDS": "600",
                "PUBLIC_API_URL": "https://privacy.example.test/api",
            }
        )
        self.services = Services.with_edges(
            settings,
            self.clock,
            documents=self.store,
            work_queue=self.queue,
            mailer=RecordingMailer(),
            bulk_mailer=self.bulk,
            event_signatures=SendGridEventSignatures(base64.b64encode(public).decode()),
            suppression_groups=FakeSuppressionGroups(),
            root_key=MemoryRootKey(),
        )
        self.message_ids = 0

    def open(self, **facts: Any) -> str:
        incident = self.services.incident_staff.open(
            IncidentFacts(
                title="Order backup copied",
                aware_at=AWARE,
                description="An outsider copied a database backup.",
                contact_point="dpo@softwareengineeringconcepts.com",
                breach_time=BreachTime(kind="estimate", at=AWARE - timedelta(days=3)),
                categories=["personal-information"],
                jurisdictions=facts.pop("jurisdictions", ["GDPR", "US-CO"]),
                **facts,
            ),
            "sec-1",
        )
        return incident.id

    def approved_notice(self, incident_id: str, people: int) -> str:
        staff = self.services.incident_staff
        for start in range(0, people, 1000):
            emails = [f"person{n:05d}@example.com" for n in range(start, min(start + 1000, people))]
            staff.add_recipients(incident_id, emails, "sec-1")
        incident = staff.draft_notice(incident_id, "About your data", NoticeContent(**COMPLETE), "sec-1")
        notice_id = incident.notices[-1].id
        staff.approve_notice(incident_id, notice_id, "dpo-2")
        return notice_id

    @staticmethod
    def message(queued: Any) -> DispatchMessage:
        parsed = DispatchMessage.parse(queued.body)
        assert parsed is not None
        return parsed

    def drain(self, limit: int = 1000) -> None:
        for _ in range(limit):
            message = self.queue.take(DISPATCH_QUEUE)
            if message is None:
                return
            self.services.fan_out.run(self.message(message), message.id)
        raise AssertionError("the dispatch never ends")

    def report(self, events: list[dict[str, Any]], at: datetime | None = None) -> int:
        """Posts the events as SendGrid would, then applies what the endpoint queued."""
        self.services.delivery_events.accept(*self.signed(events, at))
        return self.apply_events()

    def apply_events(self) -> int:
        applied = 0
        while (message := self.queue.take(EVENTS_QUEUE)) is not None:
            events = [DeliveryEvent.from_message(e) for e in message.body["events"]]
            applied += self.services.delivery_events.apply(message.body["mailingId"], message.body["batchId"], events)
        return applied

    def signed(self, events: list[dict[str, Any]], at: datetime | None = None) -> tuple[bytes, str, str]:
        body = json.dumps(events).encode()
        timestamp = str(int((at or self.clock.now()).timestamp()))
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return body, base64.b64encode(signature).decode(), timestamp


@pytest.fixture
def world() -> World:
    return World()


def test_a_notice_lacking_required_parts_cannot_be_approved_and_the_answer_lists_them(world: World) -> None:
    incident_id = world.open()
    staff = world.services.incident_staff
    partial = {k: v for k, v in COMPLETE.items() if k not in ("advice", "measures")}
    incident = staff.draft_notice(incident_id, "About your data", NoticeContent(**partial), "sec-1")
    with pytest.raises(NoticeIncomplete) as refused:
        staff.approve_notice(incident_id, incident.notices[0].id, "dpo-2")
    assert refused.value.missing == ["advice", "measures"]


def test_a_law_enforcement_delay_must_be_stated_in_the_notice(world: World) -> None:
    incident_id = world.open()
    staff = world.services.incident_staff
    staff.record_delay(
        incident_id, "State police", "An investigation is under way.", AWARE + timedelta(days=10), "sec-1"
    )
    incident = staff.draft_notice(incident_id, "About your data", NoticeContent(**COMPLETE), "sec-1")
    with pytest.raises(NoticeIncomplete) as refused:
        staff.approve_notice(incident_id, incident.notices[0].id, "dpo-2")
    assert refused.value.missing == ["delayStatement"]


def test_the_author_alone_cannot_approve(world: World) -> None:
    incident_id = world.open()
    staff = world.services.incident_staff
    incident = staff.draft_notice(incident_id, "About your data", NoticeContent(**COMPLETE), "sec-1")
    with pytest.raises(SecondApproverRequired):
        staff.approve_notice(incident_id, incident.notices[0].id, "sec-1")
    approved = staff.approve_notice(incident_id, incident.notices[0].id, "dpo-2")
    assert approved.notices[0].status == IncidentNoticeStatus.APPROVED


def test_2500_people_take_exactly_three_requests_and_a_replay_sends_nothing(world: World) -> None:
    incident_id = world.open()
    notice_id = world.approved_notice(incident_id, 2500)
    world.services.incident_staff.send_notice(incident_id, notice_id, "sec-1")
    world.services.incident_staff.send_notice(incident_id, notice_id, "sec-2")  # pressed twice
    world.drain()
    sizes = [len(r.recipients) for r in world.bulk.requests]
    assert sizes == [1000, 1000, 500]
    everyone = [a.email for r in world.bulk.requests for a in r.recipients]
    assert len(everyone) == len(set(everyone)) == 2500
    assert all(r.custom_args["mailing_id"] == notice_id and r.category == "breach-notice" for r in world.bulk.requests)
    assert all(r.transactional and r.custom_args["incident_id"] == incident_id for r in world.bulk.requests)
    incident = world.services.incident_staff.get(incident_id)
    assert incident.notice(notice_id).status == IncidentNoticeStatus.SENT  # type: ignore[union-attr]
    replay = DispatchMessage("incident", incident_id, notice_id, 0, "")
    world.services.fan_out.run(replay, "a-replayed-message")
    world.drain()
    assert len(world.bulk.requests) == 3


def test_a_sent_notice_carries_a_signed_record_of_what_went_out_without_an_address(world: World) -> None:
    incident_id = world.open()
    notice_id = world.approved_notice(incident_id, 1200)
    world.services.incident_staff.send_notice(incident_id, notice_id, "sec-1")
    world.drain()
    incident = world.services.incident_staff.get(incident_id)
    notice = incident.notice(notice_id)
    assert notice is not None
    assert notice.record is not None
    claims = world.services.key_set.verify(notice.record, NOTICE_RECORD_TYPE).claims  # GDPR Art. 33(5), 34
    mail = render(incident, notice, world.services.inventory_categories)
    assert claims["incidentId"] == incident_id
    assert claims["noticeId"] == notice_id
    assert (claims["batches"], claims["recipients"], claims["rejectedBatches"]) == (2, 1200, 0)
    assert claims["textSha256"] == hashlib.sha256(mail.text.encode()).hexdigest()
    assert claims["htmlSha256"] == hashlib.sha256(mail.html.encode()).hexdigest()
    addresses = {a.email for r in world.bulk.requests for a in r.recipients}
    assert not any(address in json.dumps(claims) for address in addresses)


def test_a_crash_after_the_request_left_is_settled_by_its_events_without_a_second_send(world: World) -> None:
    incident_id = world.open()
    notice_id = world.approved_notice(incident_id, 1500)
    world.services.incident_staff.send_notice(incident_id, notice_id, "sec-1")
    first = world.queue.take(DISPATCH_QUEUE)
    assert first is not None
    world.bulk.crash_after_send = True
    with pytest.raises(SystemExit):
        world.services.fan_out.run(world.message(first), first.id)
    world.services.fan_out.run(world.message(first), first.id)
    assert len(world.bulk.requests) == 1  # within the grace period it waits for events
    batch_id = f"{notice_id}-000000"
    events = [
        {
            "email": "person00000@example.com",
            "event": "processed",
            "sg_event_id": "ev-1",
            "incident_id": incident_id,
            "mailing_id": notice_id,
            "batch_id": batch_id,
        }
    ]
    world.report(events)
    world.drain()
    assert [len(r.recipients) for r in world.bulk.requests] == [1000, 500]


def test_a_crash_before_the_request_left_sends_it_once_after_the_grace_period(world: World) -> None:
    incident_id = world.open()
    notice_id = world.approved_notice(incident_id, 1010)
    world.services.incident_staff.send_notice(incident_id, notice_id, "sec-1")
    first = world.queue.take(DISPATCH_QUEUE)
    assert first is not None
    world.services.fan_out.run(world.message(first), first.id)
    world.report(
        [
            {
                "email": world.bulk.requests[0].recipients[0].email,
                "event": "delivered",
                "sg_event_id": "ev-0",
                "incident_id": incident_id,
                "mailing_id": notice_id,
                "batch_id": f"{notice_id}-000000",
            }
        ]
    )
    second = world.queue.take(DISPATCH_QUEUE)
    assert second is not None
    world.bulk.fail_next = [SystemExit("killed before the request left")]
    with pytest.raises(SystemExit):
        world.services.fan_out.run(world.message(second), second.id)
    world.clock.advance(minutes=11)  # the grace period passed with no event for it, while events do arrive
    world.services.fan_out.run(world.message(second), second.id)
    world.drain()
    assert [len(r.recipients) for r in world.bulk.requests] == [1000, 10]


def test_an_interrupted_batch_with_no_events_at_all_is_left_for_staff(world: World) -> None:
    incident_id = world.open()
    notice_id = world.approved_notice(incident_id, 10)
    world.services.incident_staff.send_notice(incident_id, notice_id, "sec-1")
    first = world.queue.take(DISPATCH_QUEUE)
    assert first is not None
    world.bulk.fail_next = [SystemExit("killed")]
    with pytest.raises(SystemExit):
        world.services.fan_out.run(world.message(first), first.id)
    world.clock.advance(minutes=11)
    world.services.fan_out.run(world.message(first), first.id)
    world.drain()
    assert world.bulk.requests == []  # never risk a second mail when nothing can tell whether it went
    (batch,) = world.services.mail_batches.summaries(notice_id)
    assert batch.status == BatchStatus.UNCONFIRMED


def test_throttling_waits_as_asked_and_a_refused_batch_does_not_stop_the_rest(world: World) -> None:
    incident_id = world.open()
    notice_id = world.approved_notice(incident_id, 2100)
    world.services.incident_staff.send_notice(incident_id, notice_id, "sec-1")
    world.bulk.fail_next = [BulkThrottled(42), BulkRejected(400, "personalizations.0.to: invalid")]
    message = world.queue.take(DISPATCH_QUEUE)
    assert message is not None
    world.services.fan_out.run(world.message(message), message.id)
    (retry,) = world.queue.queues[DISPATCH_QUEUE]
    assert retry.delay == timedelta(seconds=42)
    world.drain()
    statuses = [b.status for b in world.services.mail_batches.summaries(notice_id)]
    assert statuses == [BatchStatus.REJECTED, BatchStatus.SENT, BatchStatus.SENT]
    incident = world.services.incident_staff.get(incident_id)
    assert incident.notice(notice_id).rejected_batches == 1  # type: ignore[union-attr]


def test_events_count_once_and_only_with_a_valid_fresh_signature(world: World) -> None:
    incident_id = world.open()
    notice_id = world.approved_notice(incident_id, 3)
    world.services.incident_staff.send_notice(incident_id, notice_id, "sec-1")
    world.drain()
    batch_id = f"{notice_id}-000000"

    def event(n: int, kind: str, **extra: Any) -> dict[str, Any]:
        return {
            "email": f"person{n:05d}@example.com",
            "event": kind,
            "sg_event_id": f"ev-{n}-{kind}",
            "incident_id": incident_id,
            "mailing_id": notice_id,
            "batch_id": batch_id,
            **extra,
        }

    events = world.services.delivery_events
    batch = [event(0, "delivered"), event(1, "bounce", type="bounce", status="5.1.1"), event(2, "processed")]
    body, signature, timestamp = world.signed(batch)
    with pytest.raises(InvalidEventSignature):
        events.accept(body.replace(b"bounce", b"delivered", 1), signature, timestamp)  # altered body
    with pytest.raises(InvalidEventSignature):
        events.accept(*world.signed(batch, at=world.clock.now() - timedelta(minutes=6)))  # stale
    with pytest.raises(InvalidEventSignature):
        events.accept(body, "not base64!", timestamp)
    assert EVENTS_QUEUE not in world.queue.queues  # nothing of a refused batch was taken
    assert world.report(batch) == 3
    assert world.report(batch) == 0  # replayed: every event already applied
    late = [event(0, "processed") | {"sg_event_id": "ev-late"}]
    world.report(late)  # a late "processed" does not undo "delivered"
    incident = world.services.incident_staff.get(incident_id)
    from functions.fanout.reports import delivery, unreached

    assert incident.notices[0].id == notice_id
    report = delivery(world.services.mail_batches, notice_id)
    assert report.sent == 3
    assert report.counts == {"delivered": 1, "bounce": 1, "processed": 1, "unknown": 0}
    assert sorted((p.email, p.status) for p in unreached(world.services.mail_batches, notice_id)) == [
        ("person00001@example.com", "bounce"),
        ("person00002@example.com", "processed"),
    ]


def test_legal_clocks_follow_their_rules(world: World) -> None:
    from functions.incidents.reporting import incident_clocks

    incident_id = world.open(jurisdictions=["GDPR", "US-CO", "US-GA"], residents={"US-CO": 500})
    clocks = {
        (c.rule.jurisdiction, c.rule.audience.value): c
        for c in incident_clocks(world.services.incident_staff.get(incident_id))
    }
    assert clocks[("GDPR", "authority")].due_at == AWARE + timedelta(hours=72)  # GDPR Art. 33(1)
    assert clocks[("GDPR", "individuals")].due_at is None  # Art. 34(1): without undue delay, no fixed clock
    assert clocks[("US-CO", "individuals")].due_at == AWARE + timedelta(days=30)  # C.R.S. § 6-1-716(2)
    assert clocks[("US-CO", "authority")].due_at == AWARE + timedelta(days=30)  # 500 or more residents
    assert clocks[("US-GA", "individuals")].note == "no fixed deadline"  # O.C.G.A. § 10-1-912


def test_a_filing_after_72_hours_needs_its_reasons(world: World) -> None:
    incident_id = world.open()
    staff = world.services.incident_staff
    late = AWARE + timedelta(hours=80)
    with pytest.raises(LateFilingNeedsReasons):
        staff.record_filing(incident_id, "Datenschutzbehörde", late, None, None, "sec-1")
    filed = staff.record_filing(
        incident_id, "Datenschutzbehörde", late, "REF-1", "The scope took days to establish.", "sec-1"
    )
    assert filed.authority_filing is not None


def test_the_watch_warns_once_before_a_deadline_and_once_when_it_passes(world: World) -> None:
    incident_id = world.open(jurisdictions=["GDPR"])
    watch = world.services.deadline_watch
    world.clock.moment = AWARE + timedelta(hours=60)
    assert [w.split()[1] for w in watch.run().due_soon] == ["GDPR/authority"]
    assert watch.run().due_soon == []
    world.clock.moment = AWARE + timedelta(hours=73)
    assert watch.run().passed == [f"{incident_id} GDPR/authority"]
    world.services.incident_staff.record_filing(incident_id, "DPA", world.clock.now(), None, "Late: scope.", "sec-1")
    world.clock.advance(hours=1)
    assert watch.run().passed == []
