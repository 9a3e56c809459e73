"""Request and response bodies of the consent API: they validate input and generate the OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PurposeId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9.-]{1,63}$")]
PolicyVersionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,40}$")]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^(EU|EEA|UK|[A-Z]{2}(-[A-Z0-9]{1,3})?)$")]
VisitorId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
SubjectId = Annotated[str, StringConstraints(pattern=r"^(user|visitor):[A-Za-z0-9_.@|:-]{1,128}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class DecisionsRequest(Strict):
    decisions: dict[PurposeId, bool] = Field(min_length=1, max_length=32, description="Purpose id → granted?")
    policy_version: PolicyVersionId = Field(alias="policyVersion", description="The version the person was shown.")
    jurisdiction: Jurisdiction | None = Field(default=None, description="Hint such as EU, UK, US-CA.")

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        defer_build=True,
        json_schema_extra={
            "examples": [{"decisions": {"analytics": True, "marketing-email": False}, "policyVersion": "2026-11"}]
        },
    )


class ServerDecisionsRequest(DecisionsRequest):
    subject_id: SubjectId = Field(alias="subjectId", description="user:<sub> or visitor:<id>")


class LinkVisitorRequest(Strict):
    visitor_id: VisitorId = Field(alias="visitorId")


class PurposeConsent(Strict):
    granted: bool
    source: str
    policy_version: str = Field(alias="policyVersion")
    decided_at: datetime = Field(alias="decidedAt")
    renewal_required: bool = Field(alias="renewalRequired")


class ConsentStateView(Strict):
    purposes: dict[str, PurposeConsent]
    event_count: int = Field(alias="eventCount")
    current_policy_version: str | None = Field(alias="currentPolicyVersion")


class RecordedView(Strict):
    event_seq: int = Field(alias="eventSeq")
    replayed: bool
    state: ConsentStateView


class EventView(Strict):
    seq: int
    kind: str
    decisions: dict[str, dict[str, bool | str]]
    source: str
    policy_version: str = Field(alias="policyVersion")
    notice_text_hash: str = Field(alias="noticeTextHash")
    recorded_at: datetime = Field(alias="recordedAt")
    jurisdiction: str | None
    ip_truncated: str | None = Field(alias="ipTruncated")
    user_agent: str | None = Field(alias="userAgent")
    prev_hash: str = Field(alias="prevHash")
    hash: str


class ChainProblemView(Strict):
    seq: int
    problem: str


class VerificationView(Strict):
    valid: bool
    event_count: int = Field(alias="eventCount")
    head_hash: str = Field(alias="headHash")
    problems: list[ChainProblemView]


class ProofView(Strict):
    events: list[EventView]
    verification: VerificationView


class UseAnswerView(Strict):
    allowed: bool
    reason: str
    purpose: str


class PurposeView(Strict):
    id: PurposeId
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=2000)
    legal_basis: str = Field(alias="legalBasis", pattern=r"^(consent|contract|legitimate-interest|legal-obligation)$")
    always_on: bool = Field(default=False, alias="alwaysOn")
    cookie_category: str | None = Field(
        default=None, alias="cookieCategory", pattern=r"^(necessary|functional|analytics|marketing)$"
    )


class PolicyVersionView(Strict):
    version: str
    text_hash: str = Field(alias="textHash")
    published_at: datetime = Field(alias="publishedAt")
    renew_purposes: list[str] = Field(alias="renewPurposes")


class CatalogView(Strict):
    current_version: PolicyVersionView | None = Field(alias="currentVersion")
    purposes: list[PurposeView]


class PublishVersionRequest(Strict):
    version: PolicyVersionId
    text: str = Field(min_length=1, max_length=500_000, description="The full notice text; only its hash is kept.")
    renew_purposes: list[PurposeId] = Field(default_factory=list, alias="renewPurposes", max_length=64)
