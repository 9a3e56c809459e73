"""Timer schedules as the host reads them: six-field NCRONTAB, in the machine's time zone as under func start.

A schedule may name app settings between percent signs (``%RETENTION_SCHEDULE%``, or parts such as
``0 %MINUTE% * * * *``): each is replaced by the setting's value before the expression is read, as
the WebJobs name resolver does, and a name that is not set stops the host at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from croniter import croniter

from .options import HostConfigError

# NCrontab's field grammar: *, numbers or three-letter names, ranges, steps and lists; no L, W, # or ?.
_NCRONTAB_ITEM = re.compile(r"^(\*|\d+|[A-Za-z]{3})(-(\d+|[A-Za-z]{3}))?(/\d+)?$")


def resolve_app_settings(text: str, settings: Mapping[str, str]) -> str:
    """Every ``%NAME%`` replaced by the app setting NAME, with the host's own refusals: a ``%`` that is
    not closed, and a name that does not resolve to a value. Names are matched case-insensitively, as
    the host's configuration matches them."""
    by_name = {name.lower(): value for name, value in settings.items()}
    resolved: list[str] = []
    position = 0
    while (start := text.find("%", position)) >= 0:
        end = text.find("%", start + 1)
        if end < 0:
            raise HostConfigError(f"the '%' at position {start} of the schedule does not have a closing '%'")
        name = text[start + 1 : end]
        value = by_name.get(name.lower())
        if value is None:
            raise HostConfigError(f"schedule '%{name}%' does not resolve to a value: app setting {name} is not set")
        resolved += [text[position:start], value]
        position = end + 1
    return "".join([*resolved, text[position:]])


def now() -> datetime:
    return datetime.now().astimezone()


class CronSchedule:
    """NCRONTAB: {second} {minute} {hour} {day} {month} {day-of-week}.

    croniter wants the seconds field last, and NCrontab requires day and weekday both to match.
    """

    def __init__(self, expression: str) -> None:
        fields = expression.split()
        if len(fields) != 6 or not all(_is_ncrontab_field(f) for f in fields):
            raise HostConfigError(
                f"schedule {expression!r} is not a six-field NCRONTAB expression (the only form supported here)"
            )
        self.expression = " ".join(fields)
        self._croniter_form = " ".join(fields[1:] + fields[:1])
        if not croniter.is_valid(self._croniter_form):
            raise HostConfigError(f"schedule {expression!r} is not a valid NCRONTAB expression")
        try:
            self.next_after(now())
        except ValueError:  # such as the 30th of February
            raise HostConfigError(f"schedule {expression!r} never occurs") from None

    def next_after(self, moment: datetime) -> datetime:
        following: datetime = croniter(self._croniter_form, moment, day_or=False).get_next(datetime)
        return following


def _is_ncrontab_field(field: str) -> bool:
    return all(_NCRONTAB_ITEM.match(item) for item in field.split(","))
