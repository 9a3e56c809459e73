"""HTTP handlers for privacy staff (role Privacy.Officer); every read and action is audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

from bootstrap import services
from core.auth import Principal, require_role
from core.http import RequestContext, model_response
from functions.requests.handlers import request_id_from_path
from functions.requests.lifecycle import STEPS_QUEUE
from functions.requests.models import PoisonView, ReasonRequest, StaffRequestPage, StaffRequestQuery
from functions.requests.views import plan_view, staff_view

if TYPE_CHECKING:
    from functions.requests.request_record import DsrRequest

OFFICER_ROLE = "Privacy.Officer"
POISON_PEEK = 32


def officer(ctx: RequestContext) -> Principal:
    """The staff member calling, who must hold the role Privacy.Officer."""
    principal = services().staff_tokens.principal_from_header(ctx.header("authorization"))
    require_role(principal, OFFICER_ROLE)
    return principal


def audit(staff: Principal, action: str, target: str, **details: object) -> None:
    """One record of the audit trail: ids, counts and names of filters only, never personal data."""
    services().audit.record(staff.subject, action, target, dict(details))


def staff_list(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    query = ctx.query_model(StaffRequestQuery)
    found, continuation = services().request_staff.find(
        query.status, query.type, query.due_before, query.email, query.user_id, query.page_size, query.continuation
    )
    # The filters' names only: an address searched for is personal data.
    used = sorted(k for k in ("status", "type", "due_before", "email", "user_id") if getattr(query, k) is not None)
    audit(staff, "requests.listed", "dsr-requests", filters=used, count=len(found))
    return model_response(StaffRequestPage(requests=[staff_view(r) for r in found], continuation=continuation))


def staff_get(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    request = services().request_staff.get(request_id_from_path(ctx))
    audit(staff, "request.read", f"dsr:{request.id}")
    return model_response(staff_view(request))


def staff_plan(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    plan = services().request_staff.erasure_plan(request_id_from_path(ctx))
    audit(staff, "request.plan-read", f"dsr:{plan.request.id}")
    return model_response(plan_view(plan))


def staff_poison(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    messages = services().work_queue.peek_poison(STEPS_QUEUE, POISON_PEEK)
    audit(staff, "request-steps.poison-read", STEPS_QUEUE, count=len(messages))
    return model_response(PoisonView(messages=messages))


def _acted(ctx: RequestContext, staff: Principal, action: str, request: DsrRequest) -> func.HttpResponse:
    audit(staff, f"request.{action}", f"dsr:{request.id}", status=request.status.value)
    return model_response(staff_view(request))


def approve(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    return _acted(ctx, staff, "approve", services().request_staff.approve(request_id_from_path(ctx), staff.subject))


def retry(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    return _acted(ctx, staff, "retry", services().request_staff.retry(request_id_from_path(ctx), staff.subject))


def deny(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    reason = ctx.json_body(ReasonRequest).reason
    return _acted(ctx, staff, "deny", services().request_staff.deny(request_id_from_path(ctx), staff.subject, reason))


def extend(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    reason = ctx.json_body(ReasonRequest).reason
    request = services().request_staff.extend(request_id_from_path(ctx), staff.subject, reason)
    return _acted(ctx, staff, "extend", request)
