"""Every kind of location; importing this package registers them all."""

from functions.inventory.kinds import (
    consent_ledger,
    cosmos,
    export_archives,
    request_records,
    sendgrid,
    stripe,
)

__all__ = ["consent_ledger", "cosmos", "export_archives", "request_records", "sendgrid", "stripe"]
