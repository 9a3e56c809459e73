"""Key rotation: sign with the newest enabled version, verify with any enabled version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.keyvault_keys import KeyVaultKeyRing
from core.keyring import StaticKeyRing, sign, verify

NOW = datetime(2026, 11, 30, tzinfo=UTC)


@dataclass
class Version:
    """The fields of azure.keyvault.secrets.SecretProperties the ring reads."""

    version: str
    enabled: bool
    created_on: datetime
    not_before: datetime | None = None
    expires_on: datetime | None = None


@dataclass
class Secret:
    value: str


class VaultSecrets:
    """Answers the two SecretClient calls the ring makes; Key Vault has no local stand-in."""

    def __init__(self) -> None:
        self.versions: dict[str, tuple[Version, str]] = {}

    def add(self, version: str, value: str, age_days: int, enabled: bool = True) -> None:
        self.versions[version] = (Version(version, enabled, NOW - timedelta(days=age_days)), value)

    def list_properties_of_secret_versions(self, name: str) -> list[Version]:
        return [v for v, _ in self.versions.values()]

    def get_secret(self, name: str, version: str) -> Secret:
        return Secret(self.versions[version][1])


def test_static_ring_signs_with_the_last_key_and_verifies_with_any() -> None:
    old = StaticKeyRing("k1:first-secret")
    signature = sign(old, b"payload", "test")
    rotated = StaticKeyRing("k1:first-secret,k2:second-secret")
    assert verify(rotated, b"payload", signature, "test")
    assert sign(rotated, b"payload", "test").startswith("k2.")
    assert not verify(rotated, b"other payload", signature, "test")
    assert not verify(StaticKeyRing("k2:second-secret"), b"payload", signature, "test")


def test_static_ring_refuses_malformed_settings() -> None:
    with pytest.raises(ValueError, match="id:secret"):
        StaticKeyRing("no-colon")
    with pytest.raises(ValueError, match="empty"):
        StaticKeyRing(" , ")


def test_key_vault_ring_uses_the_newest_enabled_version_and_picks_up_new_ones() -> None:
    vault = VaultSecrets()
    vault.add("v-old", "old-secret", age_days=90)
    vault.add("v-retired", "retired-secret", age_days=60, enabled=False)
    ring = KeyVaultKeyRing(vault, "signing-keys", clock=lambda: NOW, unknown_key_refresh_seconds=0)
    old_signature = sign(ring, b"certificate", "test")
    assert old_signature.startswith("v-old.")

    vault.add("v-new", "new-secret", age_days=1)
    new_signature = sign(KeyVaultKeyRing(vault, "signing-keys", clock=lambda: NOW), b"certificate", "test")
    assert new_signature.startswith("v-new.")
    # The long-lived ring has not refreshed yet, but an unknown key id makes it look again.
    assert verify(ring, b"certificate", new_signature, "test")
    assert verify(ring, b"certificate", old_signature, "test")


def test_a_disabled_version_no_longer_verifies() -> None:
    vault = VaultSecrets()
    vault.add("v1", "s1", age_days=10)
    vault.add("v2", "s2", age_days=1)
    signature = sign(StaticKeyRing("v1:s1"), b"x", "test")
    vault.versions["v1"][0].enabled = False
    assert not verify(KeyVaultKeyRing(vault, "signing-keys", clock=lambda: NOW), b"x", signature, "test")


def test_a_signature_for_one_purpose_is_not_valid_for_another() -> None:
    ring = StaticKeyRing("k1:secret")
    assert not verify(ring, b"payload", sign(ring, b"payload", "link"), "certificate")


def test_unknown_key_ids_cannot_make_the_ring_hammer_the_vault() -> None:
    vault = VaultSecrets()
    vault.add("v1", "s1", age_days=1)
    calls = 0
    listing = vault.list_properties_of_secret_versions

    def counted(name: str) -> list[Version]:
        nonlocal calls
        calls += 1
        return listing(name)

    vault.list_properties_of_secret_versions = counted  # type: ignore[method-assign]
    ring = KeyVaultKeyRing(vault, "signing-keys", clock=lambda: NOW)
    for attempt in range(100):
        assert not verify(ring, b"x", f"made-up-{attempt}.AAAA", "test")
    assert calls == 1
