"""The banner's HTTP functions: the hot path of every page view."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.http import BANNER_BODY_LIMIT, resource
from core.openapi import Endpoint, Header
from functions.consent.errors import NoPolicyPublished, PolicyVersionOutdated
from functions.consent.models import ProofView, VisitorId
from functions.consent.queries import IDEMPOTENCY_HEADER
from functions.cookies.errors import CookiePurposesMissing
from functions.cookies.handlers import read_preferences, read_proof, save_preferences
from functions.cookies.models import CookieChoiceRequest, CookiePreferencesView, CookieReadQuery
from functions.proof.errors import ProofKeyUnavailable

bp = func.Blueprint()

GPC_HEADER = Header(
    "Sec-GPC",
    "Set by the browser, never by a script (fetch cannot send a Sec- header; a signal the page sees in "
    "navigator.globalPrivacyControl travels as the body's gpc field): 1 = the Global Privacy Control "
    "signal (marketing stays off unless gpcOverride); any other value is no signal, as the GPC "
    "specification says.",
    {"type": "string"},
    set_by_browser=True,
)
VISITOR = {"visitorId": VisitorId}

resource(
    bp,
    name="cookie_preferences",
    route="cookies/{visitorId}",
    cors=lambda: services().banner_cors,
    body_limit=BANNER_BODY_LIMIT,
    handlers={
        "GET": Endpoint(
            read_preferences,
            "A visitor's cookie preferences (one point read)",
            response=CookiePreferencesView,
            tag="cookies",
            path=VISITOR,
            query=CookieReadQuery,
            errors=(CookiePurposesMissing, NoPolicyPublished, ProofKeyUnavailable, 503),
            headers=(GPC_HEADER,),
        ),
        "PUT": Endpoint(
            save_preferences,
            "Save the banner's choices; every decision lands in the consent ledger",
            request=CookieChoiceRequest,
            response=CookiePreferencesView,
            tag="cookies",
            path=VISITOR,
            errors=(PolicyVersionOutdated, CookiePurposesMissing, NoPolicyPublished, ProofKeyUnavailable, 503),
            headers=(GPC_HEADER, IDEMPOTENCY_HEADER),
        ),
    },
)
resource(
    bp,
    name="cookie_proof",
    route="cookies/{visitorId}/proof",
    cors=lambda: services().banner_cors,
    handlers={
        "GET": Endpoint(
            read_proof,
            "A visitor's own consent history, with its hash chain verified",
            response=ProofView,
            tag="cookies",
            path=VISITOR,
        ),
    },
)
