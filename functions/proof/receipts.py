"""Consent receipts: what one recorded decision says, signed, for the person to keep.

The fields are named after ISO/IEC TS 27560 consent records and the Kantara Consent Receipt before
it (``piiPrincipalId``, ``consentTimestamp``, ``collectionMethod``, ``jurisdiction``, the privacy
notice, the purposes and their status), plus the event's place in the ledger: its sequence number,
its hash and the hash before it. Everything comes from what the event's hash covers, so a receipt
can always be checked against the ledger later: a rewritten event contradicts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RECEIPT_TYPE = "consent-receipt"
SCHEMA_VERSION = "privacy-backend/consent-receipt/1 (ISO/IEC TS 27560 fields)"
SIGNATURE_FIELDS = frozenset({"documentType", "iss", "iat"})


def receipt_claims(content: Mapping[str, Any], event_hash: str) -> dict[str, Any]:
    """The receipt of the event whose hashed content is ``content`` (``ConsentEvent.content()``)."""
    return {
        "schemaVersion": SCHEMA_VERSION,
        "recordId": f"{content['subjectId']}#{content['seq']}",
        "piiPrincipalId": content["subjectId"],
        "consentTimestamp": content["recordedAt"],
        "collectionMethod": content["source"],
        "jurisdiction": content["jurisdiction"],
        "privacyNotice": {"version": content["policyVersion"], "textSha256": content["noticeTextHash"]},
        "purposes": [
            {
                "purposeId": purpose,
                "granted": bool(decision["granted"]),
                "consentStatus": "given" if decision["granted"] else "refused",
                "source": decision["source"],
                "overridesGpc": bool(decision.get("overridesGpc", False)),
            }
            for purpose, decision in sorted(content["decisions"].items())
        ],
        "eventType": content["kind"],
        "linkedSubject": content["linkedSubject"],
        "ledger": {"seq": content["seq"], "eventHash": event_hash, "prevHash": content["prevHash"]},
    }


def contradictions(receipt: Mapping[str, Any], content: Mapping[str, Any], event_hash: str) -> list[str]:
    """The receipt fields the ledger's event no longer says (empty when they agree)."""
    expected = receipt_claims(content, event_hash)
    fields = (set(receipt) | set(expected)) - SIGNATURE_FIELDS
    return sorted(name for name in fields if receipt.get(name) != expected.get(name))
