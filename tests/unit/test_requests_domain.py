"""Deadlines, signed links, certificates and the inventory declaration, with plain values."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from core.keyring import StaticKeyRing
from core.problems import Problem
from functions.requests.certificate import is_authentic, issue
from functions.requests.deadlines import add_business_days, add_months, deadlines
from functions.requests.inventory import RETAIN, inventory
from functions.requests.links import LinkClaims, make_token, read_token
from functions.requests.model import DONE, DsrRequest, Step

NOW = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
RING = StaticKeyRing("k1:unit-test-secret")


def test_gdpr_gives_one_month_extendable_by_two() -> None:
    due = deadlines("GDPR", NOW)
    assert due.due_at == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)  # 31 Jan + 1 month = end of February
    assert due.extended_due_at == datetime(2026, 4, 28, 9, 0, tzinfo=UTC)
    assert due.acknowledge_by is None


def test_ccpa_acknowledges_in_ten_business_days_and_answers_in_45_plus_45() -> None:
    friday = datetime(2026, 11, 27, tzinfo=UTC)
    due = deadlines("CCPA", friday)
    assert due.acknowledge_by == datetime(2026, 12, 11, tzinfo=UTC)
    assert due.due_at == friday + timedelta(days=45)
    assert due.extended_due_at == friday + timedelta(days=90)


def test_unknown_laws_get_the_strictest_clock() -> None:
    assert deadlines("OTHER", NOW).due_at == deadlines("GDPR", NOW).due_at


def test_calendar_helpers() -> None:
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 2) == datetime(2027, 2, 15, tzinfo=UTC)
    assert add_business_days(datetime(2026, 11, 27, tzinfo=UTC), 1) == datetime(2026, 11, 30, tzinfo=UTC)


def test_links_are_signed_single_purpose_and_expire() -> None:
    claims = LinkClaims("req-1", "nonce-1", NOW + timedelta(hours=1))
    token = make_token(RING, claims)
    assert read_token(RING, token, NOW) == claims
    payload, signature = token.split(".", 1)
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"req-1", b"req-2")
    forged_payload = base64.urlsafe_b64encode(decoded).decode().rstrip("=")
    with pytest.raises(Problem) as altered:
        read_token(RING, f"{forged_payload}.{signature}", NOW)
    assert altered.value.status == 400
    with pytest.raises(Problem):
        read_token(RING, f"{payload}.k1.forged", NOW)
    with pytest.raises(Problem) as expired:
        read_token(RING, token, NOW + timedelta(hours=2))
    assert expired.value.status == 410
    with pytest.raises(Problem) as other_key:
        read_token(StaticKeyRing("k1:another-secret"), token, NOW)
    assert other_key.value.status == 400


def _completed_erasure() -> DsrRequest:
    steps = [Step(name=loc.id, status=DONE, counts={"deleted": 3}) for loc in inventory().locations]
    return DsrRequest(
        id="req-1", type="erasure", status="completed", jurisdiction="GDPR", subject_key="k" * 64,
        email=None, received_at=NOW.isoformat(), due_at=NOW.isoformat(), max_due_at=NOW.isoformat(),
        acknowledge_by=None, source="website", steps=steps,
    )  # fmt: skip


def test_certificates_verify_and_detect_any_change() -> None:
    certificate = issue(_completed_erasure(), inventory(), NOW.isoformat(), RING)
    assert is_authentic(certificate, RING)
    assert not is_authentic({**certificate, "completedAt": "2020-01-01"}, RING)
    assert not is_authentic({**certificate, "signature": "k1.x"}, RING)
    assert not is_authentic({k: v for k, v in certificate.items() if k != "signature"}, RING)
    rotated = StaticKeyRing("k1:unit-test-secret,k2:newer-secret")
    assert is_authentic(certificate, rotated)  # old certificates stay checkable after a rotation


def test_the_inventory_covers_every_category_and_justifies_what_it_keeps() -> None:
    declared = inventory()
    used = {loc.category for loc in declared.locations}
    assert used <= set(declared.categories)
    assert {"personal-information", "navigational-information", "payment-information", "push-notification-tokens",
            "language-data", "consent-records", "request-records", "marketing-contacts"} <= used  # fmt: skip
    for location in declared.locations:
        if location.erasure.strategy == RETAIN:
            assert location.erasure.legal_basis
    kinds = {loc.kind for loc in declared.locations}
    assert {"cosmos", "stripe", "sendgrid", "export-archives", "consent-ledger", "request-records"} <= kinds


def test_the_queue_and_container_the_code_uses_are_declared() -> None:
    import json
    from pathlib import Path

    from functions.requests.model import STEPS_QUEUE

    declaration = json.loads((Path(__file__).resolve().parents[2] / "declarations" / "storage.json").read_text())
    assert STEPS_QUEUE in {q["name"] for q in declaration["queues"]}
    assert declaration["blobContainers"][0]["name"] == "exports"  # BlobArchiveStore's container
