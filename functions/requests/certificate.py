"""Deletion certificates: what was done where, signed, holding none of the erased data.

A certificate is its fields plus ``signature``: a compact JWS (ES256) whose payload is exactly those
fields, signed through the published key set (``functions/proof/trust.py``), so anyone checks it
offline with any JOSE library. Certificates issued before that carry an HMAC of the key ring instead;
only this service can check those, and still does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.keyring import KeyRing, verify
from functions.proof.trust import NotAuthentic

if TYPE_CHECKING:
    from functions.inventory.declaration import Inventory
    from functions.proof.keyset import KeySet
    from functions.proof.signer import DocumentSigner
    from functions.requests.request_record import DsrRequest

ISSUER = "privacy-backend"
CERTIFICATE_TYPE = "deletion-certificate"
LEGACY_PURPOSE = "dsr-deletion-certificate"


def issue(request: DsrRequest, inventory: Inventory, issued_at: datetime, signer: DocumentSigner) -> dict[str, Any]:
    declared = {location.id: location for location in inventory.locations}
    steps = [
        {
            "location": step.name,
            "category": declared[step.name].category,
            "strategy": declared[step.name].erasure.strategy,
            "legalBasis": declared[step.name].erasure.legal_basis,
            "counts": step.counts,
            "confirmations": step.confirmations,
            "finishedAt": step.finished_at.isoformat() if step.finished_at else None,
        }
        for step in request.steps
        if step.name in declared  # bookkeeping steps (resolve, deliver) are not places data lived
    ]
    fields: dict[str, Any] = {
        "certificateId": request.id,
        "requestId": request.id,
        "issuer": ISSUER,
        "type": "erasure",
        "jurisdiction": request.jurisdiction,
        "receivedAt": request.received_at.isoformat(),
        "completedAt": issued_at.isoformat(),
        "steps": steps,
    }
    token, signed = signer.sign(CERTIFICATE_TYPE, fields)
    return {**signed, "signature": token}


def is_authentic(certificate: dict[str, Any], keys: KeySet, legacy_ring: KeyRing) -> bool:
    """True for a certificate this service signed and nobody changed; any other text is simply False."""
    signature = certificate.get("signature")
    if not isinstance(signature, str):
        return False
    if signature.count(".") != 2:  # issued before certificates were public-key signed
        unsigned = {k: v for k, v in certificate.items() if k != "signature"}
        canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()
        return verify(legacy_ring, canonical, signature, LEGACY_PURPOSE)
    try:
        return not altered_fields(certificate, keys.verify(signature, CERTIFICATE_TYPE).claims)
    except NotAuthentic:
        return False


def altered_fields(certificate: dict[str, Any], signed: dict[str, Any]) -> list[str]:
    """The fields of ``certificate`` (besides its signature) that differ from the claims it signed."""
    unsigned = {k: v for k, v in certificate.items() if k != "signature"}
    return sorted(k for k in set(unsigned) | set(signed) if unsigned.get(k) != signed.get(k))
