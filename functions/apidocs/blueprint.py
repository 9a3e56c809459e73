"""Serves the OpenAPI 3.1 document of every registered endpoint."""

from __future__ import annotations

import json
from functools import cache
from urllib.parse import urlsplit

import azure.functions as func

import function_index
from bootstrap import services
from core.http import RequestContext, json_response, resource, route_prefix
from core.openapi import API, Endpoint
from functions.health.blueprint import app_version

bp = func.Blueprint()


@cache
def openapi_document() -> str:
    function_index.load_all()  # each capability registers its endpoints as it is imported
    public = urlsplit(services().settings.get("PUBLIC_API_URL"))
    return json.dumps(API.document(route_prefix(), app_version(), f"{public.scheme}://{public.netloc}"))


def get_openapi(ctx: RequestContext) -> func.HttpResponse:
    response = json_response(json.loads(openapi_document()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


resource(
    bp,
    name="openapi",
    route="openapi.json",
    handlers={"GET": Endpoint(get_openapi, "This API's OpenAPI 3.1 document", tag="operations")},
)
