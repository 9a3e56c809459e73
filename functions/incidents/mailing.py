"""Breach notices as the fan-out sends them: the incident's affected people, the approved notice
as its letter (transactional: it reaches people who unsubscribed from marketing), and once every
batch went, the signed record of what went out (``notice_record.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.ports import Clock
from functions.fanout.batch_record import Addressee, BatchSummary
from functions.fanout.lifecycle import BatchStatus
from functions.fanout.mailing import Letter
from functions.incidents.incident_record import Incident
from functions.incidents.lifecycle import IncidentNoticeStatus
from functions.incidents.notice_mail import CATEGORY, render
from functions.incidents.notice_record import NOTICE_RECORD_TYPE, sent_notice_claims
from functions.incidents.repository import IncidentRepository

if TYPE_CHECKING:  # the signer (and cryptography) load when the first notice is signed, not on import
    from functions.proof.signer import DocumentSigner

KIND = "incident"


class IncidentNotices:
    kind = KIND

    def __init__(
        self,
        incidents: IncidentRepository,
        category_names: dict[str, str],
        clock: Clock,
        signer: DocumentSigner,
    ) -> None:
        self._incidents = incidents
        self._category_names = category_names
        self._clock = clock
        self._signer = signer  # signs the record of a notice sent

    def sending(self, owner: str, mailing_id: str) -> bool:
        notice = self._incidents.require(owner).notice(mailing_id)
        return notice is not None and notice.status == IncidentNoticeStatus.DISPATCHING

    def addressees_after(self, owner: str, mailing_id: str, after: str, limit: int) -> list[Addressee]:
        recipients = self._incidents.recipients_after(owner, after, limit)
        return [Addressee(id=r.id, email=r.email) for r in recipients if r.email is not None]

    def letter(self, owner: str, mailing_id: str) -> Letter:
        incident = self._incidents.require(owner)
        notice = incident.notice(mailing_id)
        assert notice is not None  # sending() said so
        mail = render(incident, notice, self._category_names)
        extra = {"incident_id": owner}
        return Letter(mail.subject, mail.text, mail.html, CATEGORY, transactional=True, custom_args=extra)

    def unsubscribe_url(self, addressee: Addressee) -> str | None:
        return None  # a breach notice is owed to the person: it carries no unsubscribe link

    def finished(self, owner: str, mailing_id: str, batches: list[BatchSummary]) -> None:
        now = self._clock.now()
        incident = self._incidents.require(owner)
        notice = incident.notice(mailing_id)
        if notice is None or notice.status != IncidentNoticeStatus.DISPATCHING:
            return
        sent = sum(b.size for b in batches if b.status == BatchStatus.SENT)
        rejected = sum(1 for b in batches if b.status == BatchStatus.REJECTED)
        claims = sent_notice_claims(incident, notice, self._category_names, (len(batches), sent, rejected), now)
        record, _ = self._signer.sign(NOTICE_RECORD_TYPE, claims)

        def finish(incident: Incident) -> None:
            notice = incident.notice(mailing_id)
            if notice is None or notice.status != IncidentNoticeStatus.DISPATCHING:
                return
            notice.status, notice.sent_at = IncidentNoticeStatus.SENT, now
            notice.batches, notice.recipients, notice.rejected_batches = len(batches), sent, rejected
            notice.record = record
            incident.note(now, "dispatch", "notice-sent", f"{mailing_id} batches={len(batches)}")

        self._incidents.change(owner, finish)
