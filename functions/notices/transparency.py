"""The public transparency report: legal disclosures counted per half-year, instrument and outcome.

No personal data: counts only, of half-years that have ended (a running half-year could reveal a
single recent order), and any count below the threshold is given as a band ("1-4"), never exact, so
that no cell points at one person or one case.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from functions.notices.lifecycle import Instrument, Outcome
from functions.notices.notice_record import Disclosure

SMALL_COUNT = 5  # counts of 1 to 4 are banded


@dataclass(frozen=True)
class ReportCell:
    half_year: str  # "2026-H1"
    instrument: Instrument
    outcome: Outcome
    count: int | None  # None when banded
    band: str | None  # "1-4" for a small count


def half_year(moment: datetime) -> str:
    return f"{moment.year}-H{1 if moment.month <= 6 else 2}"


def transparency_report(entries: list[Disclosure], now: datetime) -> list[ReportCell]:
    current = half_year(now)
    counts = Counter((half_year(e.disclosed_at), e.instrument, e.outcome) for e in entries)
    cells = []
    for (period, instrument, outcome), count in sorted(counts.items()):
        if period >= current:
            continue  # only half-years that have ended
        small = count < SMALL_COUNT
        cells.append(
            ReportCell(period, instrument, outcome, None if small else count, f"1-{SMALL_COUNT - 1}" if small else None)
        )
    return cells
