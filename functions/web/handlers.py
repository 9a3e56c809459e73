"""Serving the website's files: the banner script, the privacy page and its script and style sheet."""

from __future__ import annotations

import re

import azure.functions as func

from bootstrap import services
from core import problems
from core.errors import FieldError
from core.http import RequestContext
from functions.web.assets import SCRIPT, STYLE, Asset, assets, current
from functions.web.errors import AssetNotFound
from functions.web.models import SCRIPT_FILE, STYLE_FILE
from functions.web.page import privacy_page

# A released file never changes under its name (web/releases.json): caches may keep it a year.
IMMUTABLE = "public, max-age=31536000, immutable"


def _asset(ctx: RequestContext, media_type: str, pattern: re.Pattern[str]) -> func.HttpResponse:
    name = ctx.route_param("file")
    if not pattern.fullmatch(name):
        raise problems.validation_failed([FieldError("path/file", "must be a versioned file name")])
    asset = assets().get(name)
    if asset is None or asset.media_type != media_type:
        raise AssetNotFound()
    return _served(asset)


def _served(asset: Asset) -> func.HttpResponse:
    headers = {
        "Cache-Control": IMMUTABLE,
        "X-Content-Type-Options": "nosniff",
        # Websites include the banner from this origin with an SRI hash: that needs a CORS answer,
        # and the file is public, the same for everyone.
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    return func.HttpResponse(asset.body, status_code=200, mimetype=asset.media_type, charset="utf-8", headers=headers)


def script(ctx: RequestContext) -> func.HttpResponse:
    return _asset(ctx, SCRIPT, SCRIPT_FILE)


def style(ctx: RequestContext) -> func.HttpResponse:
    return _asset(ctx, STYLE, STYLE_FILE)


def page(ctx: RequestContext) -> func.HttpResponse:
    svc = services()
    api = svc.settings.get("PUBLIC_API_URL").rstrip("/")
    body, headers = privacy_page(
        api=api,
        script=f"{api}/web/js/{current('privacy.js').file_name}",
        css=f"{api}/web/css/{current('privacy.css').file_name}",
        policy_url=svc.privacy_policy_url,
        token_origins=sorted(svc.banner_cors.allowed_origins - {"*"}),
    )
    return func.HttpResponse(body, status_code=200, mimetype="text/html", charset="utf-8", headers=headers)
