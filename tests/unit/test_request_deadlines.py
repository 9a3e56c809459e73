"""Every deadline rule by its citation: never shorter, never longer than the law."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from functions.requests.deadlines import Calendar, add_business_days, add_months, deadlines

HELSINKI = Calendar(ZoneInfo("Europe/Helsinki"))
CALIFORNIA = ZoneInfo("America/Los_Angeles")


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def test_gdpr_art_12_3_one_month_ends_on_the_same_date_at_the_end_of_the_day() -> None:
    # Regulation 1182/71 Art. 3(2)(c), EDPB Guidelines 01/2022 example: received 5 March, due 5 April.
    received = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    due = local(deadlines("GDPR", received, HELSINKI).due_at, HELSINKI.zone)
    assert (due.date(), due.hour, due.minute) == (date(2026, 4, 6), 23, 59)  # 5 April 2026 is a Sunday


def test_gdpr_a_month_without_that_date_ends_on_its_last_day() -> None:
    # Regulation 1182/71 Art. 3(2)(c): 31 August -> 30 September.
    received = datetime(2027, 8, 31, 9, 0, tzinfo=UTC)
    assert local(deadlines("GDPR", received, HELSINKI).due_at, HELSINKI.zone).date() == date(2027, 9, 30)


def test_gdpr_a_period_ending_on_a_weekend_or_holiday_ends_on_the_next_working_day() -> None:
    # Regulation 1182/71 Art. 3(4); EDPB Guidelines 01/2022 § 161.
    received = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # due 2 December 2026, a Wednesday
    holiday = Calendar(HELSINKI.zone, frozenset({date(2026, 12, 2)}))
    assert local(deadlines("GDPR", received, HELSINKI).due_at, HELSINKI.zone).date() == date(2026, 12, 2)
    assert local(deadlines("GDPR", received, holiday).due_at, HELSINKI.zone).date() == date(2026, 12, 3)


def test_gdpr_art_12_3_extension_reaches_three_months_from_receipt_not_from_the_first_due_date() -> None:
    received = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    due = deadlines("GDPR", received, HELSINKI)
    assert local(due.due_at, HELSINKI.zone).date() == date(2027, 3, 1)  # 28 Feb 2027 is a Sunday
    assert local(due.extended_due_at, HELSINKI.zone).date() == date(2027, 4, 30)  # not 28 April
    assert due.extension_notice_by == due.due_at  # "inform ... within one month of receipt"
    assert due.acknowledge_by is None


def test_gdpr_days_are_counted_in_the_member_state_not_in_utc() -> None:
    late_evening = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)  # already 5 March in Helsinki
    assert local(deadlines("GDPR", late_evening, HELSINKI).due_at, HELSINKI.zone).date() == date(2026, 4, 6)


def test_ccpa_7021_b_the_receipt_day_is_day_one_of_45_and_of_90() -> None:
    received = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 10:00 on 27 November in California
    due = deadlines("CCPA", received, HELSINKI)
    assert local(due.due_at, CALIFORNIA).date() == date(2026, 11, 27) + timedelta(days=44)
    assert local(due.due_at, CALIFORNIA).hour == 23
    assert local(due.extended_due_at, CALIFORNIA).date() == date(2026, 11, 27) + timedelta(days=89)
    assert due.extension_notice_by == due.due_at  # "notice ... within the first 45-day period"


def test_ccpa_7021_a_receipt_is_confirmed_within_ten_business_days() -> None:
    friday = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    acknowledge_by = deadlines("CCPA", friday, HELSINKI).acknowledge_by
    assert acknowledge_by is not None
    assert local(acknowledge_by, CALIFORNIA).date() == date(2026, 12, 11)


def test_other_laws_get_the_earliest_date_of_every_rule() -> None:
    received = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    other = deadlines("OTHER", received, HELSINKI)
    gdpr, ccpa = deadlines("GDPR", received, HELSINKI), deadlines("CCPA", received, HELSINKI)
    assert other.due_at == min(gdpr.due_at, ccpa.due_at)
    assert other.extended_due_at == min(gdpr.extended_due_at, ccpa.extended_due_at)
    assert other.acknowledge_by == ccpa.acknowledge_by  # the only rule that asks for one
    assert deadlines("UNKNOWN", received, HELSINKI) == other


def test_calendar_helpers() -> None:
    assert add_months(date(2026, 12, 15), 2) == date(2027, 2, 15)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_business_days(date(2026, 11, 27), 1) == date(2026, 11, 30)
