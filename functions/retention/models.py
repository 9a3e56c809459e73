"""Bodies and views of the retention API: they validate input and generate the OpenAPI."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from core.models import Body, EmailAddress, UtcDateTime, View
from functions.incidents.models import IncidentId
from functions.requests.models import RequestId, UserId

VisitorId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
HoldId = Annotated[str, StringConstraints(pattern=r"^hold-[0-9a-f]{24}$")]
RunId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
HOLD_ID = re.compile(r"hold-[0-9a-f]{24}")  # path ids of another form name no hold (404, never reaching Cosmos)
RUN_ID = re.compile(r"[0-9a-f]{32}")


class HoldSubject(Body):
    """A subject: exactly one of a product user, an address (looked up by its keyed hash, never
    stored) or a website visitor."""

    user_id: UserId | None = None
    email: EmailAddress | None = None
    visitor_id: VisitorId | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if sum(v is not None for v in (self.user_id, self.email, self.visitor_id)) != 1:
            raise ValueError("name exactly one of userId, email and visitorId")
        return self


class PlaceHoldRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"subject": {"userId": "usr_demo_ada"}, "reason": "Litigation 2026-17: keep all records."},
                {"requestId": "0f8c2b9e-4d1a-4c3e-9b7a-2f6d5e4c3b2a", "reason": "Complaint to the authority."},
                {"incidentId": "5d1c7e2a-8b3f-4a6e-9c0d-1e2f3a4b5c6d", "reason": "Claims after the breach."},
            ]
        }
    )
    subject: HoldSubject | None = None
    request_id: RequestId | None = None
    incident_id: IncidentId | None = None
    reason: str = Field(min_length=3, max_length=2000, description="For staff and auditors; never sent to the person.")
    ends_at: UtcDateTime | None = Field(default=None, description="ISO 8601 with an offset; absent: until released.")

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if sum(v is not None for v in (self.subject, self.request_id, self.incident_id)) != 1:
            raise ValueError("name exactly one of a subject, a requestId and an incidentId")
        return self


class ReleaseHoldRequest(Body):
    reason: str = Field(min_length=3, max_length=2000)


class HoldListQuery(Body):
    status: Literal["in-force", "ended", "all"] = "in-force"


class RunListQuery(Body):
    limit: int = Field(default=20, ge=1, le=100)


class HoldView(View):
    id: str
    kind: str
    user_id: str | None
    subject_key: str | None = Field(description="The keyed hash of an address the hold was placed by.")
    visitor_id: str | None
    request_id: str | None
    incident_id: str | None
    reason: str
    status: Literal["in-force", "released", "ended"]
    ends_at: datetime | None
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


class HoldListView(View):
    holds: list[HoldView]


class ReleasedView(View):
    hold: HoldView
    erasures_resumed: list[str] = Field(description="Erasures the hold had kept back, now running again.")


class FailedItemView(View):
    item: str = Field(description="The item's keyed reference: the same in every report, never its id.")
    error: str = Field(description="The error's class, never its message.")
    tries: int
    parked: bool = Field(description="Failed too often: tried again weekly.")


class RuleReportView(View):
    rule: str
    location: str
    cutoff: datetime
    examined: int
    purged: int
    held: int
    skipped: int
    errors: list[str] = Field(description="The classes of the errors met, never their messages.")
    failed: list[FailedItemView] = Field(description="Items this run could not purge; the rest of the rule went on.")
    failing: int = Field(description="Items on record as failing when the rule stopped, waiting for their next try.")
    finished: bool
    duration_ms: int


class RunReportView(View):
    id: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    rules: list[RuleReportView]
    holds_followed_up: int
    errors: list[str]


class RunListView(View):
    runs: list[RunReportView]


class DryRunRuleView(View):
    rule: str
    location: str
    cutoff: datetime
    due: int = Field(description="Items a purge now would remove.")
    held: int = Field(description="Items past their period that legal holds keep.")
    oldest_age_days: int | None = Field(description="Days since the clock of the oldest item due started.")
    error: str | None


class DryRunView(View):
    at: datetime
    rules: list[DryRunRuleView]


class PeriodView(View):
    amount: int
    unit: Literal["days", "years"]
    clock: str = Field(
        alias="from", description="created, last-activity, closed, withdrawn, expired, invalidated, notified"
    )
    year_end: bool
    time_zone: str
    text: str


class LegalMinimumView(View):
    text: str
    citation: str
    source: Literal["verified", "secondary"]


class RetentionRuleView(View):
    rule: str
    location: str
    category: str
    holder: str
    items: str
    period: PeriodView
    reason: str
    legal_minimum: LegalMinimumView | None


class RetentionTableView(View):
    controller: str
    rules: list[RetentionRuleView]
