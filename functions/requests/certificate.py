"""Deletion certificates: what was done where, signed, holding none of the erased data."""

from __future__ import annotations

import json
from typing import Any

from core.keyring import KeyRing, sign, verify
from functions.requests.inventory import Inventory
from functions.requests.model import DsrRequest

ISSUER = "privacy-backend"
CERTIFICATE_PURPOSE = "dsr-deletion-certificate"


def _canonical(certificate: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in certificate.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def issue(request: DsrRequest, inventory: Inventory, issued_at: str, ring: KeyRing) -> dict[str, Any]:
    steps = []
    for step in request.steps:
        try:
            location = inventory.location(step.name)
        except KeyError:
            continue  # bookkeeping steps (resolve, deliver) are not places data lived
        steps.append(
            {
                "location": location.id,
                "category": location.category,
                "strategy": location.erasure.strategy,
                "legalBasis": location.erasure.legal_basis,
                "counts": step.counts,
                "confirmations": step.confirmations,
                "finishedAt": step.finished_at,
            }
        )
    certificate: dict[str, Any] = {
        "certificateId": request.id,
        "requestId": request.id,
        "issuer": ISSUER,
        "type": "erasure",
        "jurisdiction": request.jurisdiction,
        "receivedAt": request.received_at,
        "completedAt": issued_at,
        "steps": steps,
    }
    certificate["signature"] = sign(ring, _canonical(certificate), CERTIFICATE_PURPOSE)
    return certificate


def is_authentic(certificate: dict[str, Any], ring: KeyRing) -> bool:
    signature = certificate.get("signature")
    return isinstance(signature, str) and verify(ring, _canonical(certificate), signature, CERTIFICATE_PURPOSE)
