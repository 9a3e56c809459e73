"""Offline checks of everything this service signs, from files: what ``python -m functions.proof verify``
runs, and what an auditor can read to see exactly what is checked.

Nothing here calls the service: the published key set (a saved copy of ``/api/proof/jwks.json``) is
the only thing trusted, and the documents are checked against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.merkle import verify_inclusion
from functions.consent.ledger import GENESIS_HASH, content_hash
from functions.proof.heads import head_leaf
from functions.proof.receipts import RECEIPT_TYPE, contradictions
from functions.proof.sealing import SEAL_TYPE
from functions.proof.trust import NotAuthentic, PublishedKeys, Verified, verify_document
from functions.requests.certificate import CERTIFICATE_TYPE, altered_fields


def token_of(document: Any) -> str:
    """The compact JWS in what a person saved: the token itself, a receipt object, or a whole answer."""
    if isinstance(document, str):
        return document.strip()
    if isinstance(document, Mapping):
        for path in (("jws",), ("receipt", "jws"), ("seal", "jws")):
            found: Any = document
            for key in path:
                found = found.get(key) if isinstance(found, Mapping) else None
            if isinstance(found, str):
                return found
    raise NotAuthentic("no signed document found in the file")


def check_receipt(document: Any, keys: PublishedKeys) -> Verified:
    return verify_document(token_of(document), keys, RECEIPT_TYPE)


def check_certificate(certificate: Mapping[str, Any], keys: PublishedKeys) -> Verified:
    """A deletion certificate: its signature verifies, and its fields are exactly the ones signed."""
    signature = certificate.get("signature")
    if not isinstance(signature, str):
        raise NotAuthentic("the certificate has no signature")
    verified = verify_document(signature, keys, CERTIFICATE_TYPE)
    changed = altered_fields(dict(certificate), verified.claims)
    if changed:
        raise NotAuthentic(f"the certificate's fields differ from what was signed: {', '.join(changed)}")
    return verified


def check_chain(proof: Mapping[str, Any], keys: PublishedKeys, receipts: Sequence[Any] = ()) -> list[str]:
    """A subject's proof (the answer of a consent-proof endpoint): each event's hash and link, the seal
    and the chain head's inclusion in it, and that every receipt agrees with the chain. Returns what
    holds, line by line; raises :class:`NotAuthentic` at the first thing that does not."""
    events = sorted(proof.get("events") or [], key=lambda e: int(e["seq"]))
    if not events:
        raise NotAuthentic("the proof holds no events")
    subject = events[0]["content"]["subjectId"]
    by_seq: dict[int, Mapping[str, Any]] = {}
    removed, kept_from = _checkpoint(proof)
    previous = kept_from
    for expected_seq, event in enumerate(events, start=removed + 1):
        content = event["content"]
        if int(event["seq"]) != expected_seq or content["seq"] != expected_seq:
            raise NotAuthentic(f"event {expected_seq} is missing")
        if content_hash(content) != event["hash"]:
            raise NotAuthentic(f"event {expected_seq} was altered: its content does not hash to its hash")
        if content["prevHash"] != previous or content["subjectId"] != subject:
            raise NotAuthentic(f"event {expected_seq} does not continue the chain")
        previous = event["hash"]
        by_seq[expected_seq] = event
    lines = [f"chain of {subject}: {len(events)} events, every hash and link holds"]
    if removed:
        lines.append(
            f"events 1-{removed} were removed by retention: the chain goes on from their last hash, "
            f"{kept_from[:16]}..., which only a seal or a receipt of that time can confirm"
        )
    seal = proof.get("seal")
    if seal:
        claims = verify_document(seal["seal"]["jws"], keys, SEAL_TYPE).claims
        head = seal["sealedHead"]
        sealed = by_seq.get(int(head["seq"]))
        if sealed is None or sealed["hash"] != head["hash"]:
            raise NotAuthentic(
                f"seal {claims['number']} holds a head for event {head['seq']} that this chain contradicts"
            )
        leaf = head_leaf(subject, int(head["seq"]), head["hash"])
        path = [bytes.fromhex(node) for node in seal["auditPath"]]
        root = bytes.fromhex(claims["merkleRoot"])
        if leaf.hex() != seal["leafHash"] or not verify_inclusion(
            leaf, seal["leafIndex"], claims["treeSize"], path, root
        ):
            raise NotAuthentic(f"the chain head is not included in seal {claims['number']}")
        lines.append(
            f"events 1-{head['seq']} are sealed in seal {claims['number']} of {claims['sealedAt']} "
            f"(leaf {seal['leafIndex']} of {claims['treeSize']}, signed)"
        )
    else:
        lines.append("no seal covers this chain yet")
    for document in receipts:
        receipt = check_receipt(document, keys).claims
        seq = int(receipt["ledger"]["seq"])
        event = by_seq.get(seq)
        if receipt["piiPrincipalId"] == subject and event is None and seq <= removed:
            if seq == removed and receipt["ledger"]["eventHash"] != kept_from:
                raise NotAuthentic(f"the chain's checkpoint contradicts the receipt of event {seq}")
            lines.append(f"receipt of event {seq} is signed; retention removed its event, so only the receipt tells it")
            continue
        if receipt["piiPrincipalId"] != subject or event is None:
            raise NotAuthentic(f"a receipt for event {seq} of {receipt['piiPrincipalId']} has no event in this chain")
        differing = contradictions(receipt, event["content"], event["hash"])
        if differing:
            raise NotAuthentic(f"the ledger contradicts the receipt of event {seq}: {', '.join(differing)}")
        lines.append(f"receipt of event {seq} is signed and the ledger agrees with it")
    return lines


def _checkpoint(proof: Mapping[str, Any]) -> tuple[int, str]:
    """Where the chain starts: after the events retention removed (their count and last hash), or at
    the beginning."""
    verification = proof.get("verification")
    checkpoint = verification.get("checkpoint") if isinstance(verification, Mapping) else None
    if not isinstance(checkpoint, Mapping):
        return 0, GENESIS_HASH
    return int(checkpoint["seq"]), str(checkpoint["hash"])
