"""Customers at the payment processor: exported as it holds them, deleted with their payment methods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from functions.inventory.locations import Outcome, StoredLocation, location_kind
from functions.inventory.subject import Subject


@location_kind("stripe")
class StripeLocation(StoredLocation):
    def held_items(self, subject: Subject) -> int:
        return len(subject.stripe_customer_ids)

    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        for customer_id in subject.stripe_customer_ids:
            yield self.systems.payments.export_customer(customer_id)

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        outcome = Outcome()
        for customer_id in subject.stripe_customer_ids:
            # One key per request and customer: a repeated step never deletes twice at Stripe.
            key = f"erasure-{subject.request_id}-{customer_id}"
            outcome.confirmations.append(self.systems.payments.delete_customer(customer_id, key).to_document())
        outcome.counts = {"customersDeleted": len(subject.stripe_customer_ids)}
        return outcome
