"""HTTP handlers of cookie preferences, called by the website banner on every page view."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.http import RequestContext, model_response
from functions.consent.catalog import Catalog
from functions.consent.decisions import current_version_or_conflict, event_context
from functions.consent.ledger import ConsentState, EventKind, Source
from functions.consent.queries import caller_of, idempotency_key, visitor_subject
from functions.cookies.models import CookieChoiceRequest, CookiePreferencesView
from functions.cookies.preferences import banner_decisions, gpc_withdrawal, preferences
from functions.proof.models import ConsentReceiptView


def _gpc(ctx: RequestContext) -> bool:
    return (ctx.header("sec-gpc") or "").strip() == "1"


def _render(
    ctx: RequestContext, state: ConsentState, catalog: Catalog, gpc: bool, receipt: ConsentReceiptView | None = None
) -> func.HttpResponse:
    svc = services()
    prefs = preferences(state, catalog, svc.cookie_max_age, svc.clock.now(), gpc)
    current = catalog.current_version
    ctx.response_headers["Cache-Control"] = "no-store"
    return model_response(
        CookiePreferencesView(
            categories=dict(prefs.categories),
            policy_version=prefs.policy_version,
            current_policy_version=current.version if current else None,
            decided_at=prefs.decided_at,
            expires_at=prefs.expires_at,
            reconsent_required=prefs.reconsent_required,
            reason=prefs.reason,
            gpc_honoured=prefs.gpc_honoured,
            receipt=receipt,
        )
    )


def read_preferences(ctx: RequestContext) -> func.HttpResponse:
    svc = services()
    subject = visitor_subject(ctx.route_param("visitorId"))
    gpc = _gpc(ctx)
    loaded = svc.ledger.load(subject)  # the one point read
    catalog = svc.catalog.current()
    withdrawal = gpc_withdrawal(loaded.state, catalog, gpc)
    if withdrawal is None:
        return _render(ctx, loaded.state, catalog, gpc)
    # First sight of the signal after a marketing grant: the withdrawal becomes proof, once, with its receipt.
    context = event_context(Source.GPC, catalog.require_current_version(), caller_of(ctx, None), svc.clock.now())
    svc.consent_receipts.ready()
    recorded = svc.ledger.record(
        subject, EventKind.DECISION, withdrawal, context, f"gpc-after:{loaded.state.seq}", loaded=loaded
    )
    return _render(ctx, recorded.state, catalog, gpc, svc.consent_receipts.issue(recorded.event))


def save_preferences(ctx: RequestContext) -> func.HttpResponse:
    svc = services()
    subject = visitor_subject(ctx.route_param("visitorId"))
    body = ctx.json_body(CookieChoiceRequest)
    gpc = _gpc(ctx)
    catalog = svc.catalog.current()
    version = current_version_or_conflict(catalog, body.policy_version)
    choices = body.categories.model_dump(exclude={"necessary"})
    decisions = banner_decisions(catalog, choices, gpc, body.gpc_override)
    context = event_context(Source.BANNER, version, caller_of(ctx, body.jurisdiction), svc.clock.now())
    svc.consent_receipts.ready()
    recorded = svc.ledger.record(subject, EventKind.DECISION, decisions, context, idempotency_key(ctx))
    return _render(ctx, recorded.state, catalog, gpc, svc.consent_receipts.issue(recorded.event))
