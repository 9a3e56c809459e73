"""What data-subject requests need besides the document store, queue, mailer and inventory ports."""

from __future__ import annotations

from typing import Protocol


class Profiles(Protocol):
    """The product's user profiles: how an address leads to a user, and a user to their address."""

    def email_of(self, user_id: str) -> str | None: ...

    def parent_email_of(self, user_id: str) -> str | None: ...

    def user_for_email(self, email: str | None, subject_key: str) -> str | None:
        """The user whose profile holds the address (``subject_key`` is its keyed hash; ``email`` may be
        gone from a closed request)."""
        ...

    def stripe_customer_of(self, user_id: str) -> str | None: ...

    def email_key_of(self, user_id: str) -> str | None:
        """The keyed hash of the address on the user's profile."""
        ...
