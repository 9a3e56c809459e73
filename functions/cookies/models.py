"""Bodies of the cookie-preference API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from core.models import Body, View
from functions.consent.models import Jurisdiction, PolicyVersionId
from functions.notices.board_view import ActiveNoticeView
from functions.proof.models import ConsentReceiptView


class CookieCategories(Body):
    necessary: Literal[True] = Field(default=True, description="Always on; cannot be refused.")
    functional: bool
    analytics: bool
    marketing: bool


CHOOSABLE = ("functional", "analytics", "marketing")
LIST_FORM: dict[str, Any] = {
    "type": "array",
    "title": "Accepted categories",
    "description": "The categories the visitor accepted; every other one is refused.",
    "items": {"enum": ["necessary", *CHOOSABLE], "type": "string"},
    "maxItems": 4,
    "uniqueItems": True,
}


def _with_list_form(schema: dict[str, Any]) -> None:
    """The document shows both forms ``categories`` takes: the map, or the list of accepted ones."""
    field = schema["properties"]["categories"]
    schema["properties"]["categories"] = {
        "title": "Categories",
        "description": "Either each category → granted, or the list of accepted categories.",
        "anyOf": [{"$ref": field.pop("$ref")}, LIST_FORM],
    }
    schema["examples"] = [
        {"categories": {"functional": True, "analytics": False, "marketing": False}, "policyVersion": "2026-11"},
        {"categories": ["functional", "analytics"], "policyVersion": "2026-11", "gpc": True},
    ]


class CookieChoiceRequest(Body):
    model_config = ConfigDict(
        title="Cookie choice",
        json_schema_extra=lambda schema, _: _with_list_form(schema),
    )

    categories: CookieCategories
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

    @model_validator(mode="before")
    @classmethod
    def _list_as_map(cls, data: Any) -> Any:
        """The list form, when it is one (known names, each once), read as the map; anything else is
        left as sent, so that it is refused at ``categories`` like any other value of the wrong shape."""
        if isinstance(data, dict) and isinstance(data.get("categories"), list):
            accepted = data["categories"]
            names = ("necessary", *CHOOSABLE)
            if all(isinstance(n, str) and n in names for n in accepted) and len(set(accepted)) == len(accepted):
                return {**data, "categories": {c: c in accepted for c in CHOOSABLE}}
        return data

    def choices(self) -> dict[str, bool]:
        """The three choosable categories → granted."""
        return self.categories.model_dump(exclude={"necessary"})


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
                    "notices": [],
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
    receipt: ConsentReceiptView | None = Field(
        default=None,
        description="The signed receipt of the decision this call recorded (every save, and a read that recorded "
        "a GPC withdrawal); otherwise null.",
    )
    notices: list[ActiveNoticeView] | None = Field(
        default=None,
        description="On a read, the notices in service for everyone, as GET /api/notices/active gives them, so "
        "that the banner shows them without a second request (empty while the board cannot be read); null on "
        "a save.",
    )
