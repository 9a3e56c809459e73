"""A seal of the consent ledger as kept in ``consent-seals`` (the signed seal itself is in the
append-only blob container; this record finds it by number and time window)."""

from __future__ import annotations

from core.models import StoredDocument

LEDGER = "consent"  # the one partition: one small record per seal, hourly
SEALS_CONTAINER = "consent-seals"  # the blob container (declarations/storage.json)


class SealRecord(StoredDocument):
    id: str
    ledger: str = LEDGER
    number: int
    jws: str
    window_start: int
    window_end: int
    tree_size: int
    leaves_blob: str | None


def seal_id(number: int) -> str:
    return f"{number:012d}"


def seal_blob_name(number: int) -> str:
    return f"seals/{seal_id(number)}.jws"
