"""Public proof with plain values: signatures anyone verifies, rotation, receipts against the ledger,
Merkle trees as RFC 6962 defines them, and offline checks of a chain and its seal.

The third-party checks use jwcrypto, a JOSE library that shares no code with the signing path.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jwcrypto import jwk, jws

from core.jws import JwsError, b64url, parse
from core.merkle import EMPTY_ROOT, audit_path, leaf_hash, node_hash, tree_root, verify_inclusion
from functions.consent.ledger import ConsentState, Decision, EventContext, EventKind, Source
from functions.consent.views import proof_view
from functions.proof.heads import head_leaf
from functions.proof.keyset import KeySet
from functions.proof.models import SealClaimsView, SealedHeadView, SealInclusionView, SealView
from functions.proof.offline import check_chain, check_receipt
from functions.proof.receipts import RECEIPT_TYPE, contradictions, receipt_claims
from functions.proof.sealing import SEAL_TYPE
from functions.proof.signer import DocumentSigner
from functions.proof.trust import NotAuthentic, PublishedKeys, verify_document
from tests.fakes import MemoryRootKey, MovableClock

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
ISSUER = "https://privacy.example.test/api"


def signer_for(root: MemoryRootKey, clock: MovableClock, hours: int = 6) -> DocumentSigner:
    return DocumentSigner(root, clock, ISSUER, timedelta(hours=hours))


def chain(subject: str, decisions: list[bool], start: datetime = NOW) -> list[Any]:
    state, events = ConsentState(subject_id=subject), list[Any]()
    for i, granted in enumerate(decisions):
        context = EventContext(
            Source.BANNER, "2026-11", "ab" * 32, start + timedelta(minutes=i), "EU", "203.0.113.0", "UA"
        )
        event = state.next_event(
            EventKind.DECISION, {"analytics": Decision(granted, Source.BANNER)}, context, f"key-{i}"
        )
        state, events = state.apply(event), [*events, event]
    return events


def receipt_of(signer: DocumentSigner, event: Any) -> str:
    return signer.sign(RECEIPT_TYPE, receipt_claims(event.content(), event.hash))[0]


def third_party_verify(token: str, jwks_document: dict[str, Any]) -> dict[str, Any]:
    """What an outsider writes with jwcrypto: document → key certificate → published key."""
    outer = jws.JWS()
    outer.deserialize(token)
    certificate = jws.JWS()
    certificate.deserialize(outer.jose_header["kcrt"])
    certificate.verify(jwk.JWKSet.from_json(json.dumps(jwks_document)))  # finds the key by kid
    granted = json.loads(certificate.payload)
    outer.verify(jwk.JWK(**granted["jwk"]), alg="ES256")
    claims: dict[str, Any] = json.loads(outer.payload)
    assert granted["notBefore"] <= claims["iat"] <= granted["notAfter"]
    return claims


# ---- signatures anyone verifies ----------------------------------------------------------------


def test_a_receipt_verifies_offline_with_a_third_party_jose_library() -> None:
    root = MemoryRootKey()
    signer = signer_for(root, MovableClock(NOW))
    (event,) = chain("visitor:4f1c2b9a7d3e4c5fa8b0", [True])
    token = receipt_of(signer, event)
    jwks_document = KeySet(root).published().jwks()
    claims = third_party_verify(token, jwks_document)
    assert claims["piiPrincipalId"] == "visitor:4f1c2b9a7d3e4c5fa8b0"
    assert claims["ledger"] == {"seq": 1, "eventHash": event.hash, "prevHash": "0" * 64}
    assert claims["purposes"][0]["consentStatus"] == "given"
    assert claims["iss"] == ISSUER
    assert "d" not in jwks_document["keys"][0]  # only the public half is published


def test_the_vault_signs_once_per_signing_key_lifetime_not_per_document() -> None:
    root, clock = MemoryRootKey(), MovableClock(NOW)
    signer = signer_for(root, clock)
    (event,) = chain("visitor:4f1c2b9a7d3e4c5fa8b0", [True])
    for _ in range(10_000):
        receipt_of(signer, event)
    assert root.calls == 2  # read the key version once, sign one certificate
    clock.advance(hours=7)  # past the window: the next document waits for one new certificate
    receipt_of(signer, event)
    assert root.calls == 4


def test_rotation_old_signatures_still_verify_new_ones_use_the_new_version() -> None:
    root, clock = MemoryRootKey(), MovableClock(NOW)
    (event,) = chain("user:alice", [False])
    old = receipt_of(signer_for(root, clock), event)
    new_kid = root.rotate()
    new = receipt_of(signer_for(root, clock), event)  # a new instance certifies with the newest version
    keys = KeySet(root).published()
    assert verify_document(old, keys, RECEIPT_TYPE).root_kid != new_kid
    assert verify_document(new, keys, RECEIPT_TYPE).root_kid == new_kid
    third_party_verify(old, keys.jwks())
    root.disable(verify_document(old, keys, RECEIPT_TYPE).root_kid)  # withdrawn from the key set
    with pytest.raises(NotAuthentic, match="not in the published key set"):
        verify_document(old, KeySet(root).published(), RECEIPT_TYPE)


def test_a_key_nearing_its_end_is_renewed_while_documents_keep_being_signed() -> None:
    root, clock = MemoryRootKey(), MovableClock(NOW)
    signer = signer_for(root, clock, hours=3)
    (event,) = chain("user:alice", [True])
    first = parse(receipt_of(signer, event)).header["kid"]
    clock.advance(hours=2, minutes=30)
    assert parse(receipt_of(signer, event)).header["kid"] == first  # signed at once, renewal in the background
    renewed = first
    for _ in range(500):  # the renewal runs in a thread of its own: wait for it, at most five seconds
        renewed = parse(receipt_of(signer, event)).header["kid"]
        if renewed != first:
            break
        time.sleep(0.01)
    assert renewed != first
    assert root.calls == 4  # one more certificate, not one per document


@pytest.mark.parametrize("change", ["payload", "header-kid", "type", "outside-window"])
def test_an_altered_or_misused_document_is_not_authentic(change: str) -> None:
    root, clock = MemoryRootKey(), MovableClock(NOW)
    signer = signer_for(root, clock)
    (event,) = chain("user:alice", [True])
    token = receipt_of(signer, event)
    keys = KeySet(root).published()
    head, payload, signature = token.split(".")
    expected = RECEIPT_TYPE
    if change == "payload":
        claims = json.loads(parse(token).payload)
        claims["purposes"][0]["granted"] = False
        token = f"{head}.{b64url(json.dumps(claims).encode())}.{signature}"
    elif change == "header-kid":
        header = {**parse(token).header, "kid": "another"}
        token = f"{b64url(json.dumps(header).encode())}.{payload}.{signature}"
    elif change == "type":
        expected = SEAL_TYPE  # a receipt is never taken for a seal
    else:
        claims = {**json.loads(parse(token).payload), "iat": int((NOW + timedelta(days=1)).timestamp())}
        key = signer._key()  # the genuine key, but a time its certificate does not cover
        from core.jws import sign_es256

        token = sign_es256(key.key, {"kid": key.kid, "kcrt": key.certificate}, json.dumps(claims).encode())
    with pytest.raises(NotAuthentic):
        verify_document(token, keys, expected)


@pytest.mark.parametrize("odd", ["", "a.b", "a.b.c", "....", "é.é.é", "x" * 70_000, "eyJhbGciOiJub25lIn0.e30."])
def test_any_text_that_is_not_a_signed_document_is_simply_not_authentic(odd: str) -> None:
    with pytest.raises(NotAuthentic):
        verify_document(odd, PublishedKeys({}), RECEIPT_TYPE)


def test_jws_parsing_refuses_other_algorithms() -> None:
    header = b64url(json.dumps({"alg": "HS256"}).encode())
    unsigned = f"{header}.{b64url(b'{}')}.{b64url(bytes(64))}"
    with pytest.raises(JwsError):
        parse(unsigned)


# ---- receipts against the ledger -----------------------------------------------------------------


def test_a_rewritten_event_contradicts_its_receipt() -> None:
    root, clock = MemoryRootKey(), MovableClock(NOW)
    events = chain("visitor:4f1c2b9a7d3e4c5fa8b0", [True, False])
    receipt = check_receipt(receipt_of(signer_for(root, clock), events[0]), KeySet(root).published()).claims
    assert contradictions(receipt, events[0].content(), events[0].hash) == []
    rewritten = {**events[0].content(), "decisions": {"analytics": {"granted": False, "source": "banner"}}}
    from functions.consent.ledger import content_hash

    assert contradictions(receipt, rewritten, content_hash(rewritten)) == ["ledger", "purposes"]
    assert contradictions(receipt, {**events[0].content(), "recordedAt": "2020-01-01"}, events[0].hash) == [
        "consentTimestamp"
    ]


# ---- Merkle trees (RFC 6962) ---------------------------------------------------------------------


def reference_root(data: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 written out recursively, to check the streaming accumulator against."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return leaf_hash(data[0])
    k = 1
    while k * 2 < len(data):
        k *= 2
    return node_hash(reference_root(data[:k]), reference_root(data[k:]))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 31, 64, 100])
def test_merkle_roots_and_inclusion_proofs_follow_rfc_6962(size: int) -> None:
    data = [f"leaf-{i}".encode() for i in range(size)]
    leaves = [leaf_hash(d) for d in data]
    root = reference_root(data)
    assert tree_root(leaves) == root
    for index in range(size):
        path = audit_path(leaves, index)
        assert verify_inclusion(leaves[index], index, size, path, root)
        assert not verify_inclusion(leaf_hash(b"another"), index, size, path, root)


def test_an_empty_tree_has_the_hash_of_nothing() -> None:
    assert tree_root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


# ---- a chain and its seal, offline ---------------------------------------------------------------


def sealed_proof(
    signer: DocumentSigner, events: list[Any], others: int = 6, checkpoint: tuple[int, str] | None = None
) -> dict[str, Any]:
    """The proof answer for ``events``, with a seal over their head among other chains' heads;
    ``checkpoint``: retention removed the events before them."""
    from functions.consent.chain import verify_chain

    head = events[-1]
    leaves = [head_leaf(f"visitor:other{i:016d}", 1, "cd" * 32) for i in range(others)]
    leaves.insert(3, head_leaf(head.subject_id, head.seq, head.hash))
    claims = {
        "number": 1,
        "previousSeal": None,
        "merkleRoot": tree_root(leaves).hex(),
        "treeSize": len(leaves),
        "leafFormat": "test",
        "leavesBlob": "leaves/1.bin",
        "leavesSha256": hashlib.sha256(b"".join(leaves)).hexdigest(),
        "windowStart": 0,
        "windowEnd": int(NOW.timestamp()),
        "sealedAt": NOW.isoformat(),
    }
    token, signed = signer.sign(SEAL_TYPE, claims)
    inclusion = SealInclusionView(
        seal=SealView(number=1, jws=token, claims=SealClaimsView.model_validate(signed)),
        sealed_head=SealedHeadView(seq=head.seq, hash=head.hash),
        leaf_hash=leaves[3].hex(),
        leaf_index=3,
        tree_size=len(leaves),
        audit_path=[node.hex() for node in audit_path(leaves, 3)],
    )
    view = proof_view(events, verify_chain(events, (head.seq, head.hash), checkpoint), inclusion)
    answer: dict[str, Any] = json.loads(view.model_dump_json(by_alias=True))
    return answer


def test_a_chain_its_seal_and_its_receipts_verify_offline_and_survive_pseudonymisation() -> None:
    root, clock = MemoryRootKey(), MovableClock(NOW)
    signer = signer_for(root, clock)
    events = chain("user:alice", [True, False, True])
    receipts = [receipt_of(signer, e) for e in events]
    keys = KeySet(root).published()
    lines = check_chain(sealed_proof(signer, events), keys, receipts)
    assert lines[1].startswith("events 1-3 are sealed in seal 1")
    erased = [e.pseudonymized() for e in events]  # what erasure leaves: no IP network, agent or salt
    assert all(e.context.ip_truncated is None for e in erased)
    assert len(check_chain(sealed_proof(signer, erased), keys, receipts)) == 5


def test_a_tampered_event_fails_against_its_receipt_and_its_seal() -> None:
    root, clock = MemoryRootKey(), MovableClock(NOW)
    signer = signer_for(root, clock)
    events = chain("user:alice", [True, False, True])
    receipt = receipt_of(signer, events[1])
    proof = sealed_proof(signer, events)
    keys = KeySet(root).published()
    # The operator rewrites event 2 and recomputes its hash and every hash after it: the chain holds
    # together again, but the receipt and the seal each remember the original.
    from functions.consent.ledger import content_hash

    previous = proof["events"][0]["hash"]
    for event in proof["events"][1:]:
        event["content"]["prevHash"] = previous
        if event["seq"] == 2:
            event["content"]["decisions"]["analytics"]["granted"] = True
        event["hash"] = previous = content_hash(event["content"])
    with pytest.raises(NotAuthentic, match="seal 1 holds a head for event 3 that this chain contradicts"):
        check_chain(proof, keys, [receipt])
    proof["seal"] = None
    with pytest.raises(NotAuthentic, match="contradicts the receipt of event 2"):
        check_chain(proof, keys, [receipt])
    # A plain edit without recomputing is an altered event.
    untouched = sealed_proof(signer, events)
    untouched["events"][0]["content"]["policyVersion"] = "2020-01"
    with pytest.raises(NotAuthentic, match="event 1 was altered"):
        check_chain(untouched, keys)


def test_a_chain_whose_first_events_retention_removed_verifies_from_its_checkpoint() -> None:
    root, clock = MemoryRootKey(), MovableClock(NOW)
    signer = signer_for(root, clock)
    events = chain("user:alice", [True, False, True, False, True])
    receipts = [receipt_of(signer, e) for e in events]
    keys = KeySet(root).published()
    checkpoint = (2, events[1].hash)  # the subject came back after retention took events 1-2
    proof = sealed_proof(signer, events[2:], checkpoint=checkpoint)
    assert proof["verification"]["valid"] is True
    assert proof["verification"]["checkpoint"] == {"seq": 2, "hash": events[1].hash}
    lines = check_chain(proof, keys, receipts)
    assert lines[0] == "chain of user:alice: 3 events, every hash and link holds"
    assert lines[1].startswith("events 1-2 were removed by retention")
    assert lines[2].startswith("events 1-5 are sealed in seal 1")
    assert lines[3] == "receipt of event 1 is signed; retention removed its event, so only the receipt tells it"
    assert lines[5:] == [f"receipt of event {n} is signed and the ledger agrees with it" for n in (3, 4, 5)]
    # Without its checkpoint the same events are a chain with its beginning missing.
    proof["verification"]["checkpoint"] = None
    with pytest.raises(NotAuthentic, match="event 1 is missing"):
        check_chain(proof, keys)
    # A checkpoint moved to another hash no longer meets the first event kept ...
    proof["verification"]["checkpoint"] = {"seq": 2, "hash": "ab" * 32}
    with pytest.raises(NotAuthentic, match="event 3 does not continue the chain"):
        check_chain(proof, keys)
    # ... and rewriting that event to fit it contradicts the receipt of the last event removed.
    from functions.consent.ledger import content_hash

    first = proof["events"][0]
    first["content"]["prevHash"] = "ab" * 32
    first["hash"] = content_hash(first["content"])
    proof["seal"] = None
    previous = first["hash"]
    for event in proof["events"][1:]:
        event["content"]["prevHash"] = previous
        event["hash"] = previous = content_hash(event["content"])
    assert check_chain(proof, keys)[0].startswith("chain of user:alice: 3 events")
    with pytest.raises(NotAuthentic, match="checkpoint contradicts the receipt of event 2"):
        check_chain(proof, keys, [receipts[1]])
