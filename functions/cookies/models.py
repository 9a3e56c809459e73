"""Bodies of the cookie-preference API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from core.models import Body, View
from functions.consent.models import Jurisdiction, PolicyVersionId

ChoiceCategory = Literal["necessary", "functional", "analytics", "marketing"]


class CookieCategories(Body):
    necessary: Literal[True] = Field(default=True, description="Always on; cannot be refused.")
    functional: bool
    analytics: bool
    marketing: bool


def _each_once(categories: list[str]) -> list[str]:
    if len(set(categories)) != len(categories):
        raise ValueError("names a category twice")
    return categories


AcceptedCategories = Annotated[
    list[ChoiceCategory],
    AfterValidator(_each_once),
    Field(
        max_length=4,
        json_schema_extra={"uniqueItems": True},
        title="Accepted categories",
        description="The categories the visitor accepted; every other one is refused.",
    ),
]


class CookieChoiceRequest(Body):
    model_config = ConfigDict(
        title="Cookie choice",
        json_schema_extra={
            "examples": [
                {
                    "categories": {"functional": True, "analytics": False, "marketing": False},
                    "policyVersion": "2026-11",
                },
                {"categories": ["functional", "analytics"], "policyVersion": "2026-11", "gpc": True},
            ]
        },
    )

    categories: CookieCategories | AcceptedCategories = Field(
        title="Categories",
        description="Either each category → granted, or the list of accepted categories.",
    )
    policy_version: PolicyVersionId = Field(alias="policyVersion", description="The version the banner showed.")
    jurisdiction: Jurisdiction | None = None
    gpc: bool = Field(
        default=False,
        description="The page saw navigator.globalPrivacyControl: recorded like Sec-GPC: 1 (fetch cannot send "
        "that header; the browser adds it itself when the visitor turned the signal on).",
    )
    gpc_override: bool = Field(
        default=False,
        alias="gpcOverride",
        description="With the GPC signal, the visitor explicitly opted in to marketing after seeing it applied.",
    )

    def choices(self) -> dict[str, bool]:
        """The three choosable categories → granted, from either form."""
        if isinstance(self.categories, CookieCategories):
            return self.categories.model_dump(exclude={"necessary"})
        accepted = set(self.categories)
        return {category: category in accepted for category in ("functional", "analytics", "marketing")}


class CookieReadQuery(Body):
    gpc: Literal["1"] | None = Field(
        default=None,
        description="1: the page saw navigator.globalPrivacyControl (a script cannot send Sec-GPC); read and "
        "recorded exactly as the header.",
    )


class CookiePreferencesView(View):
    model_config = ConfigDict(
        title="Cookie preferences",
        json_schema_extra={
            "examples": [
                {
                    "categories": {"necessary": True, "functional": True, "analytics": False, "marketing": False},
                    "policyVersion": "2026-11",
                    "policyRevision": 1,
                    "currentPolicyVersion": "2026-11",
                    "currentPolicyRevision": 1,
                    "policyUrl": "https://softwareengineeringconcepts.com/privacy-policy",
                    "decidedAt": "2026-11-20T09:30:00Z",
                    "expiresAt": "2027-11-20T09:30:00Z",
                    "reconsentRequired": False,
                    "reason": "current",
                    "gpcHonoured": False,
                }
            ]
        },
    )
    categories: dict[str, bool]
    policy_version: str | None = Field(alias="policyVersion", description="The version the decision was made under.")
    policy_revision: int | None = Field(alias="policyRevision", description="Its revision: 1, 2, ... in order.")
    current_policy_version: str | None = Field(alias="currentPolicyVersion")
    current_policy_revision: int | None = Field(
        alias="currentPolicyRevision", description="Increases with every published version: compare it, not names."
    )
    policy_url: str = Field(alias="policyUrl", description="Where the policy in force can be read.")
    decided_at: datetime | None = Field(alias="decidedAt")
    expires_at: datetime | None = Field(alias="expiresAt")
    reconsent_required: bool = Field(alias="reconsentRequired")
    reason: Literal["current", "no-decision", "expired", "policy-changed"]
    gpc_honoured: bool = Field(alias="gpcHonoured")
