"""Keys that rotate: sign with the newest enabled version, verify with any enabled version.

In Azure the versions of a Key Vault secret are the key ring (rotating = adding a version, retiring =
disabling one), read with the app's managed identity. Locally the ring comes from an app setting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

REFRESH_SECONDS = 300
VERSION_ID = re.compile(r"[0-9a-zA-Z-]{1,64}")
UNKNOWN_KEY_REFRESH_SECONDS = 30  # an unknown key id may mean a new version; callers choose key ids, so rarely


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


def usable_versions(versions: Iterable[Any], now: datetime) -> list[Any]:
    """Enabled versions inside their activation window, oldest first (properties from the SDK)."""
    usable = [
        v
        for v in versions
        if v.enabled and (v.not_before is None or v.not_before <= now) and (v.expires_on is None or v.expires_on > now)
    ]
    return sorted(usable, key=lambda v: v.created_on)


class KeyVaultKeyRing:
    """The enabled versions of one Key Vault secret, refreshed every few minutes."""

    def __init__(
        self,
        client: Any,
        secret_name: str,
        clock: Callable[[], datetime] | None = None,
        unknown_key_refresh_seconds: float = UNKNOWN_KEY_REFRESH_SECONDS,
    ) -> None:
        self._unknown_key_refresh = unknown_key_refresh_seconds
        self._client = client  # azure.keyvault.secrets.SecretClient
        self._name = secret_name
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._keys: Sequence[VersionedKey] = ()
        self._loaded_at = 0.0

    @classmethod
    def connect(cls, vault_uri: str, secret_name: str) -> KeyVaultKeyRing:
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient

        return cls(SecretClient(vault_url=vault_uri, credential=DefaultAzureCredential()), secret_name)

    def _ring(self, force: bool = False) -> Sequence[VersionedKey]:
        with self._lock:
            if force or not self._keys or time.monotonic() - self._loaded_at > REFRESH_SECONDS:
                versions = usable_versions(self._client.list_properties_of_secret_versions(self._name), self._clock())
                self._keys = [
                    VersionedKey(
                        key_id=v.version,
                        secret=self._client.get_secret(self._name, v.version).value.encode(),
                        created_on=v.created_on,
                    )
                    for v in versions
                ]
                self._loaded_at = time.monotonic()
            if not self._keys:
                raise RuntimeError(f"Key Vault secret {self._name} has no enabled version")
            return self._keys

    def signing_key(self) -> VersionedKey:
        return self._ring()[-1]

    def verification_key(self, key_id: str) -> VersionedKey | None:
        found = next((k for k in self._ring() if k.key_id == key_id), None)
        recently = time.monotonic() - self._loaded_at < self._unknown_key_refresh
        if found is None and not recently and VERSION_ID.fullmatch(key_id):  # maybe a version added since
            found = next((k for k in self._ring(force=True) if k.key_id == key_id), None)
        return found


def sign(ring: KeyRing, payload: bytes, purpose: str) -> str:
    """``<key id>.<base64url HMAC-SHA256>``: the key id says which version checks it. The purpose is
    signed too, so a signature made for one use (a link) is never valid for another (a certificate)."""
    key = ring.signing_key()
    mac = hmac.new(key.secret, purpose.encode() + b"\n" + payload, hashlib.sha256).digest()
    return f"{key.key_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def verify(ring: KeyRing, payload: bytes, signature: str, purpose: str) -> bool:
    key_id, _, mac = signature.partition(".")
    key = ring.verification_key(key_id)
    if key is None or not mac:
        return False
    digest = hmac.new(key.secret, purpose.encode() + b"\n" + payload, hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return hmac.compare_digest(expected, mac)
