"""What the fan-out asks of each kind of mailing (breach notices, business-transfer notices ...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from functions.fanout.batch_record import Addressee, BatchSummary


@dataclass(frozen=True)
class Letter:
    """What every recipient of one mailing gets."""

    subject: str
    text: str
    html: str
    category: str
    transactional: bool  # owed to the person (a breach notice); otherwise marketing, with unsubscribe links
    custom_args: Mapping[str, str] = field(default_factory=dict)  # kind-specific, e.g. the incident id
    unsubscribe_group: int | None = None


class Mailing(Protocol):
    kind: str

    def sending(self, owner: str, mailing_id: str) -> bool:
        """Whether the mailing is (still) to be sent."""
        ...

    def addressees_after(self, owner: str, mailing_id: str, after: str, limit: int) -> list[Addressee]:
        """The next ``limit`` people in id order after ``after``: a batch's worth, never more."""
        ...

    def letter(self, owner: str, mailing_id: str) -> Letter: ...

    def unsubscribe_url(self, addressee: Addressee) -> str | None:
        """The one-click unsubscribe URL for this person (marketing only)."""
        ...

    def finished(self, owner: str, mailing_id: str, batches: list[BatchSummary]) -> None:
        """Every batch went (or was refused): record that the mailing is done."""
        ...
