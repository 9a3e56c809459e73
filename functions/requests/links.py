"""Signed, single-use, expiring verification links for anonymous requests."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from core import problems
from core.keyring import KeyRing, sign, verify

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
    """The claims of an intact, unexpired token; 400 for an altered one, 410 for an expired one."""
    invalid = problems.Problem(400, "invalid-link", "Invalid link", "This link is not valid. Request a new one.")
    encoded, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        raise invalid from None
    if not verify(ring, payload, signature, LINK_PURPOSE):  # nothing of an unsigned token is parsed
        raise invalid
    try:
        data = json.loads(payload)
        claims = LinkClaims(str(data["rid"]), str(data["n"]), datetime.fromtimestamp(int(data["exp"]), now.tzinfo))
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        raise invalid from None
    if claims.expires_at <= now:
        raise problems.Problem(410, "link-expired", "Link expired", "This link has expired. Submit the request again.")
    return claims
