"""How a signed document is checked, by this service and by anyone offline: document → short-lived
key → published key.

Every document (consent receipt, deletion certificate, breach-notice record, ledger seal) is a compact
ES256 JWS signed by an instance's short-lived key. Its protected header names that key (``kid``, the
key's RFC 7638 thumbprint) and carries the key's certificate (``kcrt``): itself a compact JWS, signed
by a version of the vault key, whose payload is the short-lived public key and the window (NumericDate
seconds, ``notBefore``..``notAfter``) in which it may sign. The published key set (JWKS) holds the
vault key's enabled versions by ``kid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.jws import JwsError, parse, thumbprint, verify_es256

CERTIFICATE_HEADER = "kcrt"
KEY_CERTIFICATE_TYPE = "proof-key-certificate"


class NotAuthentic(ValueError):
    """The document is not one this service signed, was altered, or is not of the type asked for."""


@dataclass(frozen=True)
class PublishedKeys:
    """The vault key's published versions: key id → public JWK."""

    keys: Mapping[str, Mapping[str, str]]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**jwk, "kid": kid, "alg": "ES256", "use": "sig"} for kid, jwk in self.keys.items()]}

    @classmethod
    def from_jwks(cls, document: Any) -> PublishedKeys:
        """From a JWKS document as published (unknown members and other key types are ignored)."""
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise NotAuthentic("not a JWKS document")
        keys = {}
        for entry in document["keys"]:
            if isinstance(entry, Mapping) and entry.get("kty") == "EC" and isinstance(entry.get("kid"), str):
                keys[entry["kid"]] = {name: str(entry.get(name)) for name in ("kty", "crv", "x", "y")}
        return cls(keys)


@dataclass(frozen=True)
class Verified:
    claims: dict[str, Any]
    root_kid: str  # the vault key version that certified the signing key
    signing_kid: str


def key_certificate_claims(
    signing_jwk: Mapping[str, str], issuer: str, not_before: int, not_after: int
) -> dict[str, Any]:
    return {
        "documentType": KEY_CERTIFICATE_TYPE,
        "iss": issuer,
        "sub": thumbprint(signing_jwk),
        "jwk": dict(signing_jwk),
        "notBefore": not_before,
        "notAfter": not_after,
    }


def verify_document(token: str, keys: PublishedKeys, expected_type: str) -> Verified:
    """The document's claims once every link holds; :class:`NotAuthentic` naming the first that does not."""
    try:
        document = parse(token)
        certificate_token = document.header.get(CERTIFICATE_HEADER)
        if not isinstance(certificate_token, str):
            raise NotAuthentic("the document carries no key certificate")
        certificate = parse(certificate_token)
        root_kid = certificate.header.get("kid")
        root = keys.keys.get(root_kid) if isinstance(root_kid, str) else None
        if root is None or not isinstance(root_kid, str):
            raise NotAuthentic("its key certificate is signed by a key that is not in the published key set")
        if not verify_es256(certificate, root):
            raise NotAuthentic("its key certificate's signature does not verify")
        granted = certificate.payload_json()
        signing_jwk = granted.get("jwk")
        if granted.get("documentType") != KEY_CERTIFICATE_TYPE or not isinstance(signing_jwk, Mapping):
            raise NotAuthentic("its key certificate is not a key certificate")
        if document.header.get("kid") != thumbprint(signing_jwk):
            raise NotAuthentic("it names another signing key than its certificate")
        if not verify_es256(document, signing_jwk):
            raise NotAuthentic("its signature does not verify: it was altered or signed by another key")
        claims = document.payload_json()
    except (JwsError, KeyError) as error:
        raise NotAuthentic(f"not a well-formed signed document ({error})") from None
    if claims.get("documentType") != expected_type:
        raise NotAuthentic(f"it is not a {expected_type}")
    signed_at, not_before, not_after = claims.get("iat"), granted.get("notBefore"), granted.get("notAfter")
    if not all(isinstance(v, int) for v in (signed_at, not_before, not_after)) or not (
        not_before <= signed_at <= not_after  # type: ignore[operator]
    ):
        raise NotAuthentic("it was signed outside its signing key's window")
    return Verified(claims, root_kid, str(document.header["kid"]))
