"""Deadlines as data: what each law gives for answering, and how far it may be extended."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class DeadlineRule:
    jurisdiction: str
    answer_months: int = 0
    answer_days: int = 0
    extension_months: int = 0
    extension_days: int = 0
    acknowledge_business_days: int | None = None
    basis: str = ""


RULES: dict[str, DeadlineRule] = {
    "GDPR": DeadlineRule(
        "GDPR", answer_months=1, extension_months=2, basis="GDPR Art. 12(3): one month, extendable by two months"
    ),
    "CCPA": DeadlineRule(
        "CCPA",
        answer_days=45,
        extension_days=45,
        acknowledge_business_days=10,
        basis="CCPA regulations § 7021: acknowledge within 10 business days, answer within 45 days, +45",
    ),
}
# Requests under other laws get the strictest clock we know.
RULES["OTHER"] = DeadlineRule("OTHER", answer_months=1, extension_months=2, basis="strictest known: one month")


def add_months(moment: datetime, months: int) -> datetime:
    """Same day of the month ``months`` later, or that month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_business_days(moment: datetime, days: int) -> datetime:
    current = moment
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


@dataclass(frozen=True)
class Deadlines:
    due_at: datetime
    acknowledge_by: datetime | None
    extended_due_at: datetime | None  # the latest an extension may reach


def deadlines(jurisdiction: str, received_at: datetime) -> Deadlines:
    rule = RULES.get(jurisdiction, RULES["OTHER"])
    due = add_months(received_at, rule.answer_months) + timedelta(days=rule.answer_days)
    extended = add_months(due, rule.extension_months) + timedelta(days=rule.extension_days)
    acknowledge = (
        add_business_days(received_at, rule.acknowledge_business_days)
        if rule.acknowledge_business_days is not None
        else None
    )
    return Deadlines(due_at=due, acknowledge_by=acknowledge, extended_due_at=extended)
