"""Who a request is about: the product's user id and the payment processor's customers."""

from __future__ import annotations

from dataclasses import dataclass

from functions.inventory.ports import PaymentsGateway
from functions.requests.ports import Profiles
from functions.requests.request_record import DsrRequest


@dataclass(frozen=True)
class Resolved:
    user_id: str | None
    stripe_customer_ids: tuple[str, ...]


class SubjectResolver:
    def __init__(self, profiles: Profiles, payments: PaymentsGateway) -> None:
        self._profiles = profiles
        self._payments = payments

    def resolve(self, request: DsrRequest) -> Resolved:
        """Read-only lookups: by the keyed hash of the address, the profile, and the address at Stripe."""
        user_id = request.user_id or self._profiles.user_for_email(request.email, request.subject_key)
        customers = set(request.stripe_customer_ids)
        if user_id is not None and (customer := self._profiles.stripe_customer_of(user_id)):
            customers.add(customer)
        if request.email:
            customers.update(self._payments.find_customer_ids(request.email))
        return Resolved(user_id, tuple(sorted(customers)))
