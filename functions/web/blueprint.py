"""The website's files, served by the function app: the banner script, the privacy page, its assets."""

from __future__ import annotations

import azure.functions as func

from core.http import resource
from core.openapi import Endpoint
from functions.web import handlers as h
from functions.web.assets import SCRIPT, STYLE
from functions.web.errors import AssetNotFound
from functions.web.models import ScriptFile, StyleFile

bp = func.Blueprint()


resource(
    bp,
    name="web_script",
    route="web/js/{file}",
    handlers={
        "GET": Endpoint(
            h.script,
            "A website script under its versioned name (the banner: README), cached for a year",
            tag="web",
            path={"file": ScriptFile},
            media_type=SCRIPT,
            errors=(AssetNotFound,),
        )
    },
)
resource(
    bp,
    name="web_style",
    route="web/css/{file}",
    handlers={
        "GET": Endpoint(
            h.style,
            "A style sheet of the privacy page under its versioned name, cached for a year",
            tag="web",
            path={"file": StyleFile},
            media_type=STYLE,
            errors=(AssetNotFound,),
        )
    },
)
resource(
    bp,
    name="web_privacy_page",
    route="web/privacy",
    handlers={
        "GET": Endpoint(
            h.page,
            "The privacy page: requests, their status, and for signed-in users consents and history",
            tag="web",
            media_type="text/html",
        )
    },
)
