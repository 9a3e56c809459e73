"""Signed, single-use, expiring verification links for anonymous requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.keyring import KeyRing
from core.signed_tokens import seal, unseal
from functions.requests.errors import InvalidLink, LinkExpired

LINK_PURPOSE = "dsr-verification-link"


@dataclass(frozen=True)
class LinkClaims:
    request_id: str
    nonce: str
    expires_at: datetime


def make_token(ring: KeyRing, claims: LinkClaims) -> str:
    return seal(
        ring, {"rid": claims.request_id, "n": claims.nonce, "exp": int(claims.expires_at.timestamp())}, LINK_PURPOSE
    )


def read_token(ring: KeyRing, token: str, now: datetime) -> LinkClaims:
    """The claims of an intact, unexpired token; :class:`InvalidLink` for an altered one (or any text
    that is not a token), :class:`LinkExpired` for an expired one."""
    data = unseal(ring, token, LINK_PURPOSE)
    if data is None:
        raise InvalidLink()
    try:
        claims = LinkClaims(str(data["rid"]), str(data["n"]), datetime.fromtimestamp(int(data["exp"]), now.tzinfo))
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        raise InvalidLink() from None
    if claims.expires_at <= now:
        raise LinkExpired()
    return claims
