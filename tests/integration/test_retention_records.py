"""Retention of our own records and legal holds against the real Cosmos DB stand-in: the queries the
fake store only imitates (OR, parentheses, ARRAY_CONTAINS of an undefined field, LOWER, comparing two
fields of an item) as Cosmos DB's SQL reads them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bootstrap import Services
from core.containers import AUDIT, DISCLOSURES, INCIDENT_RECIPIENTS, INCIDENTS, MAIL_BATCHES, NOTICES, PROFILES
from core.settings import Settings
from functions.fanout.batch_record import Addressee, Batch
from functions.fanout.lifecycle import BatchStatus
from functions.incidents.incident_record import Incident, Notice, NoticeContent
from functions.incidents.lifecycle import IncidentNoticeStatus
from functions.incidents.recipient_record import Recipient
from functions.notices.lifecycle import Audience, Instrument, NoticeKind, Outcome
from functions.notices.notice_record import PEOPLE_NOTIFIED, Disclosure
from functions.notices.notice_record import Notice as PublishedNotice
from functions.notices.notice_record import NoticeStatus as BoardStatus
from functions.retention.staff import HoldTarget
from tests.fakes import MovableClock

pytestmark = pytest.mark.integration
OLD = timedelta(days=1826 + 2)  # past every period of these records


@pytest.fixture
def svc(app_settings: dict[str, str]) -> Services:
    return Services(Settings(app_settings), MovableClock(datetime.now(UTC)))


def present(svc: Services, container: str, item_id: str, partition: str) -> bool:
    return svc.documents.read(container, item_id, partition) is not None


def breach(svc: Services) -> tuple[str, str, str]:
    """An old incident whose notice went out long ago, one affected person and the notice's batch."""
    now, incident_id = svc.clock.now(), str(uuid.uuid4())
    notice = Notice(
        id=f"notice-{incident_id}",
        phase=1,
        subject="About a breach",
        content=NoticeContent(),
        status=IncidentNoticeStatus.SENT,
        author="sec-1",
        created_at=now - OLD,
        sent_at=now - OLD,
    )
    record = Incident(
        id=incident_id,
        title="Lost laptop",
        aware_at=now - OLD,
        description="A laptop was lost.",
        contact_point="privacy@example.test",
        created_by="sec-1",
        created_at=now - OLD,
        notices=[notice],
    )
    svc.documents.create(INCIDENTS, record.to_document())
    recipient = Recipient(id=f"key-{incident_id}", incident_id=incident_id, email="p@example.com", source="upload")
    svc.documents.create(INCIDENT_RECIPIENTS, recipient.to_document())
    batch = Batch(
        id=f"{notice.id}-000000",
        mailing_id=notice.id,
        kind="incident",
        seq=0,
        status=BatchStatus.SENT,
        recipients=[Addressee(id=recipient.id, email="p@example.com")],
        size=1,
        last_recipient_id=recipient.id,
        recorded_at=now - OLD,
    )
    svc.documents.create(MAIL_BATCHES, batch.to_document())
    return incident_id, recipient.id, batch.id


def naming(svc: Services, user_id: str) -> tuple[str, str]:
    """An old retired notice and an old disclosure entry, both naming ``user_id``."""
    now = svc.clock.now()
    notice = PublishedNotice(
        id=str(uuid.uuid4()),
        kind=NoticeKind.DISCLOSURE,
        title="A disclosure",
        text="What was disclosed.",
        audience=Audience.SUBJECTS,
        subjects=[user_id],
        status=BoardStatus.RETIRED,
        created_by="legal-1",
        created_at=now - OLD,
        retired_at=now - OLD,
    )
    svc.documents.create(NOTICES, notice.to_document())
    entry = Disclosure(
        id=str(uuid.uuid4()),
        authority="A court",
        instrument=Instrument.COURT_ORDER,
        legal_basis="A court order",
        categories=["personal-information"],
        subjects=[user_id],
        disclosed="Name",
        disclosed_at=now - OLD,
        outcome=Outcome.DISCLOSED,
        approved_by="legal-1",
        recorded_by="legal-1",
        recorded_at=now - OLD,
    )
    entry.note(now - OLD, "legal-1", PEOPLE_NOTIFIED, f"notice {notice.id}")
    svc.documents.create(DISCLOSURES, entry.to_document())
    return notice.id, entry.id


