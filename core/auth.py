"""Bearer JWT validation for signed-in users and staff.

Tokens are checked against the configured issuer, audience and JWKS with real signatures, locally
too (the dev stack signs with a local key). The subject of every user call is the token's ``sub``:
no endpoint takes a subject from a body, so one user cannot act on another's data.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from core import problems

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
CLOCK_SKEW_SECONDS = 60
JWKS_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    token_id: str | None = None
    email: str | None = None
    email_verified: bool = False


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    audience: str
    jwks_uri: str


class TokenValidator:
    """Validates bearer tokens for one identity provider; keeps its JWKS for a few minutes."""

    def __init__(self, policy: TokenPolicy) -> None:
        self._policy = policy
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._loaded_at = 0.0

    def principal_from_header(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise problems.unauthenticated()
        return self.validate(authorization[7:].strip())

    def validate(self, token: str) -> Principal:
        import jwt  # deferred: only authenticated calls pay for the crypto imports

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise problems.unauthenticated("The bearer token is malformed.") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
            raise problems.unauthenticated("The bearer token's algorithm is not accepted.")
        key = self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=self._policy.audience,
                issuer=self._policy.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise problems.unauthenticated("The bearer token has expired.") from None
        except (jwt.PyJWTError, TypeError, ValueError):
            # TypeError/ValueError: the header names an algorithm that does not fit the key (ES256
            # against an RSA key, say); the library raises those instead of one of its own errors.
            raise problems.unauthenticated("The bearer token is not valid.") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise problems.unauthenticated("The bearer token has no subject.")
        roles = claims.get("roles", [])
        return Principal(
            subject=subject,
            roles=frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset(),
            token_id=claims.get("jti") if isinstance(claims.get("jti"), str) else None,
            email=claims.get("email") if isinstance(claims.get("email"), str) else None,
            email_verified=claims.get("email_verified") is True,
        )

    def _key(self, kid: str) -> Any:
        with self._lock:
            since_load = time.monotonic() - self._loaded_at
            # An unknown kid may mean the provider rotated its keys: refetch, at most every 10 s.
            if since_load > JWKS_CACHE_SECONDS or (kid not in self._keys and since_load > 10):
                self._keys = _load_jwks(self._policy.jwks_uri)
                self._loaded_at = time.monotonic()
            key = self._keys.get(kid)
            if key is None and kid == "" and len(self._keys) == 1:
                key = next(iter(self._keys.values()))
        if key is None:
            raise problems.unauthenticated("The bearer token was signed with an unknown key.")
        return key


def _load_jwks(uri: str) -> dict[str, Any]:
    import jwt

    parsed = urlparse(uri)
    if parsed.scheme == "file":
        document: Mapping[str, Any] = json.loads(Path(url2pathname(parsed.path)).read_text())
    elif parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in {"127.0.0.1", "localhost"}):
        client = jwt.PyJWKClient(uri, cache_jwk_set=False, timeout=10)
        document = client.fetch_data()
    else:
        raise problems.misconfigured("The identity provider's JWKS location must be an https:// URL.")
    keys: dict[str, Any] = {}
    for jwk in jwt.PyJWKSet.from_dict(dict(document)).keys:
        keys[jwk.key_id or ""] = jwk.key
    return keys


def require_role(principal: Principal, role: str) -> None:
    if role not in principal.roles:
        raise problems.forbidden(f"This action needs the app role {role}.")
