"""The key ring as the enabled versions of one Key Vault secret, read with the app's managed identity.

Rotating is adding a version, retiring is disabling one; the newest usable version signs and any
usable version verifies. Versions are re-read every few minutes, and at most every 30 s when a
signature names a version this instance has not seen (callers choose key ids, so rarely).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from core.keyring import VersionedKey

REFRESH_SECONDS = 300
VERSION_ID = re.compile(r"[0-9a-zA-Z-]{1,64}")
UNKNOWN_KEY_REFRESH_SECONDS = 30


def usable_versions(versions: Iterable[Any], now: datetime) -> list[Any]:
    """Enabled versions inside their activation window, oldest first (properties from the SDK)."""
    usable = [
        v
        for v in versions
        if v.enabled and (v.not_before is None or v.not_before <= now) and (v.expires_on is None or v.expires_on > now)
    ]
    return sorted(usable, key=lambda v: v.created_on)


class KeyVaultKeyRing:
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
