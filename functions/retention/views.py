"""Retention's domain objects → API views (values read by name; only what a view adds is written here)."""

from __future__ import annotations

from datetime import datetime

from functions.inventory.declaration import Inventory
from functions.retention.hold_record import LegalHold
from functions.retention.models import (
    DryRunRuleView,
    DryRunView,
    HoldView,
    LegalMinimumView,
    PeriodView,
    RetentionRuleView,
    RetentionTableView,
    RunReportView,
)
from functions.retention.run_records import RunReport
from functions.retention.staff import DryRun
from functions.retention.table import TableRow, retention_table


def hold_view(hold: LegalHold, now: datetime) -> HoldView:
    return HoldView.model_validate({**hold.model_dump(), "status": hold.status(now)})


def report_view(report: RunReport) -> RunReportView:
    return RunReportView.model_validate(report)


def dry_run_view(dry_run: DryRun) -> DryRunView:
    return DryRunView(
        at=dry_run.at,
        rules=[
            DryRunRuleView.model_validate(
                {**vars(rule), "oldest_age_days": (dry_run.at - rule.oldest).days if rule.oldest else None}
            )
            for rule in dry_run.rules
        ],
    )


def row_view(row: TableRow) -> RetentionRuleView:
    minimum = row.legal_minimum
    return RetentionRuleView(
        rule=row.rule,
        location=row.location,
        category=row.category,
        holder=row.holder,
        items=row.items,
        period=PeriodView.model_validate({**vars(row.period), "text": row.kept}),
        reason=row.reason,
        legal_minimum=LegalMinimumView(text=row.minimum_words or "", citation=minimum.citation, source=minimum.source)
        if minimum
        else None,
    )


def table_view(inventory: Inventory) -> RetentionTableView:
    return RetentionTableView(controller=inventory.controller, rules=[row_view(r) for r in retention_table(inventory)])
