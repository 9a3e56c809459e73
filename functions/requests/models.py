"""Bodies and views of the data-subject request API: they validate input and generate the OpenAPI."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, ConfigDict, Field, StringConstraints

from core.models import Body, EmailAddress, QueryTime, View
from functions.requests.lifecycle import MailKind, MailStatus, RequestType, Status, StepStatus

JurisdictionName = Literal["GDPR", "CCPA", "OTHER"]
REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # as uuid4() writes them
RequestId = Annotated[str, StringConstraints(pattern=f"^{REQUEST_ID.pattern}$")]
USER_ID = re.compile(r"[A-Za-z0-9_.:@|-]{1,128}")
UserId = Annotated[str, StringConstraints(pattern=f"^{USER_ID.pattern}$")]


class SubmitRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"type": "access", "email": "person@example.com", "jurisdiction": "GDPR"}]}
    )
    type: RequestType
    email: EmailAddress
    jurisdiction: JurisdictionName = "OTHER"
    on_behalf_of_child: bool = Field(default=False, description="A parent or guardian asks for their child's data.")


class MySubmitRequest(Body):
    type: RequestType
    jurisdiction: JurisdictionName = "OTHER"


class VerifyRequest(Body):
    token: str = Field(min_length=10, max_length=2000)


class VerifyForm(Body):
    """The verification page's form, as its button posts it."""

    token: str = Field(min_length=10, max_length=2000)


class VerifyQuery(Body):
    token: str = Field(min_length=10, max_length=2000, description="The signed token from the mail.")


class ReasonRequest(Body):
    reason: str = Field(min_length=3, max_length=2000, description="Sent to the person (GDPR Art. 12(4)).")


class UnderThirteenRequest(Body):
    parent_email: EmailAddress | None = None


class StaffRequestQuery(Body):
    """Query parameters of the staff list; unknown values are refused (422), never an empty list."""

    status: Status | None = None
    type: RequestType | None = None
    due_before: QueryTime | None = Field(default=None, description="RFC 3339, with its offset.")
    email: EmailAddress | None = Field(default=None, description="Found by its keyed hash; never stored for this.")
    user_id: UserId | None = None
    page_size: int = Field(default=50, ge=1, le=100)
    continuation: str | None = Field(default=None, max_length=4000, description="From the previous page.")


class Accepted(View):
    message: str


class StepView(View):
    name: str
    status: StepStatus
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int]
    confirmations: list[dict[str, str]]
    error: str | None = Field(description="The error's class on the last failed attempt, never its message.")


class MailView(View):
    kind: MailKind
    status: MailStatus
    attempts: int
    sent_at: datetime | None


class RequestView(View):
    id: str
    type: RequestType
    status: Status
    jurisdiction: str
    received_at: datetime
    due_at: datetime
    acknowledge_by: datetime | None
    acknowledged_at: datetime | None
    verified_at: datetime | None
    source: str
    on_behalf_of_child: bool
    export_ready: bool = Field(description="An access request's archive is ready to download.")
    steps: list[StepView]


class RequestStatusView(View):
    """What anyone holding a request's reference (from its mails) may see: no address, no data."""

    model_config = ConfigDict(
        title="Request status",
        json_schema_extra={
            "examples": [
                {
                    "reference": "0f8c2b9e-4d1a-4c3e-9b7a-2f6d5e4c3b2a",
                    "type": "access",
                    "status": "in-progress",
                    "receivedAt": "2026-11-20T09:30:00Z",
                    "dueAt": "2026-12-21T21:59:59Z",
                    "verifiedAt": "2026-11-20T09:35:00Z",
                    "exportReady": False,
                }
            ]
        },
    )
    reference: str = Field(validation_alias=AliasChoices("reference", "id"))
    type: RequestType
    status: Status
    received_at: datetime
    due_at: datetime
    verified_at: datetime | None
    export_ready: bool = Field(
        description="An access request's archive is ready: the mail has its link; signed in, the privacy page "
        "offers a fresh one."
    )


class ExportLinkView(View):
    url: str = Field(description="A read-only link to the archive.")
    expires_at: datetime


class RequestListView(View):
    requests: list[RequestView]


class DecisionView(View):
    by: str
    decision: str
    at: datetime
    reason: str | None


class ExtensionView(View):
    by: str
    reason: str
    at: datetime
    previous_due_at: datetime


class LogEntryView(View):
    at: datetime
    actor: str
    action: str
    detail: str


class StaffRequestView(RequestView):
    email: str | None
    user_id: str | None
    max_due_at: datetime
    decision: DecisionView | None
    extension: ExtensionView | None
    run: int
    mails: list[MailView] = Field(validation_alias=AliasChoices("mails", "outbox"))
    log: list[LogEntryView]
    certificate_id: str | None


class StaffRequestPage(View):
    requests: list[StaffRequestView]
    continuation: str | None = Field(description="Pass it back for the next page; absent on the last page.")


class PlanEntryView(View):
    location: str
    category: str
    action: str
    items: int | None = Field(description="null when only known at run time (a third party is asked then)")
    reason: str


class ResolvedView(View):
    user_id: str | None = Field(description="The product user the address resolved to.")
    stripe_customer_ids: list[str]


class PlanView(View):
    request_id: str
    resolved: ResolvedView
    entries: list[PlanEntryView]


class CertificateCheck(View):
    valid: bool
    certificate_id: str | None


class CertificateStepView(View):
    location: str
    category: str
    strategy: str
    legal_basis: str | None
    counts: dict[str, int]
    confirmations: list[dict[str, str]]
    finished_at: datetime | None


class DeletionCertificate(View):
    """A deletion certificate as issued: what was done where, signed; none of the erased data."""

    certificate_id: str
    request_id: str
    issuer: str
    type: Literal["erasure"]
    jurisdiction: str
    received_at: datetime
    completed_at: datetime
    steps: list[CertificateStepView]
    document_type: Literal["deletion-certificate"] | None = Field(default=None, description="Absent on older ones.")
    iss: str | None = None
    iat: int | None = Field(default=None, description="When it was signed, in seconds since 1970.")
    signature: str = Field(description="A compact JWS (ES256) of the other fields; on older certificates an HMAC.")


class CertificateDocument(Body):
    """A deletion certificate as issued (any extra field is kept: it is covered by the signature)."""

    model_config = ConfigDict(extra="allow", strict=False)
    certificate_id: str = Field(max_length=64)
    signature: str = Field(max_length=16384, description="A compact JWS of the other fields (older ones: an HMAC).")


class PoisonView(View):
    messages: list[dict[str, Any]]
