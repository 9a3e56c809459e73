"""Bodies and views of the breach-incident API."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from core.models import Body, EmailAddress, UtcDateTime, View
from functions.fanout.models import MailingDeliveryView
from functions.incidents.lifecycle import IncidentStatus, NoticeStatus

# Incidents and notices are named by UUIDs as uuid4() writes them; a path id of any other form is a 422.
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
IncidentId = Annotated[str, StringConstraints(pattern=f"^{ID.pattern}$")]
NoticeId = IncidentId
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^(GDPR|US-[A-Z]{2})$")]


class BreachTimeBody(Body):
    kind: Literal["date", "estimate", "range"]
    at: UtcDateTime | None = None
    start: UtcDateTime | None = None
    end: UtcDateTime | None = None

    @model_validator(mode="after")
    def _complete(self) -> BreachTimeBody:
        if self.kind == "range" and not (self.start and self.end and self.start <= self.end):
            raise ValueError("a range needs start and end, start first")
        if self.kind != "range" and self.at is None:
            raise ValueError("a date or an estimate needs at")
        return self


class IncidentRequest(Body):
    title: ShortText
    aware_at: UtcDateTime = Field(description="When the company became aware (GDPR Art. 33(1)'s clock starts here).")
    determined_at: UtcDateTime | None = Field(default=None, description="When it was determined a breach occurred.")
    breach_time: BreachTimeBody | None = None
    description: Text
    categories: list[Annotated[str, StringConstraints(max_length=64)]] = Field(default_factory=list, max_length=20)
    approx_people: int | None = Field(default=None, ge=0)
    approx_records: int | None = Field(default=None, ge=0)
    jurisdictions: list[Jurisdiction] = Field(default_factory=list, max_length=60)
    residents: dict[Jurisdiction, Annotated[int, Field(ge=0)]] = Field(default_factory=dict, max_length=60)
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


class NoticeRequest(Body):
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


class NoticeView(View):
    id: str
    phase: int
    subject: str
    status: NoticeStatus
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
    notices: list[NoticeView]
    warnings: list[str]


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
    status: NoticeStatus
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
