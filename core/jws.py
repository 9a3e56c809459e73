"""Compact JWS (RFC 7515) with ES256 (RFC 7518 section 3.4) and EC P-256 public JWKs (RFC 7517).

What any JOSE library in any language reads: ``BASE64URL(header).BASE64URL(payload).BASE64URL(r||s)``.
The signature may be made here (a key in memory) or elsewhere (Key Vault signs the SHA-256 digest of
:func:`signing_input`); either way the token is assembled by :func:`compact`. Parsing never trusts a
token: :func:`parse` only splits and decodes, :func:`verify_es256` checks the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.canonical import canonical_json

if TYPE_CHECKING:  # cryptography loads where a signature is made or checked, not on the app's import
    from cryptography.hazmat.primitives.asymmetric import ec

ES256 = "ES256"
MAX_TOKEN_LENGTH = 64 * 1024  # far above any document signed here; a bound on what is parsed
_COORDINATE_BYTES = 32  # P-256


class JwsError(ValueError):
    """Not a well-formed ES256 compact JWS, or a JWK that is not an EC P-256 public key."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    if not text.isascii() or "=" in text:
        raise JwsError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise JwsError("not base64url") from None


def signing_input(header: Mapping[str, Any], payload: bytes) -> bytes:
    return f"{b64url(canonical_json(dict(header)))}.{b64url(payload)}".encode("ascii")


def compact(signed: bytes, signature: bytes) -> str:
    return f"{signed.decode('ascii')}.{b64url(signature)}"


def digest(signed: bytes) -> bytes:
    """What a remote ES256 signer (Key Vault's sign operation) is given: SHA-256 of the signing input."""
    return hashlib.sha256(signed).digest()


def sign_es256(key: ec.EllipticCurvePrivateKey, header: Mapping[str, Any], payload: bytes) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    signed = signing_input({**header, "alg": ES256}, payload)
    r, s = decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA256())))
    return compact(signed, r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big"))


@dataclass(frozen=True)
class ParsedJws:
    header: dict[str, Any]
    payload: bytes
    signed: bytes
    signature: bytes

    def payload_json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.payload)
        except (ValueError, UnicodeDecodeError):
            raise JwsError("the payload is not JSON") from None
        if not isinstance(value, dict):
            raise JwsError("the payload is not a JSON object")
        return value


def parse(token: str) -> ParsedJws:
    """Split and decode a compact ES256 JWS; nothing is verified yet."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise JwsError("not a compact JWS")
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsError("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
    except (ValueError, UnicodeDecodeError):
        raise JwsError("the header is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != ES256 or "crit" in header:
        raise JwsError("only ES256 without critical extensions is accepted")
    signature = b64url_decode(parts[2])
    if len(signature) != 2 * _COORDINATE_BYTES:
        raise JwsError("an ES256 signature is 64 bytes")
    return ParsedJws(header, b64url_decode(parts[1]), f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def verify_es256(parsed: ParsedJws, jwk: Mapping[str, Any]) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = public_key_from_jwk(jwk)
    r = int.from_bytes(parsed.signature[:_COORDINATE_BYTES], "big")
    s = int.from_bytes(parsed.signature[_COORDINATE_BYTES:], "big")
    try:
        key.verify(encode_dss_signature(r, s), parsed.signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
        "y": b64url(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
    }


def public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        raise JwsError("not an EC P-256 public key")
    x, y = (jwk.get(name) for name in ("x", "y"))
    if not isinstance(x, str) or not isinstance(y, str):
        raise JwsError("not an EC P-256 public key")
    xb, yb = b64url_decode(x), b64url_decode(y)
    if len(xb) != _COORDINATE_BYTES or len(yb) != _COORDINATE_BYTES:
        raise JwsError("not an EC P-256 public key")
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError:
        raise JwsError("the point is not on P-256") from None


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an EC public key: a key id anyone can recompute."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode()).digest())
