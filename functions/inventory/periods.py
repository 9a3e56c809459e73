"""Retention periods as values: how long, counted from which clock, and when an item's time is up.

A period is a number of days from the moment its clock names (an item's creation, its last use, the
closing of an account or request, a withdrawal, an expiry, an invalidation, the notification of the
people something concerns), or a number of years
counted from the end of the calendar year that moment falls in (tax law counts that way), in the
time zone of the law's calendar. Pure values: no I/O, testable with plain dates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Clock = Literal["created", "last-activity", "closed", "withdrawn", "expired", "invalidated", "notified"]
Unit = Literal["days", "years"]

# How each clock reads in a sentence: "395 days after it was recorded".
CLOCK_WORDS: dict[str, str] = {
    "created": "after it was recorded",
    "last-activity": "after its last use",
    "closed": "after closing",
    "withdrawn": "after the withdrawal of consent or the end of the account",
    "expired": "after its expiry",
    "invalidated": "after the product reported it invalid",
    "notified": "after the people concerned were notified",
}

CLOCK_NOUNS: dict[str, str] = {
    "created": "recording",
    "last-activity": "last use",
    "closed": "closing",
    "withdrawn": "withdrawal",
    "expired": "expiry",
    "invalidated": "invalidation",
    "notified": "notification",
}


@dataclass(frozen=True)
class Period:
    amount: int
    unit: Unit
    clock: Clock
    year_end: bool = False  # years counted from the end of the calendar year the clock's moment falls in
    time_zone: str = "UTC"  # the calendar whose year ends count (for year_end periods)

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError("a retention period is at least 1")
        if (self.unit == "years") != self.year_end:
            raise ValueError("years are counted from the end of a calendar year (yearEnd), days from the moment itself")
        ZoneInfo(self.time_zone)  # an unknown zone is a declaration error

    def with_amount(self, amount: int) -> Period:
        return replace(self, amount=amount)

    def cutoff(self, now: datetime) -> datetime:
        """Items whose clock moment is before this are past their period at ``now``.

        Days: the moment plus that many days. Years: an item of calendar year Y is kept to the end of
        year Y + n, so it may go from 1 January of Y + n + 1, i.e. when Y < (this year) - n.
        """
        if self.unit == "days":
            return now - timedelta(days=self.amount)
        zone = ZoneInfo(self.time_zone)
        year = now.astimezone(zone).year - self.amount
        return datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)

    def at_least(self, other: Period) -> bool:
        """Whether this period keeps every item at least as long as ``other`` does. Only periods counted
        the same way compare; any other pair is refused, so no period is ever read as longer than it is."""
        if (self.unit, self.clock, self.year_end, self.time_zone) != (
            other.unit,
            other.clock,
            other.year_end,
            other.time_zone,
        ):
            raise ValueError("the period is not counted the way its legal minimum is")
        return self.amount >= other.amount

    def words(self) -> str:
        """``395 days after it was recorded``, ``8 years from the end of the calendar year ...``."""
        if self.unit == "years":
            plural = "s" if self.amount != 1 else ""
            year = "it was recorded in" if self.clock == "created" else f"of its {CLOCK_NOUNS[self.clock]}"
            return f"{self.amount} year{plural} from the end of the calendar year ({self.time_zone}) {year}"
        return f"{self.amount} day{'s' if self.amount != 1 else ''} {CLOCK_WORDS[self.clock]}"

    def setting_text(self) -> str:
        """The form RETENTION_PERIODS takes for this period: ``395d`` or ``8y``."""
        return f"{self.amount}{'y' if self.unit == 'years' else 'd'}"


def stored_cutoff(cutoff: datetime) -> str:
    """The cutoff as the ISO text stored times are compared with (UTC, whole seconds, ``Z``).

    Rounded down to a second and one more second earlier, so that an item stored with or without a
    fraction, as ``Z`` or ``+00:00``, is only ever selected when it is strictly before the cutoff:
    an item may stay a second longer, never go a second early.
    """
    moment = cutoff.astimezone(UTC).replace(microsecond=0) - timedelta(seconds=1)
    return moment.replace(tzinfo=None).isoformat() + "Z"
