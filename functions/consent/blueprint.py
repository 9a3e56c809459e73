"""HTTP triggers of the consent ledger: parse → call → render."""

from __future__ import annotations

import azure.functions as func

from core.auth import Principal, require_role
from core.composition import services
from core.http import RequestContext, model_response, resource
from core.openapi import Endpoint
from functions.consent.catalog import Purpose
from functions.consent.decisions import (
    checked_decisions,
    current_version_or_conflict,
    event_context,
    idempotency_key,
)
from functions.consent.ledger import EventKind, Source
from functions.consent.models import (
    CatalogView,
    ConsentStateView,
    DecisionsRequest,
    LinkVisitorRequest,
    ProofView,
    PublishVersionRequest,
    PurposeView,
    RecordedView,
    ServerDecisionsRequest,
    UseAnswerView,
)
from functions.consent.queries import ServerCheckQuery, caller_of
from functions.consent.service import Recorded, link_visitor_to_user, may_use
from functions.consent.views import catalog_view, proof_view, state_view

bp = func.Blueprint()

PUBLISHER_ROLE = "Privacy.Publisher"
AUDITOR_ROLE = "Privacy.Auditor"
IDEMPOTENCY_HEADER = (("Idempotency-Key", "Retry-safe key: the same key never records twice."),)


def user_subject(principal: Principal) -> str:
    return f"user:{principal.subject}"


def _record(ctx: RequestContext, subject_id: str, body: DecisionsRequest, source: Source) -> func.HttpResponse:
    svc = services()
    catalog = svc.catalog.current()
    version = current_version_or_conflict(catalog, body.policy_version)
    decisions = checked_decisions(catalog, body.decisions, source)
    recorded = svc.ledger.record(
        subject_id,
        EventKind.DECISION,
        decisions,
        event_context(source, version, caller_of(ctx, body.jurisdiction), svc.clock.now()),
        idempotency_key(ctx.header("idempotency-key")),
    )
    return _recorded_response(recorded)


def _recorded_response(recorded: Recorded) -> func.HttpResponse:
    view = RecordedView(
        event_seq=recorded.event_seq,
        replayed=recorded.replayed,
        state=state_view(recorded.state, services().catalog.current()),
    )
    return model_response(view, status=200 if recorded.replayed else 201)


def get_my_consents(ctx: RequestContext) -> func.HttpResponse:
    principal = services().user_tokens.principal_from_header(ctx.header("authorization"))
    loaded = services().ledger.load(user_subject(principal))
    return model_response(state_view(loaded.state, services().catalog.current()))


def record_my_consents(ctx: RequestContext) -> func.HttpResponse:
    principal = services().user_tokens.principal_from_header(ctx.header("authorization"))
    body = ctx.json_body(DecisionsRequest)
    return _record(ctx, user_subject(principal), body, Source.DASHBOARD)


def get_my_proof(ctx: RequestContext) -> func.HttpResponse:
    principal = services().user_tokens.principal_from_header(ctx.header("authorization"))
    events, verification = services().ledger.history(user_subject(principal))
    return model_response(proof_view(events, verification))


def link_visitor(ctx: RequestContext) -> func.HttpResponse:
    """An anonymous visitor signed in: their visitor consents now belong to the user, as an event."""
    principal = services().user_tokens.principal_from_header(ctx.header("authorization"))
    body = ctx.json_body(LinkVisitorRequest)
    svc = services()
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
    subject, purpose = ctx.query("subject"), ctx.query("purpose")
    query = ServerCheckQuery.parse(subject, purpose)
    loaded = services().ledger.load(query.subject_id)
    answer = may_use(loaded.state, services().catalog.current(), query.purpose)
    return model_response(UseAnswerView(allowed=answer.allowed, reason=answer.reason, purpose=query.purpose))


def get_catalog(ctx: RequestContext) -> func.HttpResponse:
    return model_response(catalog_view(services().catalog.current()))


def _staff(ctx: RequestContext, role: str) -> Principal:
    principal = services().staff_tokens.principal_from_header(ctx.header("authorization"))
    require_role(principal, role)
    return principal


def publish_purpose(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx, PUBLISHER_ROLE)
    body = ctx.json_body(PurposeView)
    purpose = Purpose.from_content(body.model_dump(by_alias=True))
    catalog = services().catalog.publish_purpose(purpose)
    services().audit.record(staff.subject, "purpose.published", f"purpose:{purpose.id}")
    return model_response(catalog_view(catalog), status=201)


