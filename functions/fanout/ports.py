"""What the fan-out needs from outside: a bulk mail API and the check of its event signatures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from core.errors import DomainError


@dataclass(frozen=True)
class BulkRecipient:
    email: str
    # Marketing mail: the one-click unsubscribe URL of this recipient (RFC 8058), carried in the
    # List-Unsubscribe header of their personalization. None for transactional mail.
    unsubscribe_url: str | None = None


@dataclass(frozen=True)
class BulkMail:
    """One request to the mail service: the same text to up to 1,000 people, each alone in a
    personalization (nobody sees another recipient)."""

    recipients: list[BulkRecipient]
    subject: str
    text: str
    html: str
    category: str
    custom_args: Mapping[str, str]  # tie every delivery event back to its mailing and batch
    transactional: bool  # owed to the person: unsubscribe groups bypassed (never bounces or spam reports)
    unsubscribe_group: int | None = None  # marketing: the SendGrid unsubscribe group it belongs to


class BulkRejected(DomainError):
    """SendGrid refused a batch (4xx other than 429): sending it again will not help."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"SendGrid refused the batch (HTTP {status}): {reason}")
        self.status = status


class BulkThrottled(DomainError):
    """SendGrid asked us to slow down (429) or is failing (5xx): the same batch goes again later."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"SendGrid asked to retry after {retry_after_seconds} s.")
        self.retry_after_seconds = retry_after_seconds


class BulkMailer(Protocol):
    def send_batch(self, mail: BulkMail) -> str:
        """Sends it and returns the provider's message id. Raises BulkRejected (refused for good),
        BulkThrottled (try again after a while) or MailUnavailable (nothing was sent)."""
        ...


class EventSignatures(Protocol):
    def valid(self, body: bytes, signature: str, timestamp: str) -> bool:
        """True only when ``signature`` is the provider's signature over ``timestamp`` + ``body``."""
        ...


@dataclass(frozen=True)
class OptOutEvent:
    """A person told SendGrid to stop marketing mail: its unsubscribe link, a group unsubscribe or a
    spam report. Named by the keyed hash of the address, never the address."""

    event_id: str  # SendGrid's sg_event_id: a replay carries the same
    recipient_key: str
    kind: str  # unsubscribe | group_unsubscribe | group_resubscribe | spamreport
    group_id: int | None  # the unsubscribe group, for a group unsubscribe


class OptOutListener(Protocol):
    def opted_out(self, events: list[OptOutEvent]) -> None:
        """Records each as a withdrawal; an event seen before changes nothing."""
        ...
