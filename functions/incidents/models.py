"""Bodies and views of the breach-incident API."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from core.models import Body, Count, EmailAddress, OneOf, ShortText, Text, UtcDateTime, View
from functions.fanout.models import MailingDeliveryView
from functions.incidents.lifecycle import IncidentNoticeStatus, IncidentStatus

# Incidents and notices are named by UUIDs as uuid4() writes them; a path id of any other form is a 422.
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
IncidentId = Annotated[str, StringConstraints(pattern=f"^{ID.pattern}$")]
NoticeId = IncidentId
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^(GDPR|US-[A-Z]{2})$")]


def _categories() -> list[str]:
    from functions.inventory.declaration import inventory  # deferred: read on first use

    return list(inventory().categories)


def _jurisdictions() -> list[str]:
    from functions.incidents.clocks import known_jurisdictions

    return known_jurisdictions()


# What an incident names: the data inventory's categories, and the jurisdictions with known rules.
Category = Annotated[str, OneOf(_categories, "names a category that is not in the data inventory")]
KnownJurisdiction = Annotated[str, OneOf(_jurisdictions, "names a jurisdiction without known rules")]


class BreachTimeBody(Body):
    """When the breach happened: on a date, an estimate, or a range between two times (in either
    order: the earlier is its start)."""

    # The validator below, as the document states it.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "properties": {"kind": {"const": "range"}, "start": {"type": "string"}, "end": {"type": "string"}},
                    "required": ["start", "end"],
                },
                {"properties": {"kind": {"enum": ["date", "estimate"]}, "at": {"type": "string"}}, "required": ["at"]},
            ]
        }
    )

    kind: Literal["date", "estimate", "range"]
    at: UtcDateTime | None = None
    start: UtcDateTime | None = None
    end: UtcDateTime | None = None

    @model_validator(mode="after")
    def _complete(self) -> BreachTimeBody:
        if self.kind == "range":
            if self.start is None or self.end is None:
                raise ValueError("a range needs start and end")
            if self.end < self.start:  # no JSON Schema can say which comes first: both orders are one range
                self.start, self.end = self.end, self.start
        elif self.at is None:
            raise ValueError("a date or an estimate needs at")
        return self


class IncidentRequest(Body):
    title: ShortText
    aware_at: UtcDateTime = Field(description="When the company became aware (GDPR Art. 33(1)'s clock starts here).")
    determined_at: UtcDateTime | None = Field(default=None, description="When it was determined a breach occurred.")
    breach_time: BreachTimeBody | None = None
    description: Text
    categories: list[Category] = Field(default_factory=list, max_length=20)
    approx_people: Count | None = None
    approx_records: Count | None = None
    jurisdictions: list[KnownJurisdiction] = Field(default_factory=list, max_length=60)
    residents: dict[Jurisdiction, Count] = Field(default_factory=dict, max_length=60)
    contact_point: ShortText = Field(description="The DPO or other contact point (GDPR Art. 33(3)(b)).")


class AssessmentRequest(Body):
    notify_authority: bool
    notify_people: bool
    reason: Text = Field(description="Why (GDPR Art. 33(5)): required also when nobody is notified.")


class DelayRequest(Body):
    agency: ShortText
    reason: Text
    until: UtcDateTime | None = None


class FilingRequest(Body):
    authority: ShortText
    filed_at: UtcDateTime
    reference: ShortText | None = None
    late_reasons: Text | None = Field(
        default=None, description="Required when filed more than 72 hours after awareness."
    )


RECIPIENTS_PER_CALL = 1000


class RecipientsRequest(Body):
    emails: list[EmailAddress] = Field(min_length=1, max_length=RECIPIENTS_PER_CALL)


class SelectionRequest(Body):
    locations: list[Annotated[str, StringConstraints(max_length=64)]] = Field(min_length=1, max_length=20)
    since: UtcDateTime
    until: UtcDateTime


class NoticeContentBody(Body):
    what_happened: Text | None = None
    information_involved: Text | None = None
    what_we_are_doing: Text | None = None
    what_you_can_do: Text | None = None
    more_information: Text | None = None
    protection_provided: Text | None = None
    advice: Text | None = None
    cure_and_timeframe: Text | None = None
    contact_point: Text | None = None
    likely_consequences: Text | None = None
    measures: Text | None = None
    delay_statement: Text | None = None


class IncidentNoticeRequest(Body):
    subject: ShortText
    content: NoticeContentBody


class ReportQuery(Body):
    format: Literal["json", "html"] = Field(default="json", description="json, or html: a page to print or file.")


class PreviewQuery(Body):
    format: Literal["html", "text"] = Field(default="html", description="The mail's HTML part, or its text part.")


# ---- views


class ClockView(View):
    jurisdiction: str
    audience: str
    citation: str
    source: str
    due_at: UtcDateTime | None = Field(description="null: no fixed deadline, or not started yet (see note)")
    note: str
    stopped: bool


class IncidentNoticeView(View):
    id: str
    incident_id: str
    phase: int
    subject: str
    status: IncidentNoticeStatus
    author: str
    created_at: UtcDateTime
    approved_by: str | None
    approved_at: UtcDateTime | None
    sent_at: UtcDateTime | None
    record: str | None = Field(
        default=None,
        description="Once sent: a compact JWS (ES256) recording what went out and to how many people; "
        "verify it against GET /api/proof/jwks.json.",
    )
    missing: list[str] = Field(description="Parts still empty; approval is refused while any is listed.")


class IncidentView(View):
    id: str
    status: IncidentStatus
    title: str
    aware_at: UtcDateTime
    determined_at: UtcDateTime | None
    breach_time: str | None
    description: str
    categories: list[str]
    approx_people: int | None
    approx_records: int | None
    jurisdictions: list[str]
    residents: dict[str, int]
    contact_point: str
    recipients: int
    selection_running: bool
    assessed: bool
    authority_filed_at: UtcDateTime | None
    law_enforcement_delay_until: UtcDateTime | None
    clocks: list[ClockView]
    notices: list[IncidentNoticeView]
    warnings: list[str]


class IncidentNoticeActionView(IncidentView):
    """The incident after an action on one of its notices, and that notice."""

    notice: IncidentNoticeView = Field(description="The notice drafted, revised, approved or sent.")


class ReportNatureView(View):
    description: str
    categories_of_data: list[str]
    approximate_data_subjects: int | None
    approximate_records: int | None


class ReportAssessmentView(View):
    notify_authority: bool
    notify_people: bool
    reason: str
    decided_by: str
    decided_at: UtcDateTime


class ReportDelayView(View):
    agency: str
    reason: str
    until: UtcDateTime | None
    recorded_at: UtcDateTime


class ReportFilingView(View):
    authority: str
    filed_at: UtcDateTime
    reference: str | None
    late_reasons: str | None
    recorded_by: str


class ReportPhaseView(View):
    phase: int
    status: IncidentNoticeStatus
    sent_at: UtcDateTime | None


class AuthorityReportView(View):
    """GDPR Art. 33(3) (a)-(d), with the times Art. 33(1) asks about."""

    incident_id: str
    title: str
    aware_at: UtcDateTime
    deadline: UtcDateTime = Field(description="72 hours after awareAt (Art. 33(1)).")
    breach_time: str | None
    nature: ReportNatureView = Field(description="Art. 33(3)(a).")
    contact_point: str = Field(description="Art. 33(3)(b).")
    likely_consequences: str | None = Field(description="Art. 33(3)(c), from the latest notice.")
    measures: str | None = Field(description="Art. 33(3)(d), from the latest notice.")
    assessment: ReportAssessmentView | None = Field(description="Art. 33(5).")
    law_enforcement_delay: ReportDelayView | None
    filing: ReportFilingView | None
    phases: list[ReportPhaseView] = Field(description="Notices in phases (Art. 33(4)).")


class IncidentListView(View):
    incidents: list[IncidentView]


class RecipientsAddedView(View):
    added: int
    already_recorded: int
    total: int


class NoticeDeliveryView(MailingDeliveryView):
    phase: int


class DeliveryView(View):
    notices: list[NoticeDeliveryView]
