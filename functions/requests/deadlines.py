"""Deadlines as data: when each law wants an answer, an acknowledgement, and how far it may be extended.

Each rule cites its text; ``tests/unit/test_request_deadlines.py`` checks every rule by its citation.

- GDPR Art. 12(3): "within one month of receipt of the request. That period may be extended by two
  further months ... The controller shall inform the data subject of any such extension within one
  month of receipt". Periods are computed as Regulation (EEC, Euratom) No 1182/71 Art. 3 says (the
  EDPB, Guidelines 01/2022 on the right of access, §§ 160-161): the day of receipt is not counted; a
  period in months ends at the end of the day with the same date (or the month's last day when it has
  no such date); a period ending on a Saturday, Sunday or public holiday ends at the end of the next
  working day. The furthest extension is one period of three months from receipt (31 Jan -> 30 Apr).
- CCPA, 11 CCR § 7021(a): "No later than 10 business days after receiving a request ... confirm
  receipt"; § 7021(b): "no later than 45 calendar days after receipt of the request. The 45-day
  period will begin on the day that the business receives the request ... for a maximum total of 90
  calendar days from the day the request is received". The receipt day is day 1, so day 45 is the
  receipt date + 44 days; calendar days do not roll over weekends. Business days are Monday to Friday
  (a public holiday would only make the law's date later).
- Any other law: the earliest of these dates, for every deadline, acknowledgement included.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Deadlines:
    due_at: datetime  # the answer (or the reasons for not acting)
    extended_due_at: datetime  # the latest an extension may reach
    acknowledge_by: datetime | None  # confirmation of receipt, where the law asks for one
    extension_notice_by: datetime  # the notice of an extension must be sent by then


@dataclass(frozen=True)
class Calendar:
    """Where a law's days are counted: its time zone and the public holidays that move a deadline."""

    zone: ZoneInfo
    public_holidays: Collection[date] = ()

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def end_of(self, day: date) -> datetime:
        return datetime.combine(day, END_OF_DAY, self.zone).astimezone(UTC)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.public_holidays

    def next_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


def add_months(day: date, months: int) -> date:
    """Same date ``months`` later, or that month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def add_business_days(day: date, days: int) -> date:
    """The ``days``-th Monday-to-Friday after ``day`` (``day`` itself not counted)."""
    current = day
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def gdpr(received_at: datetime, days: Calendar) -> Deadlines:
    """GDPR Art. 12(3), periods as Regulation 1182/71 Art. 3 computes them."""
    received = days.local_date(received_at)
    due = days.end_of(days.next_working_day(add_months(received, 1)))
    return Deadlines(
        due_at=due,
        extended_due_at=days.end_of(days.next_working_day(add_months(received, 3))),
        acknowledge_by=None,  # the GDPR asks for no confirmation of receipt
        extension_notice_by=due,
    )


CALIFORNIA = ZoneInfo("America/Los_Angeles")


def ccpa(received_at: datetime, days: Calendar) -> Deadlines:
    """11 CCR § 7021(a) and (b), counted in California."""
    california = Calendar(CALIFORNIA)
    received = california.local_date(received_at)
    due = california.end_of(received + timedelta(days=44))
    return Deadlines(
        due_at=due,
        extended_due_at=california.end_of(received + timedelta(days=89)),
        acknowledge_by=california.end_of(add_business_days(received, 10)),
        extension_notice_by=due,
    )


Rule = Callable[[datetime, Calendar], Deadlines]
RULES: dict[str, Rule] = {"GDPR": gdpr, "CCPA": ccpa}
CITATIONS = {
    "GDPR": "GDPR Art. 12(3); Regulation (EEC, Euratom) No 1182/71 Art. 3",
    "CCPA": "Cal. Civ. Code § 1798.130(a)(2)(A); 11 CCR § 7021(a), (b)",
    "OTHER": "the earliest of every rule above",
}


def strictest(received_at: datetime, days: Calendar) -> Deadlines:
    """For a law we hold no rule for: the earliest date of every rule, for every deadline."""
    each = [rule(received_at, days) for rule in RULES.values()]
    acknowledgements = [d.acknowledge_by for d in each if d.acknowledge_by is not None]
    return Deadlines(
        due_at=min(d.due_at for d in each),
        extended_due_at=min(d.extended_due_at for d in each),
        acknowledge_by=min(acknowledgements) if acknowledgements else None,
        extension_notice_by=min(d.extension_notice_by for d in each),
    )


def deadlines(jurisdiction: str, received_at: datetime, days: Calendar) -> Deadlines:
    """``days``: where GDPR periods are counted (the controller's Member State: zone and holidays)."""
    return RULES.get(jurisdiction, strictest)(received_at, days)
