"""Request and response bodies of the consent API: they validate input and generate the OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from core.models import Body, HttpsLink, Text, Title, View
from functions.proof.models import ConsentReceiptView, SealInclusionView

PurposeId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9.-]{1,63}$")]
PolicyVersionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,40}$")]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^(EU|EEA|UK|[A-Z]{2}(-[A-Z0-9]{1,3})?)$")]
VisitorId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
SubjectId = Annotated[str, StringConstraints(pattern=r"^(user|visitor):[A-Za-z0-9_.@|:-]{1,128}$")]
IDEMPOTENCY_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"
IdempotencyKey = Annotated[str, StringConstraints(pattern=IDEMPOTENCY_PATTERN)]
LegalBasis = Literal["consent", "contract", "legitimate-interest", "legal-obligation"]
CookieCategory = Literal["necessary", "functional", "analytics", "marketing"]


class DecisionsRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"decisions": {"analytics": True, "marketing-email": False}, "policyVersion": "2026-11"}]
        }
    )
    decisions: dict[PurposeId, bool] = Field(min_length=1, max_length=32, description="Purpose id → granted?")
    policy_version: PolicyVersionId = Field(description="The version the person was shown.")
    jurisdiction: Jurisdiction | None = Field(default=None, description="Hint such as EU, UK, US-CA.")


class ServerDecisionsRequest(DecisionsRequest):
    subject_id: SubjectId = Field(description="user:<sub> or visitor:<id>")


class LinkVisitorRequest(Body):
    visitor_id: VisitorId


class ConsentCheckQuery(Body):
    subject: SubjectId = Field(description="user:<sub> or visitor:<id>")
    purpose: PurposeId = Field(description="A published purpose id.")


class PurposeRequest(Body):
    id: PurposeId
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=2000)
    legal_basis: LegalBasis
    always_on: bool = False
    cookie_category: CookieCategory | None = None


class ChangeNoticeRequest(Body):
    """A notice of the change, in the service and by mail: to everyone, or only to the people whose
    consent the new version asks to renew."""

    title: Title
    summary: Text = Field(description="What changed, in a few sentences.")
    audience: Literal["everyone", "renewal"] = "everyone"
    link: HttpsLink | None = None


class PublishVersionRequest(Body):
    version: PolicyVersionId
    text: str = Field(min_length=1, max_length=500_000, description="The full notice text; only its hash is kept.")
    renew_purposes: list[PurposeId] = Field(default_factory=list, max_length=64)
    notice: ChangeNoticeRequest | None = Field(default=None, description="Tell people about the change.")


class PurposeConsent(View):
    granted: bool
    source: str
    policy_version: str
    decided_at: datetime
    renewal_required: bool


class ConsentStateView(View):
    purposes: dict[str, PurposeConsent]
    event_count: int
    current_policy_version: str | None


class RecordedView(View):
    event_seq: int
    replayed: bool
    state: ConsentStateView
    receipt: ConsentReceiptView = Field(
        description="The signed receipt of the event recorded (of the first, on a replay)."
    )


class EventView(View):
    seq: int
    kind: str
    decisions: dict[str, dict[str, bool | str]]
    source: str
    policy_version: str
    notice_text_hash: str
    recorded_at: datetime
    jurisdiction: str | None
    ip_truncated: str | None
    user_agent: str | None
    actor: str | None = None  # the staff member who recorded it on the person's emailed request
    prev_hash: str
    hash: str
    content: dict[str, Any] = Field(
        description="Exactly what the event's hash covers: hash = SHA-256 of this JSON, keys sorted, no spaces, UTF-8."
    )


class ChainProblemView(View):
    seq: int
    problem: str


class CheckpointView(View):
    """Retention removed the chain's events up to ``seq``; the first event kept continues from ``hash``."""

    seq: int
    hash: str


class VerificationView(View):
    valid: bool
    event_count: int
    head_hash: str
    problems: list[ChainProblemView]
    checkpoint: CheckpointView | None = Field(
        default=None,
        description="Set when retention removed the chain's first events: the chain is checked from here.",
    )


class ProofView(View):
    events: list[EventView]
    verification: VerificationView
    seal: SealInclusionView | None = Field(
        description="The latest sealed head of this chain and its inclusion proof; null until a seal covers the chain."
    )


class UseAnswerView(View):
    allowed: bool
    reason: str
    purpose: str


class PurposeView(View):
    id: str
    title: str
    description: str
    legal_basis: str
    always_on: bool
    cookie_category: str | None


class PolicyVersionView(View):
    version: str
    revision: int = Field(description="1, 2, ... in publication order: a banner compares revisions, not names.")
    text_hash: str
    published_at: datetime
    renew_purposes: list[str]


class CookieCategoryView(View):
    """A banner's texts for one cookie category, from the purpose the ledger records decisions under."""

    category: CookieCategory
    purpose_id: str
    title: str
    description: str
    always_on: bool


class CatalogView(View):
    model_config = ConfigDict(
        title="Catalog",
        json_schema_extra={
            "examples": [
                {
                    "currentVersion": {
                        "version": "2026-11",
                        "revision": 1,
                        "textHash": "sha256:9f2c...",
                        "publishedAt": "2026-11-01T00:00:00Z",
                        "renewPurposes": [],
                    },
                    "policyUrl": "https://softwareengineeringconcepts.com/privacy-policy",
                    "cookieCategories": [
                        {
                            "category": "analytics",
                            "purposeId": "cookie.analytics",
                            "title": "Analytics cookies",
                            "description": "Cookies that measure visits and page views (Google Analytics).",
                            "alwaysOn": False,
                        }
                    ],
                    "purposes": [],
                }
            ]
        },
    )
    current_version: PolicyVersionView | None
    policy_url: str = Field(description="Where the policy in force can be read.")
    cookie_categories: list[CookieCategoryView] = Field(description="In the order a banner shows them.")
    purposes: list[PurposeView]
