"""The proof key as a Key Vault key (EC P-256), used with the app's managed identity.

Only the public half ever leaves the vault: the key's versions are read with ``KeyClient`` and the
SHA-256 digest is signed by Key Vault through ``CryptographyClient.sign`` (ES256, which answers the
raw r||s signature JWS uses). The client is built from the ``KeyVaultKey`` already read, so a sign is
one request. The newest version signs when it is enabled and inside its activation window; every enabled version
is published (an expired one still verifies what it signed while active).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from adapters.keyvault_keys import usable_versions
from functions.proof.ports import RootKeyVersion


def _public_jwk(key: Any) -> dict[str, str]:
    """The public JWK of an SDK ``KeyVaultKey`` (its ``key`` is a JsonWebKey with bytes coordinates)."""
    from core.jws import b64url

    jwk = key.key
    if str(jwk.kty) not in {"EC", "EC-HSM"} or str(jwk.crv) != "P-256":
        raise RuntimeError(f"Key Vault key {key.name} must be an EC P-256 key")
    return {"kty": "EC", "crv": "P-256", "x": b64url(jwk.x), "y": b64url(jwk.y)}


class KeyVaultRootKey:
    def __init__(
        self,
        key_client: Any,
        crypto_client: Callable[[Any], Any],
        key_name: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._keys = key_client  # azure.keyvault.keys.KeyClient
        self._crypto = crypto_client  # KeyVaultKey -> azure.keyvault.keys.crypto.CryptographyClient
        self._name = key_name
        self._clock = clock or (lambda: datetime.now(UTC))
        self._read: dict[str, Any] = {}  # key version -> the KeyVaultKey read for it

    @classmethod
    def connect(cls, vault_uri: str, key_name: str) -> KeyVaultRootKey:
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.keys import KeyClient
        from azure.keyvault.keys.crypto import CryptographyClient

        credential = DefaultAzureCredential()
        return cls(
            KeyClient(vault_url=vault_uri, credential=credential),
            lambda key: CryptographyClient(key, credential),
            key_name,
        )

    def _version(self, key: Any) -> RootKeyVersion:
        self._read[key.properties.version] = key
        return RootKeyVersion(
            kid=key.properties.version, public_jwk=_public_jwk(key), created_on=key.properties.created_on
        )

    def signing_version(self) -> RootKeyVersion:
        key = self._keys.get_key(self._name)  # the newest version
        if not usable_versions([key.properties], self._clock()):
            raise RuntimeError(
                f"the newest version of Key Vault key {self._name} is disabled, expired or not active yet"
            )
        return self._version(key)

    def published_versions(self) -> list[RootKeyVersion]:
        # Expired versions stay published: what they signed while active still verifies.
        enabled = [v for v in self._keys.list_properties_of_key_versions(self._name) if v.enabled]
        ordered = sorted(enabled, key=lambda v: v.created_on)
        return [self._version(self._keys.get_key(self._name, v.version)) for v in ordered]

    def sign_digest(self, version: RootKeyVersion, digest: bytes) -> bytes:
        from azure.keyvault.keys.crypto import SignatureAlgorithm

        key = self._read.get(version.kid) or self._keys.get_key(self._name, version.kid)
        signature: bytes = self._crypto(key).sign(SignatureAlgorithm.es256, digest).signature
        return signature
