"""Requests → API views. The views name the fields they show; values are read by name from the record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.requests.models import PlanEntryView, PlanView, RequestView, ResolvedView, StaffRequestView

if TYPE_CHECKING:
    from functions.requests.request_record import DsrRequest
    from functions.requests.staff import ErasurePlan


def request_view(request: DsrRequest) -> RequestView:
    return RequestView.model_validate(request)


def staff_view(request: DsrRequest) -> StaffRequestView:
    return StaffRequestView.model_validate(request)


def plan_view(plan: ErasurePlan) -> PlanView:
    return PlanView(
        request_id=plan.request.id,
        resolved=ResolvedView.model_validate(plan.resolved),
        entries=[PlanEntryView.model_validate(entry) for entry in plan.entries],
    )
