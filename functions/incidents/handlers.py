"""HTTP handlers for incident staff (role Privacy.Incident); every read and action is audited."""

from __future__ import annotations

from itertools import islice

import azure.functions as func

from bootstrap import services
from core import problems
from core.auth import Principal, require_role
from core.http import RequestContext, model_response
from functions.fanout import reports
from functions.fanout.models import UnreachedPersonView, UnreachedQuery, UnreachedView
from functions.incidents import reporting
from functions.incidents.errors import NoticeNotFound
from functions.incidents.incident_record import BreachTime, Incident, Notice, NoticeContent
from functions.incidents.lifecycle import INCIDENT_ROLE
from functions.incidents.models import (
    ID,
    AssessmentRequest,
    AuthorityReportView,
    DelayRequest,
    DeliveryView,
    FilingRequest,
    IncidentListView,
    IncidentNoticeRequest,
    IncidentRequest,
    PreviewQuery,
    RecipientsAddedView,
    RecipientsRequest,
    ReportQuery,
    SelectionRequest,
)
from functions.incidents.notice_mail import render
from functions.incidents.pages import authority_report_page
from functions.incidents.staff import IncidentFacts, Selection
from functions.incidents.views import delivery_view, incident_view, notice_action_view


def _staff(ctx: RequestContext) -> Principal:
    principal = services().staff_tokens.principal_from_header(ctx.header("authorization"))
    require_role(principal, INCIDENT_ROLE)
    return principal


def _path_id(ctx: RequestContext, name: str, what: str) -> str:
    """Ids as the service writes them (uuid4); anything else is a 422 and never reaches Cosmos. An
    id of the right form that names nothing is a 404."""
    value = ctx.route_param(name)
    if not ID.fullmatch(value):
        raise problems.validation_failed([problems.FieldError(f"path/{name}", f"must be {what} id (a UUID)")])
    return value


def _incident_id(ctx: RequestContext) -> str:
    return _path_id(ctx, "incidentId", "an incident")


def _notice_id(ctx: RequestContext) -> str:
    return _path_id(ctx, "noticeId", "a notice")


def _ids(ctx: RequestContext) -> tuple[str, str]:
    """Both path ids, each checked, before anything is read."""
    return _incident_id(ctx), _notice_id(ctx)


def _notice(incident: Incident, notice_id: str) -> Notice:
    notice = incident.notice(notice_id)
    if notice is None:
        raise NoticeNotFound()
    return notice


def _answer(
    ctx: RequestContext, staff: Principal, action: str, incident: Incident, status: int = 200
) -> func.HttpResponse:
    services().audit.record(staff.subject, action, f"incident:{incident.id}")
    return model_response(incident_view(incident), status=status)


def _answer_notice(
    ctx: RequestContext, staff: Principal, action: str, incident: Incident, notice_id: str, status: int = 200
) -> func.HttpResponse:
    services().audit.record(staff.subject, action, f"incident:{incident.id}")
    return model_response(notice_action_view(incident, notice_id), status=status)


def _facts(body: IncidentRequest) -> IncidentFacts:
    breach = BreachTime.model_validate(body.breach_time.model_dump()) if body.breach_time else None
    return IncidentFacts(
        title=body.title,
        aware_at=body.aware_at,
        description=body.description,
        contact_point=body.contact_point,
        breach_time=breach,
        determined_at=body.determined_at,
        categories=body.categories,
        approx_people=body.approx_people,
        approx_records=body.approx_records,
        jurisdictions=body.jurisdictions,
        residents=dict(body.residents),
    )


