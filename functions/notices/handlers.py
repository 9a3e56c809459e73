"""HTTP handlers of notices and opt-outs: parse → call → render. Staff actions are audited."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.http import RequestContext, model_response
from functions.consent.ledger import Source
from functions.consent.queries import idempotency_key, subject_from_path
from functions.notices.board import Draft
from functions.notices.board_view import active_view
from functions.notices.errors import NoticeNotFound
from functions.notices.lifecycle import OFFICER_ROLE, PUBLISHER_ROLE, Audience, NoticeKind
from functions.notices.models import (
    ActiveNoticesView,
    AllowedPageView,
    AllowedQuery,
    AllowedSubjectView,
    DeviceOptOutRequest,
    InvalidTokensRequest,
    InvalidTokensView,
    MarketingSyncView,
    NoticeListView,
    NoticeRequest,
    OptOutView,
    StaffOptOutRequest,
)
from functions.notices.notice_record import Notice
from functions.notices.opt_outs import OptedOut
from functions.notices.params import staff_principal, user_principal, uuid_param
from functions.notices.views import notice_view

PUBLIC_CACHE = "public, max-age=60"  # the board changes rarely; a minute late is fine for a banner


def _opted_out(purpose: str, result: OptedOut) -> func.HttpResponse:
    receipt = services().consent_receipts.issue(result.event) if result.event else None
    view = OptOutView(purpose=purpose, withdrawn=result.withdrawn, event_seq=result.event_seq, receipt=receipt)
    return model_response(view, status=201 if result.withdrawn else 200)


# ---- the notice board


def active_notices(ctx: RequestContext) -> func.HttpResponse:
    ctx.response_headers["Cache-Control"] = PUBLIC_CACHE
    return model_response(ActiveNoticesView(notices=[active_view(n) for n in services().notice_board.active()]))


def my_notices(ctx: RequestContext) -> func.HttpResponse:
    principal = user_principal(ctx)
    ctx.response_headers["Cache-Control"] = "no-store"
    shown = services().notice_board.mine(principal.subject)
    return model_response(ActiveNoticesView(notices=[active_view(n) for n in shown]))


def notice_seen(ctx: RequestContext) -> func.HttpResponse:
    principal = user_principal(ctx)
    notice_id = uuid_param(ctx, "noticeId", NoticeNotFound)
    services().notice_board.seen(principal.subject, notice_id)
    return func.HttpResponse(status_code=204)


def publish_notice(ctx: RequestContext) -> func.HttpResponse:
    staff = staff_principal(ctx, PUBLISHER_ROLE)
    body = ctx.json_body(NoticeRequest)
    draft = Draft(
        kind=NoticeKind(body.kind),
        title=body.title,
        text=body.text,
        audience=Audience(body.audience),
        link=body.link,
        renew_purposes=tuple(body.renew_purposes),
        in_service=body.in_service,
        by_email=body.by_email,
        # Without a key, the same notice twice is one (a repeated click); with one, a key is one notice.
        occasion=f"{staff.subject}:{idempotency_key(ctx)}" if ctx.header("idempotency-key") is not None else "",
    )
    published = services().notice_board.publish(draft, staff.subject)
    if published.created:
        services().audit.record(staff.subject, "notice.published", f"notice:{published.notice.id}")
    return model_response(notice_view(published.notice), status=201 if published.created else 200)


def _publishers(notice: Notice) -> Notice:
    """A disclosure's notice is legal's (its register entry says what it tells): not the publishers'."""
    if notice.kind == NoticeKind.DISCLOSURE:
        raise NoticeNotFound()
    return notice


def list_notices(ctx: RequestContext) -> func.HttpResponse:
    staff = staff_principal(ctx, PUBLISHER_ROLE)
    notices = [n for n in services().notice_board.all() if n.kind != NoticeKind.DISCLOSURE]
    services().audit.record(staff.subject, "notices.listed", "notices")
    return model_response(NoticeListView(notices=[notice_view(n) for n in notices]))


def get_notice(ctx: RequestContext) -> func.HttpResponse:
    staff = staff_principal(ctx, PUBLISHER_ROLE)
    notice = _publishers(services().notice_board.get(uuid_param(ctx, "noticeId", NoticeNotFound)))
    services().audit.record(staff.subject, "notice.read", f"notice:{notice.id}")
    return model_response(notice_view(notice))


def retire_notice(ctx: RequestContext) -> func.HttpResponse:
    staff = staff_principal(ctx, PUBLISHER_ROLE)
    notice_id = _publishers(services().notice_board.get(uuid_param(ctx, "noticeId", NoticeNotFound))).id
    notice = services().notice_board.retire(notice_id, staff.subject)
    services().audit.record(staff.subject, "notice.retired", f"notice:{notice.id}")
    return model_response(notice_view(notice))


# ---- opt-outs


def device_push_opt_out(ctx: RequestContext) -> func.HttpResponse:
    """The product saw push notifications turned off in the device's settings."""
    body = ctx.json_body(DeviceOptOutRequest)
    key = f"device:{idempotency_key(ctx)}"
    services().consent_receipts.ready()
    result = services().opt_outs.withdraw(f"user:{body.user_id}", body.purpose, Source.DEVICE, key)
    return _opted_out(body.purpose, result)


def invalid_push_tokens(ctx: RequestContext) -> func.HttpResponse:
    body = ctx.json_body(InvalidTokensRequest)
    deleted = services().devices.delete_invalid(body.user_id, body.tokens)
    return model_response(InvalidTokensView(deleted=deleted))


def staff_opt_out(ctx: RequestContext) -> func.HttpResponse:
    """Staff record a person's opt-out asked for by email: source staff, with the staff member's id."""
    staff = staff_principal(ctx, OFFICER_ROLE)
    subject_id = subject_from_path(ctx.route_param("subjectId"))
    body = ctx.json_body(StaffOptOutRequest)
    key = f"staff:{idempotency_key(ctx)}"
    services().consent_receipts.ready()
    result = services().opt_outs.withdraw(subject_id, body.purpose, Source.STAFF, key, actor=staff.subject)
    services().audit.record(
        staff.subject, "opt-out.recorded", subject_id, {"purpose": body.purpose, "reason": body.reason}
    )
    return _opted_out(body.purpose, result)


def allowed_subjects(ctx: RequestContext) -> func.HttpResponse:
    query = ctx.query_model(AllowedQuery)
    page = services().allowed_subjects.page(query.purpose, query.page_size, query.continuation)
    ctx.response_headers["Cache-Control"] = "no-store"
    subjects = [
        AllowedSubjectView(subject_id=s.subject_id, email=s.email, unsubscribe_url=s.unsubscribe_url)
        for s in page.subjects
    ]
    return model_response(AllowedPageView(subjects=subjects, continuation=page.continuation))


def marketing_sync_status(ctx: RequestContext) -> func.HttpResponse:
    staff = staff_principal(ctx, OFFICER_ROLE)
    svc = services()
    backlog = svc.marketing_sync.backlog()
    svc.audit.record(staff.subject, "marketing-sync.read", "marketing-sync")
    view = MarketingSyncView(
        pending=backlog.pending, oldest_pending_at=backlog.oldest, group_configured=svc.marketing_group_id is not None
    )
    return model_response(view)
