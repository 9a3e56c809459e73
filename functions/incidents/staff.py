"""What incident staff do (role Privacy.Incident): record the breach, decide, file, write and approve
notices, name the affected people, and send. Every change is etag-guarded on the incident."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.errors import FieldError, InvalidValues
from core.ports import Clock, WorkQueue
from core.pseudonyms import keyed_hash
from functions.fanout.dispatch import FanOut
from functions.incidents import contents
from functions.incidents.clocks import known_jurisdictions
from functions.incidents.errors import (
    LateFilingNeedsReasons,
    NoRecipients,
    NoticeIncomplete,
    NoticeNotApproved,
    NoticeNotEditable,
    NoticeNotFound,
    SecondApproverRequired,
)
from functions.incidents.incident_record import (
    Assessment,
    AuthorityFiling,
    BreachTime,
    Incident,
    LawEnforcementDelay,
    Notice,
    NoticeContent,
)
from functions.incidents.lifecycle import SELECTION_QUEUE, IncidentNoticeStatus
from functions.incidents.mailing import KIND
from functions.incidents.recipient_record import Recipient
from functions.incidents.repository import IncidentRepository

GDPR_AUTHORITY_HOURS = 72  # GDPR Art. 33(1)


@dataclass(frozen=True)
class IncidentFacts:
    """What staff know of a breach; every field can be completed later (Art. 33(4))."""

    title: str
    aware_at: datetime
    description: str
    contact_point: str
    breach_time: BreachTime | None = None
    determined_at: datetime | None = None
    categories: list[str] = field(default_factory=list)
    approx_people: int | None = None
    approx_records: int | None = None
    jurisdictions: list[str] = field(default_factory=list)
    residents: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """Affected people found in the data inventory: items of these locations within a time window."""

    locations: list[str]
    since: datetime
    until: datetime


class IncidentStaff:
    def __init__(
        self,
        incidents: IncidentRepository,
        queue: WorkQueue,
        fan_out: FanOut,
        clock: Clock,
        pepper: str,
        categories: Iterable[str],
    ) -> None:
        self._incidents = incidents
        self._queue = queue
        self._fan_out = fan_out
        self._clock = clock
        self._pepper = pepper
        self._categories = frozenset(categories)

    def get(self, incident_id: str) -> Incident:
        return self._incidents.require(incident_id)

    def all_incidents(self) -> list[Incident]:
        return self._incidents.all()

    def open(self, facts: IncidentFacts, actor: str) -> Incident:
        self._check(facts.categories, facts.jurisdictions)
        now = self._clock.now()
        incident = Incident(id=str(uuid.uuid4()), created_by=actor, created_at=now, **self._fields(facts))
        incident.note(now, actor, "opened")
        return self._incidents.create(incident)

    def update(self, incident_id: str, facts: IncidentFacts, actor: str) -> Incident:
        self._check(facts.categories, facts.jurisdictions)
        now = self._clock.now()

        def update(incident: Incident) -> None:
            for name, value in self._fields(facts).items():
                setattr(incident, name, value)
            incident.note(now, actor, "updated")

        return self._incidents.change(incident_id, update)

    def assess(
        self, incident_id: str, notify_authority: bool, notify_people: bool, reason: str, actor: str
    ) -> Incident:
        """Art. 33(5): every breach is documented, those judged not notifiable too, with who decided and why."""
        now = self._clock.now()
        decision = Assessment(
            notify_authority=notify_authority,
            notify_people=notify_people,
            reason=reason,
            decided_by=actor,
            decided_at=now,
        )

        def assess(incident: Incident) -> None:
            incident.assessment = decision
            incident.note(now, actor, "assessed", f"authority={notify_authority} people={notify_people}")

        return self._incidents.change(incident_id, assess)

    def record_delay(self, incident_id: str, agency: str, reason: str, until: datetime | None, actor: str) -> Incident:
        now = self._clock.now()
        delay = LawEnforcementDelay(agency=agency, reason=reason, until=until, recorded_by=actor, recorded_at=now)

        def record(incident: Incident) -> None:
            incident.law_enforcement_delay = delay
            incident.note(now, actor, "law-enforcement-delay")

        return self._incidents.change(incident_id, record)

    def record_filing(
        self,
        incident_id: str,
        authority: str,
        filed_at: datetime,
        reference: str | None,
        late_reasons: str | None,
        actor: str,
    ) -> Incident:
        now = self._clock.now()

        def record(incident: Incident) -> None:
            late = filed_at > incident.aware_at + timedelta(hours=GDPR_AUTHORITY_HOURS)
            if late and not (late_reasons or "").strip():
                raise LateFilingNeedsReasons()
            incident.authority_filing = AuthorityFiling(
                authority=authority,
                filed_at=filed_at,
                reference=reference,
                late_reasons=late_reasons,
                recorded_by=actor,
            )
            incident.note(now, actor, "authority-filing-recorded", "late" if late else "in time")

        return self._incidents.change(incident_id, record)

    def add_recipients(self, incident_id: str, emails: list[str], actor: str) -> tuple[int, int]:
        """An explicit list of affected people; each address once, however often it is sent."""
        self._incidents.require(incident_id)
        by_id = {keyed_hash(self._pepper, email): email for email in emails}  # an address sent twice: once
        added = self._incidents.add_recipients(
            incident_id,
            [
                Recipient(id=recipient_id, incident_id=incident_id, email=email, source="upload")
                for recipient_id, email in by_id.items()
            ],
        )
        total = self._incidents.count_recipients(incident_id)
        now = self._clock.now()

        def count(incident: Incident) -> None:
            incident.recipients = total
            incident.note(now, actor, "recipients-added", str(added))

        self._incidents.change(incident_id, count)
        return added, len(emails) - added

    def select_recipients(self, incident_id: str, selection: Selection, actor: str) -> Incident:
        """Finds the affected people in the inventory, in the background (streamed, any number)."""
        now = self._clock.now()

        def start(incident: Incident) -> None:
            incident.selection_running = True
            incident.note(now, actor, "selection-started", ",".join(selection.locations))

        incident = self._incidents.change(incident_id, start)
        message = {
            "incidentId": incident_id,
            "locations": selection.locations,
            "since": selection.since.isoformat(),
            "until": selection.until.isoformat(),
        }
        self._queue.send(SELECTION_QUEUE, message)
        return incident

    def draft_notice(self, incident_id: str, subject: str, content: NoticeContent, actor: str) -> Incident:
        now = self._clock.now()

        def draft(incident: Incident) -> None:
            phase = len(incident.notices) + 1
            notice = Notice(
                id=str(uuid.uuid4()), phase=phase, subject=subject, content=content, author=actor, created_at=now
            )
            incident.notices.append(notice)
            incident.note(now, actor, "notice-drafted", f"phase={phase}")

        return self._incidents.change(incident_id, draft)

    def revise_notice(
        self, incident_id: str, notice_id: str, subject: str, content: NoticeContent, actor: str
    ) -> Incident:
        now = self._clock.now()

        def revise(incident: Incident) -> None:
            notice = self._notice(incident, notice_id)
            if notice.status != IncidentNoticeStatus.DRAFT:
                raise NoticeNotEditable()
            notice.subject, notice.content = subject, content
            incident.note(now, actor, "notice-revised", notice_id)

        return self._incidents.change(incident_id, revise)

    def missing(self, incident: Incident, notice: Notice) -> list[str]:
        return contents.missing_parts(
            notice.content.model_dump(by_alias=True),
            law_enforcement_delay=incident.law_enforcement_delay is not None,
            has_breach_time=incident.breach_time is not None,
        )

    def approve_notice(self, incident_id: str, notice_id: str, actor: str) -> Incident:
        """Nothing is sent before a second staff member, not the author, approves a complete notice."""
        now = self._clock.now()

        def approve(incident: Incident) -> None:
            notice = self._notice(incident, notice_id)
            if notice.status != IncidentNoticeStatus.DRAFT:
                raise NoticeNotEditable()
            if actor == notice.author:
                raise SecondApproverRequired()
            missing = self.missing(incident, notice)
            if missing:
                raise NoticeIncomplete(missing)
            notice.status, notice.approved_by, notice.approved_at = IncidentNoticeStatus.APPROVED, actor, now
            incident.note(now, actor, "notice-approved", notice_id)

        return self._incidents.change(incident_id, approve)

    def send_notice(self, incident_id: str, notice_id: str, actor: str) -> Incident:
        """Starts the fan-out; pressing it again changes nothing (the notice is already on its way)."""
        now = self._clock.now()
        started = False

        def start(incident: Incident) -> None:
            nonlocal started
            notice = self._notice(incident, notice_id)
            if notice.status in (IncidentNoticeStatus.DISPATCHING, IncidentNoticeStatus.SENT):
                return
            if notice.status != IncidentNoticeStatus.APPROVED:
                raise NoticeNotApproved()
            if incident.recipients == 0:
                raise NoRecipients()
            notice.status, notice.dispatch_started_at = IncidentNoticeStatus.DISPATCHING, now
            incident.note(now, actor, "notice-sending", notice_id)
            started = True

        incident = self._incidents.change(incident_id, start)
        if started:
            self._fan_out.start(KIND, incident_id, notice_id)
        return incident

    @staticmethod
    def _notice(incident: Incident, notice_id: str) -> Notice:
        notice = incident.notice(notice_id)
        if notice is None:
            raise NoticeNotFound()
        return notice

    def _check(self, categories: list[str], jurisdictions: list[str]) -> None:
        errors = []
        if any(c not in self._categories for c in categories):
            errors.append(FieldError("categories", "names a category that is not in the data inventory"))
        if any(j not in known_jurisdictions() for j in jurisdictions):
            errors.append(FieldError("jurisdictions", "names a jurisdiction without known rules"))
        if errors:
            raise InvalidValues(errors)

    @staticmethod
    def _fields(facts: IncidentFacts) -> dict[str, object]:
        return {
            "title": facts.title,
            "aware_at": facts.aware_at,
            "determined_at": facts.determined_at,
            "breach_time": facts.breach_time,
            "description": facts.description,
            "categories": facts.categories,
            "approx_people": facts.approx_people,
            "approx_records": facts.approx_records,
            "jurisdictions": facts.jurisdictions,
            "residents": facts.residents,
            "contact_point": facts.contact_point,
        }
