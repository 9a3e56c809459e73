"""HTTP handlers of the register of legal disclosures (role Privacy.Legal) and its public,
aggregated transparency report. Every staff read and action is audited."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.http import RequestContext, model_response
from functions.consent.queries import idempotency_key
from functions.notices.disclosures import DisclosureFacts
from functions.notices.errors import DisclosureNotFound
from functions.notices.lifecycle import LEGAL_ROLE
from functions.notices.models import DisclosureListView, DisclosureRequest, GagRequest
from functions.notices.params import staff_principal, uuid_param
from functions.notices.views import disclosure_view, report_view


def record_disclosure(ctx: RequestContext) -> func.HttpResponse:
    staff = staff_principal(ctx, LEGAL_ROLE)
    body = ctx.json_body(DisclosureRequest)
    facts = DisclosureFacts(
        authority=body.authority,
        instrument=body.instrument,
        legal_basis=body.legal_basis,
        categories=tuple(body.categories),
        subjects=tuple(body.subjects),
        disclosed=body.disclosed,
        disclosed_at=body.disclosed_at,
        outcome=body.outcome,
        approved_by=body.approved_by,
        gag_until=body.gag_until,
        gag_reason=body.gag_reason,
    )
    key = idempotency_key(ctx) if ctx.header("idempotency-key") is not None else None
    entry, created = services().disclosures.record(facts, staff.subject, key)
    if created:
        services().audit.record(staff.subject, "disclosure.recorded", f"disclosure:{entry.id}")
    return model_response(disclosure_view(entry), status=201 if created else 200)


def list_disclosures(ctx: RequestContext) -> func.HttpResponse:
    staff = staff_principal(ctx, LEGAL_ROLE)
    entries = services().disclosures.all()
    services().audit.record(staff.subject, "disclosures.listed", "disclosures")
    return model_response(DisclosureListView(disclosures=[disclosure_view(e) for e in entries]))


def get_disclosure(ctx: RequestContext) -> func.HttpResponse:
    staff = staff_principal(ctx, LEGAL_ROLE)
    entry = services().disclosures.get(uuid_param(ctx, "disclosureId", DisclosureNotFound))
    services().audit.record(staff.subject, "disclosure.read", f"disclosure:{entry.id}")
    return model_response(disclosure_view(entry))


def change_gag(ctx: RequestContext) -> func.HttpResponse:
    staff = staff_principal(ctx, LEGAL_ROLE)
    entry_id = uuid_param(ctx, "disclosureId", DisclosureNotFound)
    body = ctx.json_body(GagRequest)
    entry = services().disclosures.change_gag(entry_id, body.until, body.reason, staff.subject)
    services().audit.record(staff.subject, "disclosure.gag-changed", f"disclosure:{entry.id}")
    return model_response(disclosure_view(entry))


def transparency_report(ctx: RequestContext) -> func.HttpResponse:
    svc = services()
    ctx.response_headers["Cache-Control"] = "public, max-age=3600"
    return model_response(report_view(svc.disclosures.all(), svc.clock.now()))
