"""What the inventory's locations need from the world outside the document store.

Implementations live in ``adapters/`` (Stripe, SendGrid, Azure Blob, through their SDKs) and, for
request records, in the requests capability. Every mutating call is safe to repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from core.ports import Confirmation
from functions.inventory.holds import HeldSet, Hold


class PaymentsGateway(Protocol):
    """The payment processor (Stripe): customers found by email, exported as Stripe holds them."""

    def find_customer_ids(self, email: str) -> list[str]: ...

    def export_customer(self, customer_id: str) -> dict[str, Any]:
        """The customer, its payment methods and charges as Stripe holds them; never full card numbers."""
        ...

    def delete_customer(self, customer_id: str, idempotency_key: str) -> Confirmation:
        """Deletes the customer (and with it its payment methods); a customer already gone is confirmed too."""
        ...


class ContactNotDeleted(Exception):
    """SendGrid surely did not delete the contact: it could not be reached before the deletion was
    sent, or it refused the request. Asking again cannot delete it twice."""


class MarketingContacts(Protocol):
    """The email platform's marketing side (SendGrid Marketing Campaigns and suppressions)."""

    def export_contact(self, email: str) -> dict[str, Any]:
        """``{"contact": ... or None, "globalSuppression": ... or None, "unsubscribes": [...]}``."""
        ...

    def delete_contact(self, email: str) -> Confirmation | None:
        """Deletes the marketing contact if there is one; None when there is nothing to delete.
        Deletion takes a while at SendGrid: until it has, the contact is still found, so a second
        call deletes it again. ContactNotDeleted when surely nothing was deleted; any other error
        leaves that open."""
        ...

    def suppress(self, email: str) -> Confirmation:
        """Adds the address to the global suppression list so it is never mailed or re-imported."""
        ...


class ArchiveWriter(Protocol):
    def add_json_array(self, name: str, items: Iterable[Mapping[str, Any]]) -> int:
        """Streams items into ``name`` as a JSON array without holding them all; returns the count."""
        ...

    def add_json(self, name: str, document: Mapping[str, Any]) -> None: ...

    def add_text(self, name: str, text: str) -> None: ...

    def close(self) -> str:
        """Finishes the archive and returns its blob name."""
        ...


class ArchiveStore(Protocol):
    """Export archives in Blob storage: written as a stream, shared by a short-lived read-only link.

    Each archive carries whether a legal hold covers it, which the storage's own lifecycle rule
    respects: it deletes only archives that are free."""

    def open_archive(self, subject_key: str, request_id: str, held: bool = False) -> ArchiveWriter: ...

    def archive_names(self, subject_key: str) -> list[str]:
        """Every archive ever made for the subject (by its key prefix)."""
        ...

    def mark_held(self, blob_name: str, held: bool) -> None:
        """Marks an archive held (or free again); an archive already gone is ignored."""
        ...

    def share_link(self, blob_name: str, valid_for: timedelta) -> str: ...

    def delete_archive(self, blob_name: str) -> Confirmation:
        """Deletes one archive; one already gone is confirmed too."""
        ...

    def delete_archives(self, subject_key: str, keep: frozenset[str] = frozenset()) -> list[Confirmation]:
        """Deletes every archive ever made for the subject (by its key prefix), except those of the
        requests in ``keep`` (held ones)."""
        ...


RequestPurge = Literal["archive", "unconfirmed", "closed"]  # what retention does to request records


@dataclass(frozen=True)
class DueRequest:
    """A request past a retention period: its id and the moment its clock started."""

    request_id: str
    since: datetime
    archive: str | None = None  # the export archive's blob name, for archive purges


class RequestRecords(Protocol):
    """The person's other data-subject requests (kept as proof, GDPR Art. 5(2)), and the ones whose
    retention is over: export archives to delete, unconfirmed requests to close, closed ones to delete."""

    def forget_address(self, subject_key: str, except_request_id: str, keep: frozenset[str] = frozenset()) -> int:
        """Removes the address from the person's closed requests (open ones still need it to answer, the
        ones in ``keep`` are held); returns how many lost it."""
        ...

    def due(self, purge: RequestPurge, cutoff: datetime, held: HeldSet, limit: int) -> list[DueRequest]:
        """Requests whose clock started before ``cutoff``, oldest first, none of them held."""
        ...

    def count_due(self, purge: RequestPurge, cutoff: datetime, held: HeldSet | None) -> tuple[int, datetime | None]:
        """How many are due and the oldest clock start; ``held`` None counts held ones too."""
        ...

    def held_by_subject(self, held: HeldSet) -> frozenset[str]:
        """The ids of the requests whose subject a hold names (by the keyed hash of the address or by
        user id), whatever their state."""
        ...

    def purge(self, purge: RequestPurge, request_id: str, at: datetime) -> bool:
        """Notes the archive deleted, closes the unconfirmed request (forgetting its address and link)
        or deletes the closed one; False when there was nothing left to do (done before, or the
        request changed meanwhile)."""
        ...


class LegalHolds(Protocol):
    """The legal holds in force (kept by the retention capability)."""

    def in_force(self) -> HeldSet: ...

    def ending_by(self, moment: datetime) -> list[Hold]:
        """Holds in force whose end date comes before ``moment`` (for the staff digest)."""
        ...
