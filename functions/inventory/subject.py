"""Who a request is about, as the inventory's locations need to know it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subject:
    """Who a request is about, as far as it is known."""

    request_id: str
    subject_key: str  # keyed hash of the email
    email: str | None
    user_id: str | None
    stripe_customer_ids: tuple[str, ...] = ()
    held_request_ids: frozenset[str] = frozenset()  # the person's requests under a legal hold: kept as they are
