"""A breach incident as stored in ``incidents``: what happened, the assessment, the filing, the
law-enforcement delay and the notices, with the incident's own log (Art. 33(5): every breach is
documented, the facts, its effects and the remedial action)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, computed_field

from core.models import LogEntry, StoredDocument, UtcDateTime, VersionedDocument
from functions.incidents.lifecycle import IncidentNoticeStatus, IncidentStatus


class BreachTime(StoredDocument):
    """Policy (i): "date of breach if possible, or estimated date of incident, or the date range"."""

    kind: Literal["date", "estimate", "range"]
    at: UtcDateTime | None = None
    start: UtcDateTime | None = None
    end: UtcDateTime | None = None

    def describe(self) -> str:
        if self.kind == "range" and self.start and self.end:
            return f"between {self.start.date().isoformat()} and {self.end.date().isoformat()}"
        if self.at is None:
            return ""
        return ("on " if self.kind == "date" else "on or about ") + self.at.date().isoformat()


class LawEnforcementDelay(StoredDocument):
    agency: str
    reason: str
    until: UtcDateTime | None = None  # None: until the agency says otherwise
    recorded_by: str
    recorded_at: UtcDateTime


class Assessment(StoredDocument):
    """Art. 33(5): the decision whether to notify, by whom and why, kept for every breach."""

    notify_authority: bool
    notify_people: bool
    reason: str
    decided_by: str
    decided_at: UtcDateTime


class AuthorityFiling(StoredDocument):
    authority: str
    filed_at: UtcDateTime
    reference: str | None = None
    late_reasons: str | None = None  # Art. 33(1): a notification after 72 hours states why
    recorded_by: str


class NoticeContent(StoredDocument):
    what_happened: str | None = None
    information_involved: str | None = None
    what_we_are_doing: str | None = None
    what_you_can_do: str | None = None
    more_information: str | None = None
    protection_provided: str | None = None
    advice: str | None = None
    cure_and_timeframe: str | None = None
    contact_point: str | None = None
    likely_consequences: str | None = None
    measures: str | None = None
    delay_statement: str | None = None


class Notice(StoredDocument):
    id: str
    phase: int  # Art. 33(4): information may be given in phases, each an approved notice of its own
    subject: str
    content: NoticeContent
    status: IncidentNoticeStatus = IncidentNoticeStatus.DRAFT
    author: str
    created_at: UtcDateTime
    approved_by: str | None = None
    approved_at: UtcDateTime | None = None
    dispatch_started_at: UtcDateTime | None = None
    sent_at: UtcDateTime | None = None
    batches: int = 0
    recipients: int = 0
    rejected_batches: int = 0
    record: str | None = None  # once sent: the signed record of what went out (notice_record.py)


class ClockWarning(StoredDocument):
    clock: str  # "<jurisdiction>/<audience>"
    kind: Literal["due-soon", "passed"]
    at: UtcDateTime


class Incident(VersionedDocument):
    id: str
    status: IncidentStatus = IncidentStatus.OPEN
    title: str
    aware_at: UtcDateTime
    determined_at: UtcDateTime | None = None
    breach_time: BreachTime | None = None
    description: str
    categories: list[str] = Field(default_factory=list)
    approx_people: int | None = None
    approx_records: int | None = None
    jurisdictions: list[str] = Field(default_factory=list)
    residents: dict[str, int] = Field(default_factory=dict)
    contact_point: str
    created_by: str
    created_at: UtcDateTime
    law_enforcement_delay: LawEnforcementDelay | None = None
    assessment: Assessment | None = None
    authority_filing: AuthorityFiling | None = None
    notices: list[Notice] = Field(default_factory=list)
    recipients: int = 0  # affected people recorded so far
    selection_running: bool = False
    warnings: list[ClockWarning] = Field(default_factory=list)
    log: list[LogEntry] = Field(default_factory=list)
    # Retention rules done with the incident (its people deleted, their addresses cleared): kept here
    # so that a change to the incident keeps them too.
    purged_at: dict[str, UtcDateTime] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]  # stored: retention counts the people's addresses from it
    @property
    def notified_at(self) -> datetime | None:
        """When the affected people were last notified, once no notice to them is still to come: the
        last notice's sending, or, with none written, the decision not to notify them (Art. 34(3)).
        None while a notice is drafted, approved or being sent, or notices are still to be written."""
        if any(n.status != IncidentNoticeStatus.SENT for n in self.notices):
            return None
        if self.notices:
            return max(n.sent_at for n in self.notices if n.sent_at is not None)
        if self.assessment is not None and not self.assessment.notify_people:
            return self.assessment.decided_at
        return None

    def notice(self, notice_id: str) -> Notice | None:
        return next((n for n in self.notices if n.id == notice_id), None)

    def first_notice_sent_at(self) -> datetime | None:
        sent = [n.sent_at for n in self.notices if n.sent_at is not None]
        return min(sent) if sent else None

    def note(self, at: datetime, actor: str, action: str, detail: str = "") -> None:
        self.log.append(LogEntry(at=at, actor=actor, action=action, detail=detail))
