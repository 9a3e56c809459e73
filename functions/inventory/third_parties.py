"""What the purges that make one third-party call per closed account (Stripe, SendGrid) share."""

from __future__ import annotations

from collections.abc import Callable

from core.ports import Document
from functions.inventory.accounts import ACCOUNT_KEYS
from functions.inventory.locations import PurgeScope

HELD_ACCOUNT_KEYS = f"{ACCOUNT_KEYS}, c.emailHash"  # and what a hold on the account is checked against


def held_account(scope: PurgeScope) -> Callable[[Document], bool]:
    """Whether a hold placed since the chunk began covers the profile's account (by user or by address),
    asked before its call."""

    def held(profile: Document) -> bool:
        key = profile.get("emailHash")
        return scope.held_now(str(profile.get("userId")), key if isinstance(key, str) else None)

    return held
