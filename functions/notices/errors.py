"""What can go wrong with notices, opt-outs and disclosures, in their own words (HTTP: error_table.py)."""

from __future__ import annotations

from core.errors import DomainError, NotFound


class NoticeNotFound(NotFound):
    message = "No such notice."


class DisclosureNotFound(NotFound):
    message = "No such disclosure in the register."


class AlreadyNotified(DomainError):
    message = "The people concerned by this disclosure have been notified."


class InvalidUnsubscribeLink(DomainError):
    message = "This unsubscribe link is not valid. Use the link in a recent email or your privacy dashboard."
