"""HTTP triggers of cookie preferences, called by the website banner on every page view."""

from __future__ import annotations

from datetime import timedelta

import azure.functions as func

from core.composition import services
from core.http import BANNER_BODY_LIMIT, RequestContext, model_response, resource
from core.openapi import Endpoint
from functions.consent.catalog import Catalog
from functions.consent.decisions import current_version_or_conflict, event_context, idempotency_key
from functions.consent.ledger import ConsentState, EventKind, Source
from functions.consent.queries import caller_of, visitor_subject
from functions.cookies.models import CookieChoiceRequest, CookiePreferencesView
from functions.cookies.preferences import banner_decisions, gpc_withdrawal, preferences

bp = func.Blueprint()


def _gpc(ctx: RequestContext) -> bool:
    return (ctx.header("sec-gpc") or "").strip() == "1"


def _render(ctx: RequestContext, state: ConsentState, catalog: Catalog, gpc: bool) -> func.HttpResponse:
    svc = services()
    prefs = preferences(state, catalog, timedelta(days=svc.cookie_max_age_days), svc.clock.now(), gpc)
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
        )
    )


def read_preferences(ctx: RequestContext) -> func.HttpResponse:
    svc = services()
    subject = visitor_subject(ctx.route_param("visitorId"))
    gpc = _gpc(ctx)
    loaded = svc.ledger.load(subject)  # the one point read
    catalog = svc.catalog.current()
    withdrawal = gpc_withdrawal(loaded.state, catalog, gpc)
    state = loaded.state
    if withdrawal is not None:
        # First sight of the signal after a marketing grant: the withdrawal becomes proof, once.
        state = svc.ledger.record(
            subject,
            EventKind.DECISION,
            withdrawal,
            event_context(Source.GPC, catalog.require_current_version(), caller_of(ctx, None), svc.clock.now()),
            f"gpc-after:{loaded.state.seq}",
            loaded=loaded,
        ).state
    return _render(ctx, state, catalog, gpc)


def save_preferences(ctx: RequestContext) -> func.HttpResponse:
    svc = services()
    subject = visitor_subject(ctx.route_param("visitorId"))
    body = ctx.json_body(CookieChoiceRequest)
    gpc = _gpc(ctx)
    catalog = svc.catalog.current()
    version = current_version_or_conflict(catalog, body.policy_version)
    choices = body.categories.model_dump(exclude={"necessary"})
    decisions = banner_decisions(catalog, choices, gpc, body.gpc_override)
    recorded = svc.ledger.record(
        subject,
        EventKind.DECISION,
        decisions,
        event_context(Source.BANNER, version, caller_of(ctx, body.jurisdiction), svc.clock.now()),
        idempotency_key(ctx.header("idempotency-key")),
    )
    return _render(ctx, recorded.state, catalog, gpc)


GPC_HEADER = ("Sec-GPC", "1 = the browser's Global Privacy Control signal: marketing is off unless gpcOverride.")

resource(
    bp,
    name="cookie_preferences",
    route="cookies/{visitorId}",
    cors=lambda: services().banner_cors,
    body_limit=BANNER_BODY_LIMIT,
    handlers={
        "GET": Endpoint(read_preferences, "A visitor's cookie preferences (one point read)",
                        response=CookiePreferencesView, tag="cookies", errors=(422, 503), headers=(GPC_HEADER,)),
        "PUT": Endpoint(save_preferences, "Save the banner's choices; every decision lands in the consent ledger",
                        request=CookieChoiceRequest, response=CookiePreferencesView, tag="cookies",
                        errors=(409, 503),
                        headers=(GPC_HEADER, ("Idempotency-Key", "Retry-safe key."))),
    },
)  # fmt: skip
