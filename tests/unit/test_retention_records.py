"""Retention of this service's own records over in-memory fakes: breach incidents and the people they
affected (GDPR Art. 33(5): the breach record is kept, the addresses only while notices need them),
mail batches, the marketing sync's marks, notices, notice receipts and the register of legal
disclosures; each on both sides of its cutoff, and what legal holds keep of them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from core.containers import (
    AUDIT,
    DISCLOSURES,
    INCIDENT_RECIPIENTS,
    INCIDENTS,
    MAIL_BATCHES,
    MARKETING_SYNC,
    NOTICE_RECEIPTS,
    NOTICES,
)
from core.models import utc_text
from functions.fanout.batch_record import Addressee, Batch
from functions.fanout.lifecycle import BatchStatus
from functions.incidents.incident_record import Assessment, Incident, Notice, NoticeContent
from functions.incidents.lifecycle import IncidentNoticeStatus
from functions.incidents.recipient_record import Recipient
from functions.notices.lifecycle import Audience, Instrument, NoticeKind, Outcome
from functions.notices.notice_record import PEOPLE_NOTIFIED, Disclosure, Receipt
from functions.notices.notice_record import Notice as PublishedNotice
from functions.notices.notice_record import NoticeStatus as BoardStatus
from functions.retention.errors import HoldTargetNotFound
from functions.retention.staff import HoldTarget
from tests.unit.retention_world import RetentionWorld, retention_world

MARGIN = timedelta(days=2)
BREACH_RECORD = timedelta(days=1826)  # five years: our choice, GDPR Art. 33(5) sets no period
DELIVERY = timedelta(days=90)  # addresses and batches: sending and following delivery
PROOF = timedelta(days=1096)  # notices, receipts, disclosures: three years (GDPR Art. 5(2))


@pytest.fixture
def world() -> RetentionWorld:
    return retention_world()


def ago(world: RetentionWorld, age: timedelta) -> datetime:
    return world.clock.now() - age


def ids(world: RetentionWorld, container: str) -> set[str]:
    return {str(item["id"]) for item in world.store.all(container)}


# ---- seeding -----------------------------------------------------------------------------------


def incident(
    world: RetentionWorld, created: timedelta, notified: timedelta | None, people: int = 2, draft: bool = False
) -> str:
    """An incident opened ``created`` ago whose notice went out ``notified`` ago (None: none written,
    and people are to be notified), with ``people`` recipients and the notice's batch."""
    incident_id = str(uuid.uuid4())
    notices = []
    if notified is not None:
        notices.append(
            Notice(
                id=f"notice-{incident_id}",
                phase=1,
                subject="About a breach",
                content=NoticeContent(),
                status=IncidentNoticeStatus.SENT,
                author="sec-1",
                created_at=ago(world, notified + timedelta(days=1)),
                sent_at=ago(world, notified),
            )
        )
    if draft:
        notices.append(
            Notice(
                id=f"phase-2-{incident_id}",
                phase=2,
                subject="More about the breach",
                content=NoticeContent(),
                author="sec-1",
                created_at=ago(world, timedelta(days=1)),
            )
        )
    record = Incident(
        id=incident_id,
        title="Lost laptop",
        aware_at=ago(world, created),
        description="A laptop was lost.",
        contact_point="privacy@example.test",
        created_by="sec-1",
        created_at=ago(world, created),
        notices=notices,
        assessment=Assessment(
            notify_authority=True,
            notify_people=True,
            reason="High risk",
            decided_by="sec-1",
            decided_at=ago(world, created),
        ),
    )
    world.store.create(INCIDENTS, record.to_document())
    for n in range(people):
        email = f"person-{n}-{incident_id[:8]}@example.com"
        recipient = Recipient(id=f"key-{n}-{incident_id}", incident_id=incident_id, email=email, source="upload")
        world.store.create(INCIDENT_RECIPIENTS, recipient.to_document())
    return incident_id


def recipients(world: RetentionWorld, incident_id: str) -> list[dict[str, object]]:
    return [r for r in world.store.all(INCIDENT_RECIPIENTS) if r["incidentId"] == incident_id]


