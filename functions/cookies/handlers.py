"""HTTP handlers of cookie preferences, called by the website banner on every page view."""

from __future__ import annotations

import logging

import azure.functions as func

from bootstrap import services
from core.http import RequestContext, model_response
from functions.consent.catalog import Catalog
from functions.consent.decisions import current_version_or_conflict, event_context
from functions.consent.ledger import ConsentState, EventKind, Source
from functions.consent.queries import caller_of, idempotency_key, visitor_subject
from functions.consent.views import proof_view
from functions.cookies.models import CookieChoiceRequest, CookiePreferencesView, CookieReadQuery
from functions.cookies.preferences import banner_decisions, gpc_withdrawal, preferences
from functions.notices.board_view import ActiveNoticeView, active_view
from functions.proof.models import ConsentReceiptView

log = logging.getLogger("privacy.cookies")


def _gpc_header(ctx: RequestContext) -> bool:
    return (ctx.header("sec-gpc") or "").strip() == "1"


def _visitor(ctx: RequestContext) -> str:
    """The ledger subject of the path's visitor id; where the API shares the site's domain, it also
    (re)sets the visitor cookie so that the browser keeps it as long as the decision."""
    visitor_id = ctx.route_param("visitorId")
    subject = visitor_subject(visitor_id)
    cookie = services().visitor_cookie
    if cookie is not None:
        ctx.response_headers["Set-Cookie"] = cookie.header(visitor_id)
    return subject


def _notice_board() -> list[ActiveNoticeView]:
    """The board for the banner, best effort: a board that cannot be read shows no notice, and never
    fails the read of the visitor's choices (nor hides them: the banner would go offline)."""
    try:
        return [active_view(n) for n in services().active_notices.active()]  # kept per instance
    except Exception as error:
        log.warning("cookie read without the notice board error=%s", type(error).__name__)
        return []


def _render(
    ctx: RequestContext,
    state: ConsentState,
    catalog: Catalog,
    gpc: bool,
    receipt: ConsentReceiptView | None = None,
    notices: list[ActiveNoticeView] | None = None,
) -> func.HttpResponse:
    svc = services()
    prefs = preferences(state, catalog, svc.cookie_max_age, svc.clock.now(), gpc)
    current = catalog.current_version
    ctx.response_headers["Cache-Control"] = "no-store"
    return model_response(
        CookiePreferencesView(
            categories=dict(prefs.categories),
            policy_version=prefs.policy_version,
            policy_revision=catalog.revision_of(prefs.policy_version),
            current_policy_version=current.version if current else None,
            current_policy_revision=current.revision if current else None,
            policy_url=svc.privacy_policy_url,
            decided_at=prefs.decided_at,
            expires_at=prefs.expires_at,
            reconsent_required=prefs.reconsent_required,
            reason=prefs.reason,
            gpc_honoured=prefs.gpc_honoured,
            receipt=receipt,
            notices=notices,
        )
    )


def read_preferences(ctx: RequestContext) -> func.HttpResponse:
    svc = services()
    subject = _visitor(ctx)
    gpc = _gpc_header(ctx) or ctx.query_model(CookieReadQuery).gpc == "1"
    loaded = svc.ledger.load(subject)  # the one point read
    catalog = svc.catalog.current()
    withdrawal = gpc_withdrawal(loaded.state, catalog, gpc)
    if withdrawal is None:
        return _render(ctx, loaded.state, catalog, gpc, notices=_notice_board())
    # First sight of the signal after a marketing grant: the withdrawal becomes proof, once, with its receipt.
    context = event_context(Source.GPC, catalog.require_current_version(), caller_of(ctx, None), svc.clock.now())
    svc.consent_receipts.ready()
    recorded = svc.ledger.record(
        subject, EventKind.DECISION, withdrawal, context, f"gpc-after:{loaded.state.seq}", loaded=loaded
    )
    return _render(ctx, recorded.state, catalog, gpc, svc.consent_receipts.issue(recorded.event), _notice_board())


def save_preferences(ctx: RequestContext) -> func.HttpResponse:
    svc = services()
    subject = _visitor(ctx)
    body = ctx.json_body(CookieChoiceRequest)
    gpc = _gpc_header(ctx) or body.gpc  # the header from the browser, or the signal the page saw
    catalog = svc.catalog.current()
    version = current_version_or_conflict(catalog, body.policy_version)
    decisions = banner_decisions(catalog, body.choices(), gpc, body.gpc_override)
    context = event_context(Source.BANNER, version, caller_of(ctx, body.jurisdiction), svc.clock.now())
    svc.consent_receipts.ready()
    recorded = svc.ledger.record(subject, EventKind.DECISION, decisions, context, idempotency_key(ctx))
    return _render(ctx, recorded.state, catalog, gpc, svc.consent_receipts.issue(recorded.event))


def read_proof(ctx: RequestContext) -> func.HttpResponse:
    """The visitor's own chain, verified: whoever holds the visitor id may read what it decided."""
    svc = services()
    events, verification = svc.ledger.history(_visitor(ctx))
    ctx.response_headers["Cache-Control"] = "no-store"
    return model_response(proof_view(events, verification, svc.seal_inclusion.latest(events)))
