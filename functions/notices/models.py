"""Bodies and views of the notices, opt-outs, disclosures and unsubscribe API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from core.models import Body, HttpsLink, ShortText, Text, Title, UtcDateTime, View
from functions.consent.models import PurposeId
from functions.notices.board_view import ActiveNoticeView
from functions.notices.ids import UUID
from functions.notices.lifecycle import Audience, Instrument, NoticeKind, Outcome
from functions.notices.notice_record import MailingStatus, NoticeStatus
from functions.proof.models import ConsentReceiptView
from functions.retention.models import RetentionRuleView

NoticeId = Annotated[str, StringConstraints(pattern=f"^{UUID.pattern}$")]
UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@|:-]{1,128}$")]
PushToken = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
OptOutPurpose = Literal["marketing-email", "push-notifications"]
MAX_SUBJECTS = 10_000  # people named by one disclosure notice


class NoticeRequest(Body):
    # The validator below, as the document states it.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"properties": {"inService": {"const": True}}}, {"properties": {"byEmail": {"const": True}}}]
        }
    )

    kind: Literal["business-transfer", "policy-change", "subprocessor-change"]
    title: Title
    text: Text
    link: HttpsLink | None = None
    audience: Literal["everyone", "renewal"] = "everyone"
    renew_purposes: list[PurposeId] = Field(default_factory=list, max_length=64)
    in_service: bool = Field(default=True, description="Shown by GET /api/notices/active until retired.")
    by_email: bool = Field(default=True, description="Mailed to every person of the audience, once.")

    @model_validator(mode="after")
    def _shown_somewhere(self) -> NoticeRequest:
        if not (self.in_service or self.by_email):
            raise ValueError("a notice is shown in the service, mailed, or both")
        return self


class ActiveNoticesView(View):
    notices: list[ActiveNoticeView]


class NoticeView(View):
    id: str
    kind: NoticeKind
    title: str
    text: str
    link: str | None
    audience: Audience
    status: NoticeStatus
    in_service: bool
    by_email: bool
    mailing: MailingStatus
    recipients: int
    created_by: str
    created_at: UtcDateTime
    mailed_at: UtcDateTime | None
    retired_at: UtcDateTime | None
    people: int = Field(description="People named (a disclosure notice); 0 for a notice to an audience.")


class NoticeListView(View):
    notices: list[NoticeView]


class OptOutView(View):
    purpose: str
    withdrawn: bool = Field(description="False: it was withdrawn already and nothing new was recorded.")
    event_seq: int
    receipt: ConsentReceiptView | None = Field(
        description="The signed receipt of the withdrawal recorded (of the first, on a retry); "
        "null when it was withdrawn already."
    )


class DeviceOptOutRequest(Body):
    user_id: UserId
    purpose: Literal["push-notifications"] = "push-notifications"


class StaffOptOutRequest(Body):
    purpose: OptOutPurpose
    reason: ShortText = Field(description="How the person asked (an email's ticket number, say); audited.")


class InvalidTokensRequest(Body):
    user_id: UserId
    tokens: list[PushToken] = Field(min_length=1, max_length=500)


class InvalidTokensView(View):
    deleted: int


class AllowedQuery(Body):
    purpose: PurposeId
    page_size: int = Field(default=500, ge=1, le=1000)
    continuation: Annotated[str, StringConstraints(max_length=4000)] | None = None


class AllowedSubjectView(View):
    subject_id: str
    email: str | None
    unsubscribe_url: str | None


class AllowedPageView(View):
    subjects: list[AllowedSubjectView]
    continuation: str | None


class UnsubscribeQuery(Body):
    token: Annotated[str, StringConstraints(min_length=10, max_length=2000)]


class MarketingSyncView(View):
    pending: int
    oldest_pending_at: UtcDateTime | None
    group_configured: bool


class DisclosureRequest(Body):
    # The validator below, as the document states it: no gag, or a gag with its reason.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"gagUntil": {"type": "null"}}},
                {"properties": {"gagReason": {"type": "string"}}, "required": ["gagReason"]},
            ]
        }
    )

    authority: ShortText = Field(description="Who asked: the court, agency or authority.")
    instrument: Instrument
    legal_basis: ShortText = Field(description="The statute or order, e.g. its docket number.")
    categories: list[Annotated[str, StringConstraints(max_length=64)]] = Field(min_length=1, max_length=20)
    subjects: list[UserId] = Field(min_length=1, max_length=MAX_SUBJECTS, description="User ids concerned.")
    disclosed: Text = Field(description="What was handed over, described.")
    disclosed_at: UtcDateTime
    outcome: Outcome
    approved_by: ShortText = Field(description="Who approved the disclosure (name or staff id).")
    gag_until: UtcDateTime | None = Field(default=None, description="The law forbids telling the people until then.")
    gag_reason: ShortText | None = None

    @model_validator(mode="after")
    def _gag_has_reason(self) -> DisclosureRequest:
        if self.gag_until is not None and not self.gag_reason:
            raise ValueError("a gag needs its reason (the order or statute that imposes it)")
        return self


class GagRequest(Body):
    until: UtcDateTime | None = Field(description="The new end of the gag; null when it is lifted now.")
    reason: ShortText


class DisclosureView(View):
    id: str
    authority: str
    instrument: Instrument
    legal_basis: str
    categories: list[str]
    subjects: list[str] = Field(description="The user ids concerned (staff only; the read is audited).")
    people: int
    disclosed: str
    disclosed_at: UtcDateTime
    outcome: Outcome
    approved_by: str
    recorded_by: str
    recorded_at: UtcDateTime
    gag_until: UtcDateTime | None
    gag_reason: str | None
    notice_id: str | None
    log: list[dict[str, str]]


class DisclosureListView(View):
    disclosures: list[DisclosureView]


class ReportCellView(View):
    half_year: str
    instrument: Instrument
    outcome: Outcome
    count: int | None = Field(description="null when fewer than 5: then band says how many.")
    band: str | None


class TransparencyReportView(View):
    generated_at: UtcDateTime
    small_counts: str = Field(description="How counts below the threshold are given.")
    periods: list[ReportCellView]


class SubprocessorView(View):
    name: str
    purpose: str
    data_categories: list[str]
    location: str
    transfer_mechanism: str
    privacy_policy: str | None


class PurposeFactView(View):
    id: str
    title: str
    description: str
    legal_basis: str
    choice: bool = Field(description="False for what is always on (essential processing, necessary cookies).")


class PrivacyFactsView(View):
    revision: int = Field(description="The sub-processor declaration's revision; raised on every change.")
    updated: str
    policy_version: str | None
    subprocessors: list[SubprocessorView]
    purposes: list[PurposeFactView]
    retention: list[RetentionRuleView] = Field(description="The retention table, as GET /api/retention serves it.")
