"""Signed links, certificates and the inventory declaration, with plain values."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from core.keyring import StaticKeyRing, sign
from functions.inventory.declaration import DECLARATION, RETAIN, Inventory, inventory
from functions.inventory.locations import KINDS, build_locations
from functions.proof.keyset import KeySet
from functions.proof.signer import DocumentSigner
from functions.requests.certificate import LEGACY_PURPOSE, is_authentic, issue
from functions.requests.errors import InvalidLink, LinkExpired
from functions.requests.lifecycle import STEPS_QUEUE, RequestType, Status, StepStatus
from functions.requests.links import LinkClaims, make_token, read_token
from functions.requests.request_record import DsrRequest, Step
from tests.fakes import MemoryRootKey, MovableClock

NOW = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
RING = StaticKeyRing("k1:unit-test-secret")


def test_links_are_signed_single_purpose_and_expire() -> None:
    claims = LinkClaims("req-1", "nonce-1", NOW + timedelta(hours=1))
    token = make_token(RING, claims)
    assert read_token(RING, token, NOW) == claims
    payload, signature = token.split(".", 1)
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"req-1", b"req-2")
    forged_payload = base64.urlsafe_b64encode(decoded).decode().rstrip("=")
    with pytest.raises(InvalidLink):
        read_token(RING, f"{forged_payload}.{signature}", NOW)
    with pytest.raises(InvalidLink):
        read_token(RING, f"{payload}.k1.forged", NOW)
    with pytest.raises(LinkExpired):
        read_token(RING, token, NOW + timedelta(hours=2))
    with pytest.raises(InvalidLink):
        read_token(StaticKeyRing("k1:another-secret"), token, NOW)


@pytest.mark.parametrize("odd", ["ünïcødé.k1.sïg", f"{'A' * 20}.k1.sïgnätürë", "\udcff.x", "....", "a" * 5000])
def test_any_text_that_is_not_a_token_is_an_invalid_link_never_an_error(odd: str) -> None:
    with pytest.raises(InvalidLink):
        read_token(RING, odd, NOW)


def _completed_erasure() -> DsrRequest:
    steps = [Step(name=loc.id, status=StepStatus.DONE, counts={"deleted": 3}) for loc in inventory().locations]
    return DsrRequest(
        id="req-1",
        type=RequestType.ERASURE,
        status=Status.COMPLETED,
        jurisdiction="GDPR",
        subject_key="k" * 64,
        email=None,
        received_at=NOW,
        due_at=NOW,
        max_due_at=NOW,
        source="website",
        steps=steps,
    )


def test_certificates_verify_and_detect_any_change() -> None:
    root = MemoryRootKey()
    signer = DocumentSigner(root, MovableClock(NOW), "https://privacy.example.test/api", timedelta(hours=6))
    keys = KeySet(root)
    certificate = issue(_completed_erasure(), inventory(), NOW, signer)
    assert certificate["signature"].count(".") == 2  # a compact JWS
    assert is_authentic(certificate, keys, RING)
    assert not is_authentic({**certificate, "completedAt": "2020-01-01"}, keys, RING)
    assert not is_authentic({**certificate, "signature": "k1.x"}, keys, RING)
    assert not is_authentic({**certificate, "signature": "k1.sïgnätürë"}, keys, RING)
    assert not is_authentic({**certificate, "signature": "a.b.c"}, keys, RING)
    assert not is_authentic({k: v for k, v in certificate.items() if k != "signature"}, keys, RING)
    root.rotate()
    assert is_authentic(certificate, KeySet(root), RING)  # old certificates stay checkable after a rotation


def test_certificates_signed_with_the_key_ring_before_still_verify() -> None:
    legacy = {"certificateId": "req-0", "type": "erasure", "steps": []}
    canonical = json.dumps(legacy, sort_keys=True, separators=(",", ":")).encode()
    signed = {**legacy, "signature": sign(RING, canonical, LEGACY_PURPOSE)}
    keys = KeySet(MemoryRootKey())
    assert is_authentic(signed, keys, RING)
    assert not is_authentic({**signed, "certificateId": "req-9"}, keys, RING)


def test_the_inventory_covers_every_category_and_justifies_what_it_keeps() -> None:
    declared = inventory()
    used = {loc.category for loc in declared.locations}
    assert used <= set(declared.categories)
    expected = {
        "personal-information",
        "navigational-information",
        "payment-information",
        "push-notification-tokens",
        "language-data",
        "consent-records",
        "request-records",
        "marketing-contacts",
    }
    assert expected <= used
    for location in declared.locations:
        if location.erasure.strategy == RETAIN:
            assert location.erasure.legal_basis
        assert location.purposes
        assert location.holder
        assert all(rule.reason and rule.items for rule in location.retention)
    build_locations(declared, None)  # type: ignore[arg-type]  # every declared kind has its class
    assert {loc.kind for loc in declared.locations} <= set(KINDS)


def test_every_declared_kind_has_its_class_and_an_unknown_one_stops_the_app() -> None:
    raw = json.loads(DECLARATION.read_text())
    raw["locations"][0]["kind"] = "carrier-pigeon"
    broken = Inventory.model_validate(raw)
    with pytest.raises(ValueError, match="carrier-pigeon"):
        build_locations(broken, None)  # type: ignore[arg-type]


def test_a_retained_location_without_a_legal_basis_is_refused() -> None:
    raw = json.loads(DECLARATION.read_text())
    retained = next(loc for loc in raw["locations"] if loc["erasure"]["strategy"] == "retain")
    retained["erasure"].pop("legalBasis")
    with pytest.raises(ValueError, match=retained["id"]):
        Inventory.model_validate(raw)


def test_the_queue_and_container_the_code_uses_are_declared() -> None:
    from pathlib import Path

    declaration = json.loads((Path(__file__).resolve().parents[2] / "declarations" / "storage.json").read_text())
    assert STEPS_QUEUE in {q["name"] for q in declaration["queues"]}
    assert declaration["blobContainers"][0]["name"] == "exports"  # BlobArchiveStore's container
