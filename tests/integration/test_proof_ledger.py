"""Receipts, seals and inclusion proofs against the local stack's stand-ins: Cosmos DB, Azurite (the
append-only seal container) and the key file that plays the Key Vault key. No fakes."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from adapters.keyfile_signing import KeyFileRootKey, rotate
from bootstrap import Services
from core.containers import CONSENT_EVENTS
from core.jws import parse
from functions.consent.chain import verify_chain
from functions.consent.decisions import Caller, event_context
from functions.consent.ledger import ConsentEvent, Decision, EventKind, Source, content_hash
from functions.consent.views import proof_view
from functions.inventory.kinds.consent_ledger import ConsentLedgerLocation
from functions.proof.keyset import KeySet
from functions.proof.offline import check_chain
from functions.proof.seal_record import SealRecord, seal_blob_name
from functions.proof.sealing import LedgerSealer
from functions.proof.signer import DocumentSigner
from functions.proof.trust import NotAuthentic

pytestmark = pytest.mark.integration


def record(svc: Services, subject: str, granted: bool) -> Any:
    version = svc.catalog.current().require_current_version()
    ctx = event_context(Source.API, version, Caller("203.0.113.0/24", "test-agent", "EU"), svc.clock.now())
    svc.consent_receipts.ready()
    recorded = svc.ledger.record(
        subject, EventKind.DECISION, {"analytics": Decision(granted, Source.API)}, ctx, uuid.uuid4().hex
    )
    return recorded, svc.consent_receipts.issue(recorded.event).jws


def seal_now(svc: Services) -> SealRecord:
    """A seal of everything written until now (the timer waits SETTLE; here we wait for the next second)."""
    time.sleep(1.1)  # Cosmos timestamps are whole seconds: a window ends before the current one
    sealer = LedgerSealer(svc.documents, svc.seal_records, svc.seal_archive, svc.proof_signer, svc.clock, timedelta(0))
    sealed = sealer.seal()
    assert sealed is not None
    return sealed


def proof_of(svc: Services, subject: str) -> dict[str, Any]:
    events, verification = svc.ledger.history(subject)
    view = proof_view(events, verification, svc.seal_inclusion.latest(events))
    answer: dict[str, Any] = json.loads(view.model_dump_json(by_alias=True))
    return answer


def sealed_in(svc: Services, subject: str, keys: Any, receipts: list[str]) -> str:
    return check_chain(proof_of(svc, subject), keys, receipts)[1]


def test_a_chain_is_sealed_and_verifies_offline_with_its_receipts(stack_services: Services) -> None:
    svc = stack_services
    subject = f"user:{uuid.uuid4().hex}"
    receipts = [record(svc, subject, granted)[1] for granted in (True, False, True)]
    first = seal_now(svc)
    keys = svc.key_set.published(force=True)
    lines = check_chain(proof_of(svc, subject), keys, receipts)
    assert lines[1].startswith(f"events 1-3 are sealed in seal {first.number}")

    # A later decision is sealed by the next seal, which is chained to this one.
    receipts.append(record(svc, subject, False)[1])
    assert sealed_in(svc, subject, keys, receipts).startswith(f"events 1-3 are sealed in seal {first.number}")
    second = seal_now(svc)
    assert second.number == first.number + 1
    claims = parse(second.jws).payload_json()
    assert claims["previousSeal"] == hashlib.sha256(first.jws.encode()).hexdigest()
    assert claims["windowStart"] == parse(first.jws).payload_json()["windowEnd"]
    assert sealed_in(svc, subject, keys, receipts).startswith(f"events 1-4 are sealed in seal {second.number}")


def test_a_rewritten_event_contradicts_its_receipt_and_its_seal(stack_services: Services) -> None:
    svc = stack_services
    subject = f"visitor:{uuid.uuid4().hex}"
    receipts = [record(svc, subject, granted)[1] for granted in (True, False)]
    seal_now(svc)
    keys = svc.key_set.published()
    # The operator rewrites the withdrawal into a grant, recomputing the hash, straight in the database.
    stored = svc.documents.read(CONSENT_EVENTS, "e000000000002", subject)
    assert stored is not None
    event = ConsentEvent.from_document(stored.body)
    forged = ConsentEvent.from_document({**stored.body, "decisions": {"analytics": {"granted": True, "source": "api"}}})
    svc.documents.upsert(CONSENT_EVENTS, {**forged.to_document(), "hash": content_hash(forged.content())})
    assert event.hash != content_hash(forged.content())
    proof = proof_of(svc, subject)
    with pytest.raises(NotAuthentic, match="contradicts"):
        check_chain(proof, keys, receipts)
    proof["seal"] = None  # even without the seal, the person's receipt contradicts the rewritten event
    with pytest.raises(NotAuthentic, match="contradicts the receipt of event 2"):
        check_chain(proof, keys, receipts)


def test_an_erased_subjects_chain_still_verifies_against_the_seal(stack_services: Services) -> None:
    svc = stack_services
    user = uuid.uuid4().hex
    subject = f"user:{user}"
    receipts = [record(svc, subject, granted)[1] for granted in (True, False)]
    seal_now(svc)
    location = next(loc for loc in svc.locations.values() if isinstance(loc, ConsentLedgerLocation))
    from functions.inventory.subject import Subject

    location.erase(
        Subject(request_id="req-erase", subject_key="k" * 64, email=None, user_id=user, stripe_customer_ids=()), None
    )
    events, verification = svc.ledger.history(subject)
    assert verification.valid
    assert all(e.context.ip_truncated is None and e.proof_salt is None for e in events)
    lines = check_chain(proof_of(svc, subject), svc.key_set.published(), receipts)
    assert "sealed in seal" in lines[1]


def test_seal_blobs_are_never_overwritten_and_a_committed_seal_is_rolled_forward(stack_services: Services) -> None:
    svc = stack_services
    record(svc, f"user:{uuid.uuid4().hex}", True)
    latest = seal_now(svc)
    assert not svc.seal_archive.add(seal_blob_name(latest.number), [b"forged"], "application/jose")
    assert svc.seal_archive.read(seal_blob_name(latest.number)) == latest.jws.encode()
    # A run that died after committing its blob but before its record: the next run records it first.
    record(svc, f"user:{uuid.uuid4().hex}", True)
    time.sleep(1.1)
    clock_ahead = LedgerSealer(
        svc.documents, svc.seal_records, svc.seal_archive, svc.proof_signer, svc.clock, timedelta(0)
    )
    committed = clock_ahead.seal()
    assert committed is not None
    svc.documents.delete("consent-seals", committed.id, "consent")
    assert svc.seal_records.latest() == latest
    record(svc, f"user:{uuid.uuid4().hex}", True)
    following = seal_now(svc)
    assert following.number == committed.number + 1
    assert svc.seal_records.get(committed.number) == committed


def test_rotating_the_key_file_signs_with_the_new_version_and_old_receipts_still_verify(
    stack_services: Services, tmp_path: Any
) -> None:
    svc = stack_services
    path = tmp_path / "proof-key.json"
    from adapters.keyfile_signing import ensure_key_file

    root = KeyFileRootKey(ensure_key_file(path))
    old_signer = DocumentSigner(root, svc.clock, "https://issuer.test/api", timedelta(hours=1))
    recorded, _ = record(svc, f"user:{uuid.uuid4().hex}", True)
    from functions.proof.receipts import RECEIPT_TYPE, receipt_claims

    old, _ = old_signer.sign(RECEIPT_TYPE, receipt_claims(recorded.event.content(), recorded.event.hash))
    new_kid = rotate(path)
    new, _ = DocumentSigner(root, svc.clock, "https://issuer.test/api", timedelta(hours=1)).sign(
        RECEIPT_TYPE, receipt_claims(recorded.event.content(), recorded.event.hash)
    )
    keys = KeySet(root)
    assert keys.verify(new, RECEIPT_TYPE).root_kid == new_kid
    assert keys.verify(old, RECEIPT_TYPE).root_kid != new_kid
    assert len(keys.published().keys) == 2
    assert verify_chain([recorded.event], None).valid