def open_incident(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    incident = services().incident_staff.open(_facts(ctx.json_body(IncidentRequest)), staff.subject)
    return _answer(ctx, staff, "incident.opened", incident, status=201)


def list_incidents(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    incidents = services().incident_staff.all_incidents()
    services().audit.record(staff.subject, "incidents.listed", "incidents", {"count": len(incidents)})
    return model_response(IncidentListView(incidents=[incident_view(i) for i in incidents]))


def get_incident(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    return _answer(ctx, staff, "incident.read", services().incident_staff.get(_incident_id(ctx)))


def update_incident(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    facts = _facts(ctx.json_body(IncidentRequest))
    return _answer(
        ctx, staff, "incident.updated", services().incident_staff.update(_incident_id(ctx), facts, staff.subject)
    )


def assess(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    body = ctx.json_body(AssessmentRequest)
    incident = services().incident_staff.assess(
        _incident_id(ctx), body.notify_authority, body.notify_people, body.reason, staff.subject
    )
    return _answer(ctx, staff, "incident.assessed", incident)


def record_delay(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    body = ctx.json_body(DelayRequest)
    incident = services().incident_staff.record_delay(
        _incident_id(ctx), body.agency, body.reason, body.until, staff.subject
    )
    return _answer(ctx, staff, "incident.delay-recorded", incident)


def record_filing(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    body = ctx.json_body(FilingRequest)
    incident = services().incident_staff.record_filing(
        _incident_id(ctx), body.authority, body.filed_at, body.reference, body.late_reasons, staff.subject
    )
    return _answer(ctx, staff, "incident.filing-recorded", incident)


def authority_report(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    incident_id = _incident_id(ctx)
    page = ctx.query_model(ReportQuery).format == "html"
    incident = services().incident_staff.get(incident_id)
    report = reporting.authority_report(incident, services().inventory_categories)
    services().audit.record(staff.subject, "incident.authority-report-read", f"incident:{incident.id}")
    if page:
        return authority_report_page(report)
    return model_response(AuthorityReportView.model_validate(report))


def add_recipients(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    body = ctx.json_body(RecipientsRequest)
    incident_id = _incident_id(ctx)
    added, already = services().incident_staff.add_recipients(incident_id, body.emails, staff.subject)
    services().audit.record(staff.subject, "incident.recipients-added", f"incident:{incident_id}", {"added": added})
    total = services().incident_staff.get(incident_id).recipients
    return model_response(RecipientsAddedView(added=added, already_recorded=already, total=total))


def select_recipients(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    body = ctx.json_body(SelectionRequest)
    selection = Selection(body.locations, body.since, body.until)
    incident = services().incident_staff.select_recipients(_incident_id(ctx), selection, staff.subject)
    return _answer(ctx, staff, "incident.selection-started", incident, status=202)


def _content(body: IncidentNoticeRequest) -> NoticeContent:
    return NoticeContent.model_validate(body.content.model_dump())


def draft_notice(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    body = ctx.json_body(IncidentNoticeRequest)
    incident = services().incident_staff.draft_notice(_incident_id(ctx), body.subject, _content(body), staff.subject)
    drafted = incident.notices[-1].id  # drafting appends the notice
    return _answer_notice(ctx, staff, "incident.notice-drafted", incident, drafted, status=201)


def revise_notice(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    incident_id, notice_id = _ids(ctx)
    body = ctx.json_body(IncidentNoticeRequest)
    incident = services().incident_staff.revise_notice(
        incident_id, notice_id, body.subject, _content(body), staff.subject
    )
    return _answer_notice(ctx, staff, "incident.notice-revised", incident, notice_id)


def preview_notice(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    incident_id, notice_id = _ids(ctx)
    text = ctx.query_model(PreviewQuery).format == "text"
    incident = services().incident_staff.get(incident_id)
    mail = render(incident, _notice(incident, notice_id), services().inventory_categories)
    services().audit.record(staff.subject, "incident.notice-previewed", f"incident:{incident.id}")
    ctx.response_headers["Cache-Control"] = "no-store"
    if text:
        return func.HttpResponse(mail.text, mimetype="text/plain", charset="utf-8")
    return func.HttpResponse(mail.html, mimetype="text/html", charset="utf-8")


def approve_notice(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    incident_id, notice_id = _ids(ctx)
    incident = services().incident_staff.approve_notice(incident_id, notice_id, staff.subject)
    return _answer_notice(ctx, staff, "incident.notice-approved", incident, notice_id)


def send_notice(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    incident_id, notice_id = _ids(ctx)
    incident = services().incident_staff.send_notice(incident_id, notice_id, staff.subject)
    return _answer_notice(ctx, staff, "incident.notice-sent", incident, notice_id, status=202)


def delivery(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    incident = services().incident_staff.get(_incident_id(ctx))
    batches = services().mail_batches
    views = [delivery_view(reports.delivery(batches, n.id), n.phase) for n in incident.notices]
    services().audit.record(staff.subject, "incident.delivery-read", f"incident:{incident.id}")
    return model_response(DeliveryView(notices=views))


def unreached(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx)
    incident_id, notice_id = _ids(ctx)
    query = ctx.query_model(UnreachedQuery)
    incident = services().incident_staff.get(incident_id)
    notice = _notice(incident, notice_id)
    people = reports.unreached(services().mail_batches, notice.id)
    found = list(islice((p for p in people if p.recipient_id > query.after), query.limit + 1))
    page = found[: query.limit]
    services().audit.record(staff.subject, "incident.unreached-read", f"incident:{incident.id}", {"count": len(page)})
    views = [UnreachedPersonView(id=p.recipient_id, email=p.email, status=p.status, detail=p.detail) for p in page]
    more = len(found) > query.limit
    return model_response(UnreachedView(people=views, next_after=page[-1].recipient_id if more else None))