def batch(world: RetentionWorld, mailing_id: str, active: timedelta) -> str:
    """A batch sent and last reported on ``active`` ago."""
    record = Batch(
        id=f"{mailing_id}-000000",
        mailing_id=mailing_id,
        kind="incident",
        seq=0,
        status=BatchStatus.SENT,
        recipients=[Addressee(id="key-0", email="someone@example.com")],
        size=1,
        last_recipient_id="key-0",
        recorded_at=ago(world, active + timedelta(hours=1)),
        sent_at=ago(world, active + timedelta(minutes=30)),
        last_event_at=ago(world, active),
    )
    world.store.create(MAIL_BATCHES, record.to_document())
    return record.id


def hold_incident(world: RetentionWorld, incident_id: str) -> str:
    placed, _ = world.services.retention_staff.place_hold(
        HoldTarget("incident", incident_id=incident_id), "Claims after the breach", None, "dpo-1"
    )
    return placed.id


# ---- incidents and the people they affected ------------------------------------------------------


def test_a_breach_record_goes_five_years_after_it_was_opened_with_the_record_of_whom_it_affected(
    world: RetentionWorld,
) -> None:
    old = incident(world, BREACH_RECORD + MARGIN, notified=BREACH_RECORD)
    young = incident(world, BREACH_RECORD - MARGIN, notified=BREACH_RECORD - 2 * MARGIN)
    report = world.services.retention_run.run()
    assert ids(world, INCIDENTS) == {young}
    assert recipients(world, old) == []
    assert len(recipients(world, young)) == 2
    by_rule = {r.rule: r for r in report.rules}
    assert by_rule["incident-recipients"].purged == 2
    assert by_rule["incidents"].purged == 1
    assert all(r.finished and not r.errors for r in report.rules)


def test_addresses_go_ninety_days_after_the_last_notice_and_the_record_of_the_person_stays(
    world: RetentionWorld,
) -> None:
    """Art. 33(5) keeps the breach documented; the addresses serve only the notices (Art. 34) and
    following their delivery."""
    sent_long_ago = incident(world, timedelta(days=200), notified=DELIVERY + MARGIN)
    sent_lately = incident(world, timedelta(days=200), notified=DELIVERY - MARGIN)
    phase_two_coming = incident(world, timedelta(days=200), notified=DELIVERY + MARGIN, draft=True)
    not_written_yet = incident(world, timedelta(days=200), notified=None)
    world.services.retention_run.run()
    assert [r.get("email") for r in recipients(world, sent_long_ago)] == [None, None]
    assert len(recipients(world, sent_long_ago)) == 2  # the record that they were affected stays
    for kept in (sent_lately, phase_two_coming, not_written_yet):
        assert all(isinstance(r.get("email"), str) for r in recipients(world, kept)), kept


def test_a_person_recorded_again_for_a_later_notice_gets_the_address_back_and_it_goes_again_later(
    world: RetentionWorld,
) -> None:
    incident_id = incident(world, timedelta(days=200), notified=DELIVERY + MARGIN, people=1)
    world.services.retention_run.run()
    (cleared,) = recipients(world, incident_id)
    assert cleared.get("email") is None
    repository = world.services.incidents
    again = Recipient(id=str(cleared["id"]), incident_id=incident_id, email="back@example.com", source="upload")
    assert repository.add_recipient(again) is False  # recorded once, however often
    assert repository.recipient(incident_id, str(cleared["id"])).email == "back@example.com"  # type: ignore[union-attr]

    def phase_two(record: Incident) -> None:
        record.notices.append(
            Notice(
                id=f"phase-2-{incident_id}",
                phase=2,
                subject="More",
                content=NoticeContent(),
                status=IncidentNoticeStatus.SENT,
                author="sec-1",
                created_at=world.clock.now(),
                sent_at=world.clock.now(),
            )
        )

    repository.change(incident_id, phase_two)
    world.clock.advance(days=DELIVERY.days - 1)
    world.services.retention_run.run()
    assert recipients(world, incident_id)[0].get("email") == "back@example.com"
    world.clock.advance(days=3)
    world.services.retention_run.run()
    assert recipients(world, incident_id)[0].get("email") is None


