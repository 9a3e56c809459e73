"""The banner's HTTP functions: the hot path of every page view."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.http import BANNER_BODY_LIMIT, resource
from core.openapi import Endpoint, Header
from functions.consent.errors import NoPolicyPublished, PolicyVersionOutdated
from functions.consent.models import VisitorId
from functions.consent.queries import IDEMPOTENCY_HEADER
from functions.cookies.errors import CookiePurposesMissing
from functions.cookies.handlers import read_preferences, save_preferences
from functions.cookies.models import CookieChoiceRequest, CookiePreferencesView
from functions.proof.errors import ProofKeyUnavailable

bp = func.Blueprint()

GPC_HEADER = Header(
    "Sec-GPC",
    "Set by the browser, never by a script: 1 = the Global Privacy Control signal (marketing stays off "
    "unless gpcOverride); any other value is no signal, as the GPC specification says.",
    {"type": "string"},
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
