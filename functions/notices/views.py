"""Stored notices and disclosures as the API shows them."""

from __future__ import annotations

from datetime import datetime

from functions.notices.models import (
    DisclosureView,
    NoticeView,
    ReportCellView,
    TransparencyReportView,
)
from functions.notices.notice_record import Disclosure, Notice
from functions.notices.transparency import SMALL_COUNT, transparency_report


def notice_view(notice: Notice) -> NoticeView:
    return NoticeView(
        id=notice.id,
        kind=notice.kind,
        title=notice.title,
        text=notice.text,
        link=notice.link,
        audience=notice.audience,
        status=notice.status,
        in_service=notice.in_service,
        by_email=notice.by_email,
        mailing=notice.mailing,
        recipients=notice.recipients,
        created_by=notice.created_by,
        created_at=notice.created_at,
        mailed_at=notice.mailed_at,
        retired_at=notice.retired_at,
        people=len(notice.subjects),  # how many, never who
    )


def disclosure_view(entry: Disclosure) -> DisclosureView:
    return DisclosureView(
        id=entry.id,
        authority=entry.authority,
        instrument=entry.instrument,
        legal_basis=entry.legal_basis,
        categories=entry.categories,
        subjects=entry.subjects,
        people=len(entry.subjects),
        disclosed=entry.disclosed,
        disclosed_at=entry.disclosed_at,
        outcome=entry.outcome,
        approved_by=entry.approved_by,
        recorded_by=entry.recorded_by,
        recorded_at=entry.recorded_at,
        gag_until=entry.gag_until,
        gag_reason=entry.gag_reason,
        notice_id=entry.notice_id,
        log=[{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail} for e in entry.log],
    )


def report_view(entries: list[Disclosure], now: datetime) -> TransparencyReportView:
    cells = transparency_report(entries, now)
    return TransparencyReportView(
        generated_at=now,
        small_counts=f"A count below {SMALL_COUNT} is given as the band 1-{SMALL_COUNT - 1}; "
        "running half-years are left out.",
        periods=[
            ReportCellView(
                half_year=c.half_year, instrument=c.instrument, outcome=c.outcome, count=c.count, band=c.band
            )
            for c in cells
        ],
    )
