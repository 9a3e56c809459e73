"""Timer schedules as the host reads them: six-field NCRONTAB, or a TimeSpan such as 00:05:00."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from .options import HostConfigError, parse_timespan

# NCrontab's field grammar: *, numbers or three-letter names, ranges, steps and lists; no L, W, # or ?.
_NCRONTAB_ITEM = re.compile(r"^(\*|\d+|[A-Za-z]{3})(-(\d+|[A-Za-z]{3}))?(/\d+)?$")


class Schedule(Protocol):
    def next_after(self, moment: datetime) -> datetime: ...

    def describe(self) -> str: ...


class CronSchedule:
    """NCRONTAB: {second} {minute} {hour} {day} {month} {day-of-week}.

    croniter wants the seconds field last, and NCrontab requires day and weekday both to match.
    """

    def __init__(self, expression: str) -> None:
        fields = expression.split()
        if len(fields) != 6 or not all(_is_ncrontab_field(f) for f in fields):
            raise HostConfigError(f"{expression!r} is not a six-field NCRONTAB expression")
        self._expression = " ".join(fields)
        self._croniter_form = " ".join(fields[1:] + fields[:1])
        if not croniter.is_valid(self._croniter_form):
            raise HostConfigError(f"{expression!r} is not a valid NCRONTAB expression")
        try:
            self.next_after(datetime.now().astimezone())
        except ValueError:  # such as the 30th of February
            raise HostConfigError(f"{expression!r} never occurs") from None

    def next_after(self, moment: datetime) -> datetime:
        following: datetime = croniter(self._croniter_form, moment, day_or=False).get_next(datetime)
        return following

    def describe(self) -> str:
        return self._expression


class ConstantSchedule:
    def __init__(self, interval: timedelta, expression: str) -> None:
        if interval <= timedelta(0):
            raise HostConfigError(f"timer interval {expression!r} must be positive")
        self._interval = interval
        self._expression = expression

    def next_after(self, moment: datetime) -> datetime:
        return moment + self._interval

    def describe(self) -> str:
        return self._expression


def _is_ncrontab_field(field: str) -> bool:
    return all(_NCRONTAB_ITEM.match(item) for item in field.split(","))


def parse_schedule(expression: str) -> Schedule:
    """Like the host: a cron expression first, else a TimeSpan such as 00:05:00."""
    expression = expression.strip()
    if len(expression.split()) > 1:
        return CronSchedule(expression)
    try:
        return ConstantSchedule(parse_timespan(expression), expression)
    except HostConfigError:
        raise HostConfigError(f"schedule {expression!r} is neither NCRONTAB nor a TimeSpan") from None


def schedule_time_zone(settings: Mapping[str, str]) -> tzinfo | None:
    """WEBSITE_TIME_ZONE (an IANA name on Linux) when set, else the machine's local time, as under func start."""
    name = settings.get("WEBSITE_TIME_ZONE", "").strip()
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HostConfigError(f"WEBSITE_TIME_ZONE {name!r} is not a known time zone") from None