def test_held_incidents_and_records_naming_a_held_user_stay_and_the_rest_go(svc: Services) -> None:
    held_incident, held_person, held_batch = breach(svc)
    free_incident, free_person, free_batch = breach(svc)
    held_user, free_user = f"usr_{uuid.uuid4().hex[:12]}", f"usr_{uuid.uuid4().hex[:12]}"
    held_notice, held_entry = naming(svc, held_user)
    free_notice, free_entry = naming(svc, free_user)
    staff = svc.retention_staff
    incident_hold, _ = staff.place_hold(HoldTarget("incident", incident_id=held_incident), "Claims", None, "dpo-1")
    user_hold, _ = staff.place_hold(HoldTarget("subject", user_id=held_user), "Case", None, "dpo-1")
    dry = {r.rule: r for r in staff.dry_run().rules}
    assert all(r.error is None for r in dry.values()), dry
    assert dry["incidents"].held >= 1
    assert dry["mail-batches"].held >= 1
    report = svc.retention_run.run()
    assert report.outcome == "finished", report.failures
    assert present(svc, INCIDENTS, held_incident, held_incident)
    assert present(svc, INCIDENT_RECIPIENTS, held_person, held_incident)
    assert present(svc, MAIL_BATCHES, held_batch, f"notice-{held_incident}")
    assert present(svc, NOTICES, held_notice, held_notice)
    assert present(svc, DISCLOSURES, held_entry, held_entry)
    assert not present(svc, INCIDENTS, free_incident, free_incident)
    assert not present(svc, INCIDENT_RECIPIENTS, free_person, free_incident)
    assert not present(svc, MAIL_BATCHES, free_batch, f"notice-{free_incident}")
    assert not present(svc, NOTICES, free_notice, free_notice)
    assert not present(svc, DISCLOSURES, free_entry, free_entry)
    for hold in (incident_hold, user_hold):
        staff.release_hold(hold.id, "dpo-1", "Done")


def test_addresses_are_cleared_and_an_address_recorded_again_waits_for_a_later_notice(svc: Services) -> None:
    """The address rule compares two fields of the incident (its mark and its last notice): one recorded
    again after the clearing is not cleared until a notice after the mark has been followed."""
    incident_id, person, _ = breach(svc)
    svc.incidents.change(incident_id, lambda i: setattr(i, "created_at", svc.clock.now()))  # a young breach record
    svc.retention_run.run()
    cleared = svc.documents.read(INCIDENT_RECIPIENTS, person, incident_id)
    assert cleared is not None
    assert "email" not in cleared.body
    assert (
        svc.incidents.add_recipient(
            Recipient(id=person, incident_id=incident_id, email="back@example.com", source="upload")
        )
        is False
    )
    svc.retention_run.run()  # the last notice is still the old one, and it was cleared after it: stays
    kept = svc.documents.read(INCIDENT_RECIPIENTS, person, incident_id)
    assert kept is not None
    assert kept.body["email"] == "back@example.com"


def test_a_hold_by_address_finds_a_profile_without_email_hash_and_keeps_its_requests_audit_trail(
    svc: Services,
) -> None:
    user_id = f"usr_{uuid.uuid4().hex[:12]}"
    email = f"Mixed.{user_id}@Example.com"
    closed = (svc.clock.now() - timedelta(days=400)).isoformat()
    svc.documents.upsert(PROFILES, {"id": user_id, "userId": user_id, "email": email, "closedAt": closed})
    hold, _ = svc.retention_staff.place_hold(HoldTarget("subject", email=email.lower()), "Case", None, "dpo-1")
    assert hold.user_id == user_id
    old = svc.clock.now() - timedelta(days=1200)
    record = {"id": uuid.uuid4().hex, "month": old.strftime("%Y-%m"), "at": old.isoformat(), "actor": "dpo-1"}
    svc.documents.create(AUDIT, {**record, "action": "legal-hold.placed", "target": f"hold:{hold.id}", "details": {}})
    report = svc.retention_run.run()
    assert report.outcome == "finished", report.failures
    assert present(svc, PROFILES, user_id, user_id)
    assert present(svc, AUDIT, record["id"], record["month"])
    svc.retention_staff.release_hold(hold.id, "dpo-1", "Done")
    svc.retention_run.run()
    assert not present(svc, PROFILES, user_id, user_id)  # no emailHash: still purged once free
