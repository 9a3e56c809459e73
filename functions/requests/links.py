"""Signed, single-use, expiring verification links for anonymous requests."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from core.keyring import KeyRing, sign, verify
from functions.requests.errors import InvalidLink, LinkExpired

LINK_PURPOSE = "dsr-verification-link"


@dataclass(frozen=True)
class LinkClaims:
    request_id: str
    nonce: str
    expires_at: datetime


def make_token(ring: KeyRing, claims: LinkClaims) -> str:
    payload = json.dumps(
        {"rid": claims.request_id, "n": claims.nonce, "exp": int(claims.expires_at.timestamp())},
        separators=(",", ":"),
    ).encode()
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{encoded}.{sign(ring, payload, LINK_PURPOSE)}"


def read_token(ring: KeyRing, token: str, now: datetime) -> LinkClaims:
    """The claims of an intact, unexpired token; :class:`InvalidLink` for an altered one (or any text
    that is not a token), :class:`LinkExpired` for an expired one."""
    encoded, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, binascii.Error):  # non-ASCII or not base64 at all
        raise InvalidLink() from None
    if not verify(ring, payload, signature, LINK_PURPOSE):  # nothing of an unsigned token is parsed
        raise InvalidLink()
    try:
        data = json.loads(payload)
        claims = LinkClaims(str(data["rid"]), str(data["n"]), datetime.fromtimestamp(int(data["exp"]), now.tzinfo))
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        raise InvalidLink() from None
    if claims.expires_at <= now:
        raise LinkExpired()
    return claims