def test_a_held_incident_keeps_its_record_its_people_their_addresses_and_its_batches(world: RetentionWorld) -> None:
    held = incident(world, BREACH_RECORD + MARGIN, notified=BREACH_RECORD)
    free = incident(world, BREACH_RECORD + MARGIN, notified=BREACH_RECORD)
    held_batch, free_batch = (
        batch(world, f"notice-{held}", DELIVERY + MARGIN),
        batch(world, f"notice-{free}", DELIVERY + MARGIN),
    )
    placed = hold_incident(world, held)
    read_long_ago = ago(world, timedelta(days=1200))
    audit = {"id": uuid.uuid4().hex, "month": read_long_ago.strftime("%Y-%m"), "at": read_long_ago.isoformat()}
    world.store.create(AUDIT, {**audit, "actor": "sec-1", "action": "incident.read", "target": f"incident:{held}"})
    dry = {r.rule: r for r in world.services.retention_staff.dry_run().rules}
    assert (dry["incidents"].held, dry["incident-recipients"].held, dry["mail-batches"].held) == (1, 2, 1)
    assert dry["incident-recipients.addresses"].held == 2
    world.services.retention_run.run()
    assert ids(world, INCIDENTS) == {held}
    assert all(isinstance(r.get("email"), str) for r in recipients(world, held))
    assert len(recipients(world, held)) == 2
    assert recipients(world, free) == []
    assert ids(world, MAIL_BATCHES) == {held_batch}
    assert free_batch not in ids(world, MAIL_BATCHES)
    assert audit["id"] in ids(world, AUDIT)  # who read the held incident stays on record too
    world.services.retention_staff.release_hold(placed, "dpo-1", "Claims settled")
    world.services.retention_run.run()
    assert ids(world, INCIDENTS) == set()
    assert ids(world, MAIL_BATCHES) == set()
    assert audit["id"] not in ids(world, AUDIT)


def test_a_hold_names_an_incident_that_exists(world: RetentionWorld) -> None:
    with pytest.raises(HoldTargetNotFound):
        hold_incident(world, str(uuid.uuid4()))
    assert world.store.all("legal-holds") == []


# ---- mail batches, marketing marks --------------------------------------------------------------


def test_a_batch_goes_ninety_days_after_its_last_sending_or_report(world: RetentionWorld) -> None:
    old, young = batch(world, "mailing-old", DELIVERY + MARGIN), batch(world, "mailing-young", DELIVERY - MARGIN)
    world.services.retention_run.run()
    assert ids(world, MAIL_BATCHES) == {young}
    assert old not in ids(world, MAIL_BATCHES)


def test_marketing_marks_go_after_ninety_days_except_a_held_users_and_the_sync_lease_is_left(
    world: RetentionWorld,
) -> None:
    def mark(subject: str, age: timedelta) -> str:
        mark_id = str(uuid.uuid4())
        world.store.create(MARKETING_SYNC, {"id": mark_id, "subjectId": subject, "at": ago(world, age).isoformat()})
        return mark_id

    old, young = mark("user:usr_a", DELIVERY + MARGIN), mark("user:usr_b", DELIVERY - MARGIN)
    held = mark("user:usr_held", DELIVERY * 3)
    world.store.create(MARKETING_SYNC, {"id": "lease", "until": ago(world, DELIVERY * 3).isoformat()})
    world.services.retention_staff.place_hold(HoldTarget("subject", user_id="usr_held"), "Case", None, "dpo-1")
    world.services.retention_run.run()
    assert ids(world, MARKETING_SYNC) == {young, held, "lease"}
    assert old not in ids(world, MARKETING_SYNC)


# ---- notices, receipts, disclosures -------------------------------------------------------------


