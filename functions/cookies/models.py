"""Bodies of the cookie-preference API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from core.models import Body, View
from functions.consent.models import Jurisdiction, PolicyVersionId
from functions.proof.models import ConsentReceiptView


class CookieCategories(Body):
    necessary: Literal[True] = Field(default=True, description="Always on; cannot be refused.")
    functional: bool
    analytics: bool
    marketing: bool


class CookieChoiceRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "categories": {"functional": True, "analytics": False, "marketing": False},
                    "policyVersion": "2026-11",
                }
            ]
        },
    )

    categories: CookieCategories
    policy_version: PolicyVersionId = Field(alias="policyVersion", description="The version the banner showed.")
    jurisdiction: Jurisdiction | None = None
    gpc_override: bool = Field(
        default=False,
        alias="gpcOverride",
        description="With Sec-GPC: 1, the visitor explicitly opted in to marketing after seeing the signal applied.",
    )


class CookiePreferencesView(View):
    categories: dict[str, bool]
    policy_version: str | None = Field(alias="policyVersion")
    current_policy_version: str | None = Field(alias="currentPolicyVersion")
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
