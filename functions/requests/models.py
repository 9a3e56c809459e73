"""Bodies of the data-subject request API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Syntax only: the verification mail is what proves the address.
EmailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
]
RequestType = Literal["access", "erasure"]
JurisdictionName = Literal["GDPR", "CCPA", "OTHER"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class SubmitRequest(Strict):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        defer_build=True,
        json_schema_extra={"examples": [{"type": "access", "email": "person@example.com", "jurisdiction": "GDPR"}]},
    )
    type: RequestType
    email: EmailAddress
    jurisdiction: JurisdictionName = "OTHER"
    on_behalf_of_child: bool = Field(default=False, alias="onBehalfOfChild",
                                     description="A parent or guardian asks for their child's data.")  # fmt: skip


class MySubmitRequest(Strict):
    type: RequestType
    jurisdiction: JurisdictionName = "OTHER"


class Accepted(Strict):
    message: str


class VerifyRequest(Strict):
    token: str = Field(min_length=10, max_length=2000)


class ReasonRequest(Strict):
    reason: str = Field(min_length=3, max_length=2000, description="Sent to the person (GDPR Art. 12(4)).")


class UnderThirteenRequest(Strict):
    parent_email: EmailAddress | None = Field(default=None, alias="parentEmail")


class StepView(Strict):
    name: str
    status: str
    attempts: int
    started_at: str | None = Field(alias="startedAt")
    finished_at: str | None = Field(alias="finishedAt")
    counts: dict[str, int]
    confirmations: list[dict[str, str]]
    error: str | None


class RequestView(Strict):
    id: str
    type: str
    status: str
    jurisdiction: str
    received_at: str = Field(alias="receivedAt")
    due_at: str = Field(alias="dueAt")
    acknowledge_by: str | None = Field(alias="acknowledgeBy")
    verified_at: str | None = Field(alias="verifiedAt")
    source: str
    on_behalf_of_child: bool = Field(alias="onBehalfOfChild")
    steps: list[StepView]


class StaffRequestView(RequestView):
    email: str | None
    decision: dict[str, str] | None
    extension: dict[str, str] | None
    log: list[dict[str, str]]
    certificate_id: str | None = Field(alias="certificateId")


class RequestList(Strict):
    requests: list[StaffRequestView]


class PlanEntryView(Strict):
    location: str
    category: str
    action: str
    items: int = Field(description="-1 when only known at run time")
    reason: str


class PlanView(Strict):
    request_id: str = Field(alias="requestId")
    entries: list[PlanEntryView]


class CertificateCheck(Strict):
    valid: bool
    certificate_id: str | None = Field(alias="certificateId")


class CertificateDocument(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    certificate_id: str = Field(alias="certificateId")
    signature: str


class PoisonView(Strict):
    messages: list[dict[str, Any]]
