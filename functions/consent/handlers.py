"""HTTP handlers of the consent ledger and the catalog: parse → call → render."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.auth import Principal, require_role
from core.http import RequestContext, model_response
from functions.consent.catalog import Catalog, Purpose
from functions.consent.decisions import checked_decisions, current_version_or_conflict, event_context, may_use
from functions.consent.ledger import EventKind, Source
from functions.consent.ledger_repository import Recorded
from functions.consent.linking import link_visitor_to_user
from functions.consent.models import (
    CatalogView,
    ConsentCheckQuery,
    DecisionsRequest,
    LinkVisitorRequest,
    PublishVersionRequest,
    PurposeRequest,
    RecordedView,
    ServerDecisionsRequest,
    UseAnswerView,
)
from functions.consent.queries import caller_of, idempotency_key, subject_from_path
from functions.consent.views import catalog_view, proof_view, state_view

PUBLISHER_ROLE = "Privacy.Publisher"
AUDITOR_ROLE = "Privacy.Auditor"


def user_subject(principal: Principal) -> str:
    return f"user:{principal.subject}"


def _user(ctx: RequestContext) -> Principal:
    return services().user_tokens.principal_from_header(ctx.header("authorization"))


def _staff(ctx: RequestContext, role: str) -> Principal:
    principal = services().staff_tokens.principal_from_header(ctx.header("authorization"))
    require_role(principal, role)
    return principal


def _record(ctx: RequestContext, subject_id: str, body: DecisionsRequest, source: Source) -> func.HttpResponse:
    svc = services()
    catalog = svc.catalog.current()
    version = current_version_or_conflict(catalog, body.policy_version)
    decisions = checked_decisions(catalog, body.decisions, source)
    context = event_context(source, version, caller_of(ctx, body.jurisdiction), svc.clock.now())
    svc.consent_receipts.ready()
    decided = {purpose: d.granted for purpose, d in decisions.items()}
    svc.opt_outs.before(subject_id, decided)  # SendGrid's unsubscribe group follows the ledger
    recorded = svc.ledger.record(subject_id, EventKind.DECISION, decisions, context, idempotency_key(ctx))
    svc.opt_outs.after(subject_id, decided)  # and the devices, also when a retry replays
    return _recorded_response(recorded)


def _recorded_response(recorded: Recorded) -> func.HttpResponse:
    view = RecordedView(
        event_seq=recorded.event_seq,
        replayed=recorded.replayed,
        state=state_view(recorded.state, services().catalog.current()),
        receipt=services().consent_receipts.issue(recorded.event),
    )
    return model_response(view, status=200 if recorded.replayed else 201)


def get_my_consents(ctx: RequestContext) -> func.HttpResponse:
    loaded = services().ledger.load(user_subject(_user(ctx)))
    return model_response(state_view(loaded.state, services().catalog.current()))


def record_my_consents(ctx: RequestContext) -> func.HttpResponse:
    principal = _user(ctx)
    return _record(ctx, user_subject(principal), ctx.json_body(DecisionsRequest), Source.DASHBOARD)


def get_my_proof(ctx: RequestContext) -> func.HttpResponse:
    events, verification = services().ledger.history(user_subject(_user(ctx)))
    return model_response(proof_view(events, verification, services().seal_inclusion.latest(events)))


def link_visitor(ctx: RequestContext) -> func.HttpResponse:
    """An anonymous visitor signed in: their visitor consents now belong to the user, as an event."""
    principal = _user(ctx)
    body = ctx.json_body(LinkVisitorRequest)
    svc = services()
    svc.consent_receipts.ready()
    recorded = link_visitor_to_user(
        svc.ledger,
        svc.catalog.current(),
        f"visitor:{body.visitor_id}",
        user_subject(principal),
        caller_of(ctx, None),
        svc.clock.now(),
    )
    return _recorded_response(recorded)


def record_server_consents(ctx: RequestContext) -> func.HttpResponse:
    body = ctx.json_body(ServerDecisionsRequest)
    return _record(ctx, body.subject_id, body, Source.API)


def check_use(ctx: RequestContext) -> func.HttpResponse:
    query = ctx.query_model(ConsentCheckQuery)
    loaded = services().ledger.load(query.subject)
    answer = may_use(loaded.state, services().catalog.current(), query.purpose)
    return model_response(UseAnswerView(allowed=answer.allowed, reason=answer.reason, purpose=query.purpose))


def get_catalog(ctx: RequestContext) -> func.HttpResponse:
    # Public and the same for everyone: a minute in caches, as long as an instance keeps it and more.
    ctx.response_headers["Cache-Control"] = "public, max-age=60"
    return model_response(_catalog_view(services().catalog.current()))


def _catalog_view(catalog: Catalog) -> CatalogView:
    return catalog_view(catalog, services().privacy_policy_url)


def publish_purpose(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx, PUBLISHER_ROLE)
    body = ctx.json_body(PurposeRequest)
    purpose = Purpose.from_content(body.model_dump(by_alias=True))
    catalog = services().catalog.publish_purpose(purpose)
    services().audit.record(staff.subject, "purpose.published", f"purpose:{purpose.id}")
    return model_response(_catalog_view(catalog), status=201)


def publish_policy_version(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx, PUBLISHER_ROLE)
    body = ctx.json_body(PublishVersionRequest)
    catalog, created = services().catalog.publish_version(
        body.version, body.text, tuple(body.renew_purposes), services().clock.now()
    )
    if created:
        details = {"renewPurposes": body.renew_purposes}
        services().audit.record(staff.subject, "policy-version.published", f"policy-version:{body.version}", details)
    if body.notice is not None:  # again on a repeat: the same notice is one notice, mailed once
        _publish_change_notice(staff, body)
    return model_response(_catalog_view(catalog), status=201 if created else 200)


def _publish_change_notice(staff: Principal, body: PublishVersionRequest) -> None:
    from functions.notices.board import Draft
    from functions.notices.lifecycle import Audience, NoticeKind

    assert body.notice is not None
    draft = Draft(
        kind=NoticeKind.POLICY_CHANGE,
        title=body.notice.title,
        text=body.notice.summary,
        audience=Audience(body.notice.audience),
        link=body.notice.link,
        renew_purposes=tuple(body.renew_purposes),
        occasion=f"policy-version:{body.version}",
    )
    published = services().notice_board.publish(draft, staff.subject)
    if published.created:
        services().audit.record(staff.subject, "notice.published", f"notice:{published.notice.id}")


def get_subject_proof(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx, AUDITOR_ROLE)
    subject_id = subject_from_path(ctx.route_param("subjectId"))
    events, verification = services().ledger.history(subject_id)
    services().audit.record(staff.subject, "consent-proof.read", subject_id, {"valid": verification.valid})
    return model_response(proof_view(events, verification, services().seal_inclusion.latest(events)))
