"""Customers at the payment processor: exported as it holds them, deleted with their payment methods.

Retention deletes the customer of an account closed longer than its period (the profile names it),
then notes on the profile that it did. The deletion carries a key of the customer's own, so a repeat
after a crash, or by a second run, is answered by Stripe from the first call instead of repeating it,
and the customer is looked up before it is deleted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.ports import Document
from functions.inventory.accounts import closed_accounts, mark_done
from functions.inventory.locations import (
    Outcome,
    Preview,
    PurgeScope,
    PurgeStep,
    StoredLocation,
    TimeLeft,
    location_kind,
)
from functions.inventory.purging import preview_of, purge_remaining
from functions.inventory.subject import Subject
from functions.inventory.third_parties import HELD_ACCOUNT_KEYS, held_account


def retention_key(customer_id: str) -> str:
    """One key per customer for every retention run: Stripe replays the first answer to a repeat."""
    return f"retention-{customer_id}"


@location_kind("stripe")
class StripeLocation(StoredLocation):
    purge_chunk = 100  # each item is a call to Stripe

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

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        def purge_account(profile: Document) -> bool:
            customer_id = profile.get("stripeCustomerId")
            if isinstance(customer_id, str) and customer_id:
                self.systems.payments.delete_customer(customer_id, retention_key(customer_id))
            return mark_done(self.systems.store, str(profile["userId"]), scope.rule.id, scope.now)

        selection = closed_accounts(scope.rule, scope.cutoff, scope.holds)
        chunk = self.chunk(scope, bookmark, limit, time_left)
        return purge_remaining(
            self.systems.store, [selection], HELD_ACCOUNT_KEYS, chunk, purge_account, held=held_account(scope)
        )

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        """The closed accounts that still have a customer at Stripe."""
        customers = closed_accounts(scope.rule, scope.cutoff, scope.holds, "IS_STRING(c.stripeCustomerId)")
        return preview_of(self.systems.store, [customers])
