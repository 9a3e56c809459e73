"""The public side of notices: one-click unsubscribe (RFC 8058) and the public facts. No sign-in;
nothing here reads or sets a cookie."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.http import RequestContext, model_response
from core.pages import problem_page
from functions.notices.errors import InvalidUnsubscribeLink
from functions.notices.facts import privacy_facts
from functions.notices.models import (
    PrivacyFactsView,
    PurposeFactView,
    SubprocessorView,
)
from functions.notices.pages import facts_page, unsubscribe_form, unsubscribed_page
from functions.retention.views import row_view

FACTS_CACHE = "public, max-age=3600"
TOKEN_LIMIT = 2000


def _token(ctx: RequestContext) -> str:
    token = ctx.query("token") or ""
    if not 10 <= len(token) <= TOKEN_LIMIT:
        raise InvalidUnsubscribeLink()
    return token


def unsubscribe_page(ctx: RequestContext) -> func.HttpResponse:
    """GET: a page with a button; a mail scanner following the link unsubscribes nobody."""
    try:
        link = services().unsubscribe_links.read(_token(ctx))
    except InvalidUnsubscribeLink as error:
        return problem_page("Invalid link", error.detail, 400)
    return unsubscribe_form(ctx.query("token") or "", link.purpose)


def unsubscribe(ctx: RequestContext) -> func.HttpResponse:
    """POST (the mail client's one-click, or the page's button): withdraws at once, idempotently; no
    cookie, no redirect, whatever the body (RFC 8058 sends ``List-Unsubscribe=One-Click``)."""
    try:
        link, result = services().unsubscribe_links.follow(_token(ctx))
    except InvalidUnsubscribeLink as error:
        return problem_page("Invalid link", error.detail, 400)
    return unsubscribed_page(link.purpose, already=not result.withdrawn)


def _facts_view() -> PrivacyFactsView:
    facts = privacy_facts(services().catalog.current(), services().inventory)
    declaration = facts.declaration
    return PrivacyFactsView(
        revision=declaration.revision,
        updated=declaration.updated,
        policy_version=facts.policy_version,
        subprocessors=[
            SubprocessorView(
                name=s.name,
                purpose=s.purpose,
                data_categories=list(s.data_categories),
                location=s.location,
                transfer_mechanism=s.transfer_mechanism,
                privacy_policy=s.privacy_policy,
            )
            for s in declaration.subprocessors
        ],
        purposes=[
            PurposeFactView(
                id=p.id, title=p.title, description=p.description, legal_basis=p.legal_basis, choice=p.choice
            )
            for p in facts.purposes
        ],
        retention=[row_view(r) for r in facts.retention],
    )


def get_privacy_facts(ctx: RequestContext) -> func.HttpResponse:
    ctx.response_headers["Cache-Control"] = FACTS_CACHE
    return model_response(_facts_view())


def privacy_facts_page(ctx: RequestContext) -> func.HttpResponse:
    return facts_page(privacy_facts(services().catalog.current(), services().inventory))
