"""Keys that rotate: sign with the newest enabled version, verify with any enabled version.

A key ring is a small interface; in Azure its versions are those of a Key Vault secret
(``adapters/keyvault_keys.py``), locally they come from an app setting (:class:`StaticKeyRing`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True)
class VersionedKey:
    key_id: str
    secret: bytes
    created_on: datetime


class KeyRing(Protocol):
    def signing_key(self) -> VersionedKey: ...

    def verification_key(self, key_id: str) -> VersionedKey | None: ...


class StaticKeyRing:
    """Keys from a setting: ``id1:secret1,id2:secret2``, the last one signs (local development)."""

    def __init__(self, setting_value: str) -> None:
        keys = []
        for position, item in enumerate(part.strip() for part in setting_value.split(",") if part.strip()):
            key_id, _, secret = item.partition(":")
            if not secret:
                raise ValueError("each key must be written as id:secret")
            keys.append(VersionedKey(key_id, secret.encode(), datetime.fromtimestamp(position, UTC)))
        if not keys:
            raise ValueError("the key ring is empty")
        self._keys = keys

    def signing_key(self) -> VersionedKey:
        return self._keys[-1]

    def verification_key(self, key_id: str) -> VersionedKey | None:
        return next((k for k in self._keys if k.key_id == key_id), None)


def _mac(key: VersionedKey, payload: bytes, purpose: str) -> bytes:
    return hmac.new(key.secret, purpose.encode() + b"\n" + payload, hashlib.sha256).digest()


def sign(ring: KeyRing, payload: bytes, purpose: str) -> str:
    """``<key id>.<base64url HMAC-SHA256>``: the key id says which version checks it. The purpose is
    signed too, so a signature made for one use (a link) is never valid for another (a certificate)."""
    key = ring.signing_key()
    return f"{key.key_id}.{base64.urlsafe_b64encode(_mac(key, payload, purpose)).decode().rstrip('=')}"


def verify(ring: KeyRing, payload: bytes, signature: str, purpose: str) -> bool:
    """True only for a signature this ring made for this purpose; any other text is simply False."""
    key_id, _, mac = signature.partition(".")
    key = ring.verification_key(key_id)
    if key is None or not mac:
        return False
    expected = base64.urlsafe_b64encode(_mac(key, payload, purpose)).rstrip(b"=")
    # Compared as bytes: a signature with non-ASCII characters is simply wrong, never an error.
    return hmac.compare_digest(expected, mac.encode("utf-8", "surrogateescape"))
