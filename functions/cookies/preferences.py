"""Cookie preferences of one visitor, read from the consent ledger's state: the banner's hot path.

Cookie categories are purposes in the catalog (``cookieCategory``), so every banner decision is a
ledger event with the same proof as any other consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import FieldError, InvalidValues
from functions.consent.catalog import Catalog
from functions.consent.ledger import ConsentState, Decision, Source
from functions.cookies.errors import CookiePurposesMissing

CHOICE_CATEGORIES = ("functional", "analytics", "marketing")
# A cookie decision is asked again after at most 13 months, whatever the setting says (the CNIL's
# and the EDPB's guidance on cookie consent lifetimes).
MAX_DECISION_AGE_DAYS = 395


def decision_max_age(setting_days: int) -> timedelta:
    """COOKIE_CONSENT_MAX_AGE_DAYS, capped at 13 months."""
    return timedelta(days=min(setting_days, MAX_DECISION_AGE_DAYS))


GPC_CATEGORY = "marketing"  # sale/share: what a Global Privacy Control signal opts out of


@dataclass(frozen=True)
class CookiePreferences:
    categories: Mapping[str, bool]  # necessary always True
    policy_version: str | None
    decided_at: datetime | None
    expires_at: datetime | None
    reconsent_required: bool
    reason: str  # current | no-decision | expired | policy-changed
    gpc_honoured: bool


def cookie_purpose_ids(catalog: Catalog) -> dict[str, str]:
    """Cookie category → purpose id; a catalog without them cannot serve the banner."""
    by_category = {category: purpose.id for category, purpose in catalog.cookie_purposes().items()}
    missing = [c for c in CHOICE_CATEGORIES if c not in by_category]
    if missing:
        raise CookiePurposesMissing()
    return by_category


def preferences(
    state: ConsentState, catalog: Catalog, max_age: timedelta, now: datetime, gpc: bool
) -> CookiePreferences:
    purpose_ids = cookie_purpose_ids(catalog)
    decided = {c: state.purposes.get(purpose_ids[c]) for c in CHOICE_CATEGORIES}
    categories = {"necessary": True, **{c: bool(p and p.granted) for c, p in decided.items()}}
    latest = max((p for p in decided.values() if p is not None), key=lambda p: p.seq, default=None)
    current = catalog.current_version
    if latest is None:
        expires_at, reason = None, "no-decision"
    else:
        expires_at = latest.decided_at + max_age
        if expires_at <= now:
            reason = "expired"
        elif current is not None and latest.policy_version != current.version:
            reason = "policy-changed"
        else:
            reason = "current"
    marketing = decided[GPC_CATEGORY]
    gpc_honoured = gpc and not (marketing is not None and marketing.granted and marketing.overrides_gpc)
    if gpc_honoured:
        categories[GPC_CATEGORY] = False
    return CookiePreferences(
        categories=categories,
        policy_version=latest.policy_version if latest else None,
        decided_at=latest.decided_at if latest else None,
        expires_at=expires_at,
        reconsent_required=reason != "current",
        reason=reason,
        gpc_honoured=gpc_honoured,
    )


def gpc_withdrawal(state: ConsentState, catalog: Catalog, gpc: bool) -> dict[str, Decision] | None:
    """The ledger decision a GPC signal calls for: withdraw a marketing grant made without it."""
    if not gpc:
        return None
    purpose_id = cookie_purpose_ids(catalog)[GPC_CATEGORY]
    marketing = state.purposes.get(purpose_id)
    if marketing is None or not marketing.granted or marketing.overrides_gpc:
        return None
    return {purpose_id: Decision(granted=False, source=Source.GPC)}


def banner_decisions(
    catalog: Catalog, choices: Mapping[str, bool], gpc: bool, gpc_override: bool
) -> dict[str, Decision]:
    """The banner's choices as ledger decisions, with the GPC signal applied to marketing."""
    purpose_ids = cookie_purpose_ids(catalog)
    if gpc_override and not gpc:
        raise InvalidValues([FieldError("gpcOverride", "only applies with the GPC signal (Sec-GPC: 1 or gpc: true)")])
    decisions = {}
    for category in CHOICE_CATEGORIES:
        granted = choices[category]
        if category == GPC_CATEGORY and gpc and granted and not gpc_override:
            decisions[purpose_ids[category]] = Decision(granted=False, source=Source.GPC)
        else:
            decisions[purpose_ids[category]] = Decision(
                granted=granted,
                source=Source.BANNER,
                overrides_gpc=category == GPC_CATEGORY and gpc and gpc_override and granted,
            )
    return decisions
