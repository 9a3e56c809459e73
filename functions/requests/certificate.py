"""Deletion certificates: what was done where, signed, holding none of the erased data."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.keyring import KeyRing, sign, verify

if TYPE_CHECKING:
    from functions.inventory.declaration import Inventory
    from functions.requests.request_record import DsrRequest

ISSUER = "privacy-backend"
CERTIFICATE_PURPOSE = "dsr-deletion-certificate"


def _canonical(certificate: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in certificate.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def issue(request: DsrRequest, inventory: Inventory, issued_at: datetime, ring: KeyRing) -> dict[str, Any]:
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
    certificate: dict[str, Any] = {
        "certificateId": request.id,
        "requestId": request.id,
        "issuer": ISSUER,
        "type": "erasure",
        "jurisdiction": request.jurisdiction,
        "receivedAt": request.received_at.isoformat(),
        "completedAt": issued_at.isoformat(),
        "steps": steps,
    }
    certificate["signature"] = sign(ring, _canonical(certificate), CERTIFICATE_PURPOSE)
    return certificate


def is_authentic(certificate: dict[str, Any], ring: KeyRing) -> bool:
    signature = certificate.get("signature")
    return isinstance(signature, str) and verify(ring, _canonical(certificate), signature, CERTIFICATE_PURPOSE)
