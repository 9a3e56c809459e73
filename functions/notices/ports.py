"""What notices and opt-outs need from outside: SendGrid's unsubscribe groups, the product's users."""

from __future__ import annotations

from typing import Protocol

from functions.requests.profiles import Addressed


class SuppressionGroups(Protocol):
    """SendGrid unsubscribe groups: marketing mail sent with the group skips the addresses in it."""

    def add(self, group_id: int, emails: list[str]) -> None:
        """Puts the addresses (at most 1,000) in the group; adding one already there changes nothing."""
        ...

    def remove(self, group_id: int, email: str) -> None:
        """Takes the address out of the group (never out of the global suppression list)."""
        ...


class Directory(Protocol):
    """The product's users with an address, paged in the order of the address's keyed hash."""

    def addressed_after(self, after: str, limit: int) -> list[Addressed]: ...

    def email_of(self, user_id: str) -> str | None: ...

    def emails_of(self, user_ids: list[str]) -> dict[str, str]:
        """The addresses of those of the users who have one, in one query (at most 1,000 ids)."""
        ...

    def user_for_email_key(self, subject_key: str) -> str | None: ...
