"""What the inventory's locations need from the world outside the document store.

Implementations live in ``adapters/`` (Stripe, SendGrid, Azure Blob, through their SDKs) and, for
request records, in the requests capability. Every mutating call is safe to repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from core.ports import Confirmation


class PaymentsGateway(Protocol):
    """The payment processor (Stripe): customers found by email, exported as Stripe holds them."""

    def find_customer_ids(self, email: str) -> list[str]: ...

    def export_customer(self, customer_id: str) -> dict[str, Any]:
        """The customer, its payment methods and charges as Stripe holds them; never full card numbers."""
        ...

    def delete_customer(self, customer_id: str, idempotency_key: str) -> Confirmation:
        """Deletes the customer (and with it its payment methods); a customer already gone is confirmed too."""
        ...


class MarketingContacts(Protocol):
    """The email platform's marketing side (SendGrid Marketing Campaigns and suppressions)."""

    def export_contact(self, email: str) -> dict[str, Any]:
        """``{"contact": ... or None, "globalSuppression": ... or None, "unsubscribes": [...]}``."""
        ...

    def delete_contact(self, email: str) -> Confirmation | None:
        """Deletes the marketing contact if there is one; None when there is nothing to delete."""
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
    """Export archives in Blob storage: written as a stream, shared by a short-lived read-only link."""

    def open_archive(self, subject_key: str, request_id: str) -> ArchiveWriter: ...

    def share_link(self, blob_name: str, valid_for: timedelta) -> str: ...

    def delete_archive(self, blob_name: str) -> Confirmation:
        """Deletes one archive; one already gone is confirmed too."""
        ...

    def delete_archives(self, subject_key: str) -> list[Confirmation]:
        """Deletes every archive ever made for the subject (by its key prefix)."""
        ...


class RequestRecords(Protocol):
    """The person's other data-subject requests (kept as proof, GDPR Art. 5(2))."""

    def forget_address(self, subject_key: str, except_request_id: str) -> int:
        """Removes the address from the person's closed requests (open ones still need it to answer);
        returns how many lost it."""
        ...
