"""HTTP handlers for privacy staff (role Privacy.Officer): legal holds, run reports, dry runs. Every
read and action is audited (ids and counts only: a hold's reason and an address stay out of it)."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.http import RequestContext, model_response
from functions.requests.staff_handlers import audit, officer
from functions.retention.errors import HoldNotFound, RunNotFound
from functions.retention.models import (
    HOLD_ID,
    RUN_ID,
    HoldListQuery,
    HoldListView,
    PlaceHoldRequest,
    ReleasedView,
    ReleaseHoldRequest,
    RunListQuery,
    RunListView,
)
from functions.retention.staff import HoldTarget
from functions.retention.views import dry_run_view, hold_view, report_view


def _hold_id(ctx: RequestContext) -> str:
    value = ctx.route_param("holdId")
    if not HOLD_ID.fullmatch(value):
        raise HoldNotFound()
    return value


def place_hold(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    body = ctx.json_body(PlaceHoldRequest)
    if body.subject is not None:
        s = body.subject
        target = HoldTarget("subject", user_id=s.user_id, email=s.email, visitor_id=s.visitor_id)
    elif body.request_id is not None:
        target = HoldTarget("request", request_id=body.request_id)
    else:
        target = HoldTarget("incident", incident_id=body.incident_id)
    hold, created = services().retention_staff.place_hold(target, body.reason, body.ends_at, staff.subject)
    audit(staff, "legal-hold.placed", f"hold:{hold.id}", kind=hold.kind, new=created, endsAt=bool(hold.ends_at))
    return model_response(hold_view(hold, services().clock.now()), status=201 if created else 200)


def list_holds(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    status = ctx.query_model(HoldListQuery).status
    holds = services().retention_staff.holds(None if status == "all" else status == "in-force")
    audit(staff, "legal-holds.listed", "legal-holds", status=status, count=len(holds))
    now = services().clock.now()
    return model_response(HoldListView(holds=[hold_view(h, now) for h in holds]))


def get_hold(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    hold = services().retention_staff.hold(_hold_id(ctx))
    audit(staff, "legal-hold.read", f"hold:{hold.id}")
    return model_response(hold_view(hold, services().clock.now()))


def release_hold(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    hold_id = _hold_id(ctx)
    reason = ctx.json_body(ReleaseHoldRequest).reason
    hold, resumed = services().retention_staff.release_hold(hold_id, staff.subject, reason)
    audit(staff, "legal-hold.released", f"hold:{hold.id}", erasuresResumed=len(resumed))
    return model_response(ReleasedView(hold=hold_view(hold, services().clock.now()), erasures_resumed=resumed))


def list_runs(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    runs = services().retention_staff.reports(ctx.query_model(RunListQuery).limit)
    audit(staff, "retention-runs.listed", "retention", count=len(runs))
    return model_response(RunListView(runs=[report_view(r) for r in runs]))


def get_run(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    run_id = ctx.route_param("runId")
    if not RUN_ID.fullmatch(run_id):
        raise RunNotFound()
    report = services().retention_staff.report(run_id)
    audit(staff, "retention-run.read", f"retention-run:{run_id}")
    return model_response(report_view(report))


def dry_run(ctx: RequestContext) -> func.HttpResponse:
    staff = officer(ctx)
    result = services().retention_staff.dry_run()
    audit(staff, "retention.dry-run", "retention", due=sum(r.due for r in result.rules))
    return model_response(dry_run_view(result))
