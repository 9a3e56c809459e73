"""Small signed tokens for links in mails: base64url claims, a dot, an HMAC over them bound to a
purpose (a token made for one use is never valid for another). Only this service checks them."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from core.keyring import KeyRing, sign, verify


def seal(ring: KeyRing, claims: dict[str, Any], purpose: str) -> str:
    payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    return f"{base64.urlsafe_b64encode(payload).decode().rstrip('=')}.{sign(ring, payload, purpose)}"


def unseal(ring: KeyRing, token: str, purpose: str) -> dict[str, Any] | None:
    """The claims of an intact token made for ``purpose``; None for anything else (nothing of an
    unsigned token is parsed)."""
    encoded, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, binascii.Error):  # non-ASCII or not base64 at all
        return None
    if not verify(ring, payload, signature, purpose):
        return None
    try:
        claims = json.loads(payload)
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None