def published(world: RetentionWorld, retired: timedelta | None, subjects: tuple[str, ...] = ()) -> str:
    notice = PublishedNotice(
        id=str(uuid.uuid4()),
        kind=NoticeKind.DISCLOSURE if subjects else NoticeKind.POLICY_CHANGE,
        title="A change",
        text="What changed.",
        audience=Audience.SUBJECTS if subjects else Audience.EVERYONE,
        subjects=list(subjects),
        status=BoardStatus.RETIRED if retired is not None else BoardStatus.ACTIVE,
        created_by="pub-1",
        created_at=ago(world, (retired or timedelta()) + PROOF * 2),
        retired_at=ago(world, retired) if retired is not None else None,
    )
    world.store.create(NOTICES, notice.to_document())
    return notice.id


def test_a_notice_goes_three_years_after_it_was_retired_and_one_for_a_held_user_stays(world: RetentionWorld) -> None:
    old, young = published(world, PROOF + MARGIN), published(world, PROOF - MARGIN)
    in_service = published(world, None)
    held = published(world, PROOF + MARGIN, subjects=("usr_held",))
    world.store.create(NOTICES, {"id": "active", "notices": []})  # the board: no one's, never due
    world.services.retention_staff.place_hold(HoldTarget("subject", user_id="usr_held"), "Case", None, "dpo-1")
    world.services.retention_run.run()
    assert ids(world, NOTICES) == {young, in_service, held, "active"}
    assert old not in ids(world, NOTICES)


def test_a_receipt_goes_three_years_after_the_notice_was_seen_and_an_unseen_one_stays(world: RetentionWorld) -> None:
    def receipt(user: str, seen: timedelta | None) -> str:
        notice_id = str(uuid.uuid4())
        seen_at = ago(world, seen) if seen is not None else None
        world.store.create(
            NOTICE_RECEIPTS, Receipt(id=notice_id, user_id=user, targeted=True, seen_at=seen_at).to_document()
        )
        return notice_id

    old, young = receipt("usr_a", PROOF + MARGIN), receipt("usr_a", PROOF - MARGIN)
    unseen, held = receipt("usr_a", None), receipt("usr_held", PROOF * 2)
    world.services.retention_staff.place_hold(HoldTarget("subject", user_id="usr_held"), "Case", None, "dpo-1")
    world.services.retention_run.run()
    assert ids(world, NOTICE_RECEIPTS) == {young, unseen, held}
    assert old not in ids(world, NOTICE_RECEIPTS)


def test_a_disclosure_goes_three_years_after_its_people_were_told_never_while_gagged(world: RetentionWorld) -> None:
    def entry(told: timedelta | None, subjects: tuple[str, ...] = ("usr_a",)) -> str:
        disclosed = ago(world, PROOF * 2)
        record = Disclosure(
            id=str(uuid.uuid4()),
            authority="A court",
            instrument=Instrument.COURT_ORDER,
            legal_basis="§ 100 StPO",
            categories=["personal-information"],
            subjects=list(subjects),
            disclosed="Name and address",
            disclosed_at=disclosed,
            outcome=Outcome.DISCLOSED,
            approved_by="legal-1",
            recorded_by="legal-1",
            recorded_at=disclosed,
            gag_until=None if told is not None else world.clock.now() + timedelta(days=30),
            gag_reason=None if told is not None else "The court forbids telling them yet",
        )
        if told is not None:
            record.note(ago(world, told), "legal-1", PEOPLE_NOTIFIED, "notice n-1")
        world.store.create(DISCLOSURES, record.to_document())
        return record.id

    old, young = entry(PROOF + MARGIN), entry(PROOF - MARGIN)
    gagged, held = entry(None), entry(PROOF + MARGIN, subjects=("usr_held", "usr_b"))
    world.services.retention_staff.place_hold(HoldTarget("subject", user_id="usr_held"), "Case", None, "dpo-1")
    world.services.retention_run.run()
    assert ids(world, DISCLOSURES) == {young, gagged, held}
    assert old not in ids(world, DISCLOSURES)
    assert utc_text(ago(world, PROOF - MARGIN)) == next(
        d["notifiedAt"] for d in world.store.all(DISCLOSURES) if d["id"] == young
    )
