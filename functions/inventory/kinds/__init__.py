"""Every kind of location; importing this package registers them all."""

from functions.inventory.kinds import (
    audit_trail,
    consent_ledger,
    cosmos,
    export_archives,
    incident_recipients,
    legal_holds,
    own_records,
    request_records,
    sendgrid,
    stripe,
)

__all__ = [
    "audit_trail",
    "consent_ledger",
    "cosmos",
    "export_archives",
    "incident_recipients",
    "legal_holds",
    "own_records",
    "request_records",
    "sendgrid",
    "stripe",
]
