"""PaymentsGateway on Stripe through the official ``stripe`` SDK (one client per instance, nothing global).

Locally the base URL points at localstripe, which has no search API: customers are found by listing
with the ``email`` filter, page by page. Exports never carry full card numbers or CVCs: under every
``card`` only the fields that identify a card without being one survive.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe

from adapters.export_format import iso_times
from core.ports import Confirmation
from core.settings import Settings, SettingsError

# The SDK logs every request URL at INFO and response bodies at DEBUG; a lookup by email carries the
# address in the query string. The Functions worker forwards INFO to Application Insights.
logging.getLogger("stripe").setLevel(logging.WARNING)

PAGE_SIZE = 100  # Stripe's maximum page size

# What an export keeps of a card: enough to recognise it, nothing that could pay with it.
CARD_FIELDS = ("brand", "last4", "exp_month", "exp_year", "country", "funding", "fingerprint")
_CARD_KEYS = frozenset({"card", "card_present"})
# A legacy Card object (``object: "card"``, e.g. a customer source) also keeps who holds it.
_CARD_OBJECT_FIELDS = frozenset({"id", "object", "customer", "name", *CARD_FIELDS})
# Stripe's times are Unix seconds; exports show them as ISO 8601.
TIME_FIELDS = frozenset(
    {
        "created",
        "canceled_at",
        "ended_at",
        "start_date",
        "trial_start",
        "trial_end",
        "current_period_start",
        "current_period_end",
        "due_date",
        "paid_at",
        "voided_at",
        "finalized_at",
        "period_start",
        "period_end",
        "next_payment_attempt",
        "effective_at",
        "available_on",
        "arrival_date",
        "expires_at",
    }
)


class StripeLookupFailed(RuntimeError):
    """A lookup by email failed. Says how (error type, HTTP status), never with the address.

    The SDK's own errors quote the request URL, whose query string holds the email, so they are
    replaced by this one and not chained.
    """

    def __init__(self, error_type: str, http_status: int | None, retryable: bool) -> None:
        super().__init__(f"Stripe customer lookup by email failed: {error_type} (HTTP status {http_status})")
        self.error_type = error_type
        self.http_status = http_status
        self.retryable = retryable


class StripePayments:
    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        if not api_key:
            raise ValueError("a Stripe API key is required")
        if api_base:
            self._client = stripe.StripeClient(api_key, base_addresses={"api": api_base.rstrip("/")})
        else:
            self._client = stripe.StripeClient(api_key)

    @classmethod
    def from_settings(cls, settings: Settings) -> StripePayments:
        api_key = settings.get("STRIPE_API_KEY")
        if not api_key:
            raise SettingsError("app setting STRIPE_API_KEY is required to reach Stripe")
        return cls(api_key, settings.get("STRIPE_API_BASE") or None)

    def find_customer_ids(self, email: str) -> list[str]:
        """Every customer whose email is the address (Stripe's filter is case-sensitive: the address
        as given and its lower-case form are both asked for). Errors never carry the address."""
        address = email.strip()
        if not address:  # an empty filter would match customers without an email
            return []
        ids: list[str] = []
        failure: StripeLookupFailed | None = None
        try:
            for candidate in dict.fromkeys((address, address.lower())):
                listing = self._client.v1.customers.list(params={"email": candidate, "limit": PAGE_SIZE})
                for customer in listing.auto_paging_iter():
                    if customer.id not in ids:
                        ids.append(customer.id)
        except stripe.StripeError as exc:
            failure = _lookup_failure(exc)
        if failure is not None:
            # Raised outside the except block so the SDK's error (with the URL) is not its context.
            raise failure
        return ids

    def export_customer(self, customer_id: str) -> dict[str, Any]:
        """The customer, its payment methods and its charges as plain JSON-ready dicts.

        A customer that no longer exists is exported as Stripe describes it,
        ``{"id": ..., "object": "customer", "deleted": true}``, with whatever charges Stripe still
        lists for it, so a stale customer id never blocks an export.
        """
        customer = self._retrieve(customer_id)
        if customer is None:
            exported = {
                "customer": {"id": customer_id, "object": "customer", "deleted": True},
                "paymentMethods": [],
                "charges": self._charges(customer_id, missing_ok=True),
            }
        else:
            exported = {
                "customer": _scrub(customer),
                "paymentMethods": self._payment_methods(customer_id),
                "charges": self._charges(customer_id),
            }
        return dict(iso_times(exported, TIME_FIELDS))

    def delete_customer(self, customer_id: str, idempotency_key: str) -> Confirmation:
        """Deletes the customer once: a customer already gone is confirmed without another delete."""
        confirmation = Confirmation("stripe", "customer.deleted", customer_id)
        if self._retrieve(customer_id) is None:
            return confirmation
        try:
            deleted = self._client.v1.customers.delete(customer_id, options={"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:  # deleted by someone else since the check
                return confirmation
            raise
        if not deleted.to_dict().get("deleted"):
            raise RuntimeError(f"Stripe did not confirm the deletion of customer {customer_id}")
        return confirmation

    def _retrieve(self, customer_id: str) -> dict[str, Any] | None:
        """The customer, or None when it is gone: Stripe answers ``deleted: true``, localstripe 404."""
        try:
            customer = self._client.v1.customers.retrieve(customer_id).to_dict(for_json=True)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise
        return None if customer.get("deleted") else customer

    def _charges(self, customer_id: str, missing_ok: bool = False) -> list[dict[str, Any]]:
        try:
            listing = self._client.v1.charges.list(params={"customer": customer_id, "limit": PAGE_SIZE})
            return [_scrub(charge.to_dict(for_json=True)) for charge in listing.auto_paging_iter()]
        except stripe.InvalidRequestError as exc:
            if missing_ok and exc.http_status == 404:  # localstripe: no charges listed for a gone customer
                return []
            raise

    def _payment_methods(self, customer_id: str) -> list[dict[str, Any]]:
        try:
            listing = self._client.v1.payment_methods.list(params={"customer": customer_id, "limit": PAGE_SIZE})
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 400:
                raise
            # Stripe lists every type when none is given; localstripe insists on one and knows only cards.
            listing = self._client.v1.payment_methods.list(
                params={"customer": customer_id, "type": "card", "limit": PAGE_SIZE}
            )
        return [_scrub(method.to_dict(for_json=True)) for method in listing.auto_paging_iter()]


def _scrub(value: Any) -> Any:
    """A copy without card secrets: under ``card`` only :data:`CARD_FIELDS`, wherever it appears."""
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("object") == "card":
        return {k: v for k, v in value.items() if k in _CARD_OBJECT_FIELDS or k.startswith("address_")}
    scrubbed: dict[str, Any] = {}
    for key, item in value.items():
        if key in _CARD_KEYS and isinstance(item, dict):
            scrubbed[key] = {name: item[name] for name in CARD_FIELDS if name in item}
        else:
            scrubbed[key] = _scrub(item)
    return scrubbed


def _lookup_failure(exc: stripe.StripeError) -> StripeLookupFailed:
    status = exc.http_status
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or (
        status is not None and (status >= 500 or status == 409)
    )
    return StripeLookupFailed(type(exc).__name__, status, retryable)
