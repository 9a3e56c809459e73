"""What data-subject requests need from the world outside the database, as small interfaces.

Implementations live in ``adapters/`` and use the official SDKs (Stripe, SendGrid, Azure Blob).
Every mutating call is safe to repeat: a worker that dies mid-step calls it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol


@dataclass(frozen=True)
class Confirmation:
    """What a third party said when it did something: kept in the step log and the certificate."""

    system: str  # stripe | sendgrid | blob
    action: str  # e.g. customer.deleted, contact.deleted, suppression.added, archive.deleted
    reference: str  # the third party's id for it (deleted object id, job id, blob name)


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
        """The marketing contact (or null) and the suppression entries for the address."""
        ...

    def delete_contact(self, email: str) -> Confirmation | None:
        """Deletes the marketing contact if there is one; None when there is nothing to delete."""
        ...

    def suppress(self, email: str) -> Confirmation:
        """Adds the address to the global suppression list so it is never mailed or re-imported."""
        ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str, category: str) -> str:
        """Sends one transactional mail and returns the provider's message id."""
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