def publish_policy_version(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx, PUBLISHER_ROLE)
    body = ctx.json_body(PublishVersionRequest)
    catalog, created = services().catalog.publish_version(
        body.version, body.text, tuple(body.renew_purposes), services().clock.now()
    )
    if created:
        services().audit.record(
            staff.subject,
            "policy-version.published",
            f"policy-version:{body.version}",
            {"renewPurposes": body.renew_purposes},
        )
    return model_response(catalog_view(catalog), status=201 if created else 200)


def get_subject_proof(ctx: RequestContext) -> func.HttpResponse:
    staff = _staff(ctx, AUDITOR_ROLE)
    subject_id = ServerCheckQuery.parse(ctx.route_param("subjectId"), "essential").subject_id  # format check
    events, verification = services().ledger.history(subject_id)
    services().audit.record(staff.subject, "consent-proof.read", subject_id, {"valid": verification.valid})
    return model_response(proof_view(events, verification))


resource(
    bp,
    name="my_consents",
    route="me/consents",
    handlers={
        "GET": Endpoint(get_my_consents, "Current consent of the signed-in user", response=ConsentStateView,
                        security="user", tag="consent"),
        "POST": Endpoint(record_my_consents, "Grant or withdraw consent for purposes", request=DecisionsRequest,
                         response=RecordedView, status=201, security="user", tag="consent", errors=(409,),
                         headers=IDEMPOTENCY_HEADER),
    },
)  # fmt: skip
resource(
    bp,
    name="my_consent_proof",
    route="me/consents/proof",
    handlers={"GET": Endpoint(get_my_proof, "The user's consent history with its hash chain verified",
                              response=ProofView, security="user", tag="consent")},
)  # fmt: skip
resource(
    bp,
    name="link_visitor",
    route="me/consents/link",
    handlers={"POST": Endpoint(link_visitor, "Carry an anonymous visitor's consents over to the signed-in user",
                               request=LinkVisitorRequest, response=RecordedView, status=201, security="user",
                               tag="consent", errors=(409,))},
)  # fmt: skip
resource(
    bp,
    name="server_consents",
    route="consents",
    auth_level=func.AuthLevel.FUNCTION,
    handlers={"POST": Endpoint(record_server_consents, "Record consent from a product backend (source api)",
                               request=ServerDecisionsRequest, response=RecordedView, status=201,
                               security="function", tag="consent", errors=(409,), headers=IDEMPOTENCY_HEADER)},
)  # fmt: skip
resource(
    bp,
    name="consent_check",
    route="consents/check",
    auth_level=func.AuthLevel.FUNCTION,
    handlers={"GET": Endpoint(check_use, "May this subject's data be used for this purpose now?",
                              response=UseAnswerView, security="function", tag="consent", errors=(422,),
                              query=(("subject", "user:<sub> or visitor:<id>"), ("purpose", "purpose id")))},
)  # fmt: skip
resource(
    bp,
    name="catalog",
    route="catalog",
    cors=lambda: services().banner_cors,
    handlers={"GET": Endpoint(get_catalog, "Published purposes and the policy version in force",
                              response=CatalogView, tag="catalog")},
)  # fmt: skip
resource(
    bp,
    name="staff_purposes",
    route="staff/purposes",
    handlers={"POST": Endpoint(publish_purpose, "Publish or update a purpose (role Privacy.Publisher)",
                               request=PurposeView, response=CatalogView, status=201, security="staff",
                               tag="staff")},
)  # fmt: skip
resource(
    bp,
    name="staff_policy_versions",
    route="staff/policy-versions",
    body_limit=1024 * 1024,
    handlers={"POST": Endpoint(publish_policy_version, "Publish a privacy-policy version (role Privacy.Publisher)",
                               request=PublishVersionRequest, response=CatalogView, status=201, security="staff",
                               tag="staff", errors=(409,))},
)  # fmt: skip
resource(
    bp,
    name="staff_subject_proof",
    route="staff/subjects/{subjectId}/consent-proof",
    handlers={"GET": Endpoint(get_subject_proof, "A subject's consent proof (role Privacy.Auditor)",
                              response=ProofView, security="staff", tag="staff")},
)  # fmt: skip
