"""What retention needs from the product's accounts and from data-subject requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Accounts(Protocol):
    """The product's profiles: a subject placed on hold by address or by user id is held by both."""

    def user_for_email(self, email: str | None, subject_key: str) -> str | None:
        """The user whose profile holds the address, found as data-subject requests find it."""
        ...

    def email_key_of(self, user_id: str) -> str | None:
        """The keyed hash of the address on the user's profile."""
        ...


@dataclass(frozen=True)
class RequestUnderHold:
    request_id: str
    subject_key: str
    user_id: str | None
    archive: str | None  # its export archive, while it exists


class HeldIncidents(Protocol):
    """Breach incidents as legal holds see them."""

    def exists(self, incident_id: str) -> bool: ...


class HeldRequests(Protocol):
    """Data-subject requests as legal holds see them."""

    def target(self, request_id: str) -> RequestUnderHold | None: ...

    def resume_after_hold(self, hold_id: str, actor: str) -> list[str]:
        """Runs again the erasure steps the hold kept back; returns the requests resumed."""
        ...

    def held_back_by(self, hold_id: str) -> list[str]:
        """Requests part of whose erasure the hold still keeps back."""
        ...
