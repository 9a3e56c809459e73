"""Serves the OpenAPI 3.1 document of every registered endpoint."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import azure.functions as func

from core.http import RequestContext, json_response, resource
from core.openapi import API, Endpoint
from functions.health.blueprint import app_version

bp = func.Blueprint()
HOST_JSON = Path(__file__).resolve().parent.parent.parent / "host.json"


def route_prefix() -> str:
    host = json.loads(HOST_JSON.read_text())
    return str(host.get("extensions", {}).get("http", {}).get("routePrefix", "api")).strip("/")


@cache
def openapi_document() -> str:
    return json.dumps(API.document(route_prefix(), app_version()))


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
