"""Notices the policy promises (business transfer, policy change, legal disclosure, sub-processors),
as stored in ``notices``; what each person has seen, in ``notice-receipts``; and the register of
legal disclosures, in ``disclosures``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, computed_field

from core.models import LogEntry, StoredDocument, UtcDateTime, VersionedDocument
from functions.notices.lifecycle import Audience, Instrument, NoticeKind, Outcome

PEOPLE_NOTIFIED = "people-notified"  # the log action of a disclosure whose people were told


class NoticeStatus(StrEnum):
    ACTIVE = "active"  # shown in the service and (if by email) mailed
    RETIRED = "retired"  # no longer shown


class MailingStatus(StrEnum):
    NONE = "none"  # not mailed
    SENDING = "sending"
    SENT = "sent"


class Notice(VersionedDocument):
    id: str
    kind: NoticeKind
    title: str
    text: str
    link: str | None = None
    audience: Audience
    renew_purposes: list[str] = Field(default_factory=list)  # for Audience.RENEWAL
    subjects: list[str] = Field(default_factory=list)  # user ids, for Audience.SUBJECTS
    in_service: bool = True
    by_email: bool = True
    status: NoticeStatus = NoticeStatus.ACTIVE
    mailing: MailingStatus = MailingStatus.NONE
    created_by: str
    created_at: UtcDateTime
    retired_at: UtcDateTime | None = None
    mailed_at: UtcDateTime | None = None
    recipients: int = 0
    log: list[LogEntry] = Field(default_factory=list)

    def note(self, at: datetime, actor: str, action: str, detail: str = "") -> None:
        self.log.append(LogEntry(at=at, actor=actor, action=action, detail=detail))


class ActiveNotice(StoredDocument):
    """What the website and dashboard show: a notice for everyone, in service now."""

    id: str
    kind: NoticeKind
    title: str
    text: str
    link: str | None
    since: UtcDateTime


class ActiveNotices(VersionedDocument):
    """One document with every notice in service for everyone: the public list costs one point read."""

    id: str = "active"
    notices: list[ActiveNotice] = Field(default_factory=list)


class Receipt(StoredDocument):
    """A notice meant for one person (a disclosure of their data), and whether they have seen it."""

    id: str  # the notice id
    user_id: str
    targeted: bool  # meant for this person alone (a notice for everyone needs no receipt to be shown)
    seen_at: UtcDateTime | None = None


class Disclosure(VersionedDocument):
    """One entry of the register of legal disclosures: append-only; what happens later is in its log."""

    id: str
    authority: str
    instrument: Instrument
    legal_basis: str
    categories: list[str]
    subjects: list[str]  # user ids whose data was disclosed
    disclosed: str  # what was handed over, described
    disclosed_at: UtcDateTime
    outcome: Outcome
    approved_by: str
    recorded_by: str
    recorded_at: UtcDateTime
    gag_until: UtcDateTime | None = None  # the law forbids telling the people until then
    gag_reason: str | None = None
    notice_id: str | None = None  # set when the people were told
    gag_warning_sent: bool = False
    log: list[LogEntry] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]  # stored: retention counts the entry's time from it
    @property
    def notified_at(self) -> datetime | None:
        """When the people concerned were told (at once, or when the gag ended); None until then."""
        return next((e.at for e in self.log if e.action == PEOPLE_NOTIFIED), None)

    def note(self, at: datetime, actor: str, action: str, detail: str = "") -> None:
        self.log.append(LogEntry(at=at, actor=actor, action=action, detail=detail))
