from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.pseudonyms import keyed_hash, truncate_ip
from core.settings import SETTINGS, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_unresolved_key_vault_reference_stops_the_app_naming_the_setting() -> None:
    reference = "@Microsoft.KeyVault(VaultName=kv;SecretName=subject-hash-pepper)"
    with pytest.raises(SettingsError) as caught:
        load_settings({"SUBJECT_HASH_PEPPER": reference, "COSMOS_ENDPOINT": "https://x/"})
    assert "SUBJECT_HASH_PEPPER" in str(caught.value)
    assert "VaultName" not in str(caught.value)


def test_missing_required_setting_names_it() -> None:
    with pytest.raises(SettingsError, match="COSMOS_ENDPOINT"):
        Settings({}).get("COSMOS_ENDPOINT")
    assert Settings({}).get("COSMOS_DATABASE") == "privacy"


def test_example_settings_list_every_declared_setting() -> None:
    example = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]
    assert {s.name for s in SETTINGS} <= set(example)


def test_ip_truncation_keeps_only_the_network() -> None:
    assert truncate_ip("203.0.113.77") == "203.0.113.0/24"
    assert truncate_ip("2001:db8:abcd:12:1:2:3:4") == "2001:db8:abcd::/48"
    assert truncate_ip("not an ip") is None
    assert truncate_ip(None) is None


def test_keyed_hash_normalises_and_depends_on_the_pepper() -> None:
    assert keyed_hash("p1", " Alice@Example.com ") == keyed_hash("p1", "alice@example.com")
    assert keyed_hash("p1", "alice@example.com") != keyed_hash("p2", "alice@example.com")
