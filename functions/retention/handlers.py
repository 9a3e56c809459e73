"""HTTP handlers for everyone: the retention table, as JSON and as a page."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.http import RequestContext, model_response
from functions.retention.pages import table_page
from functions.retention.table import retention_table
from functions.retention.views import table_view

CACHE = {"Cache-Control": "public, max-age=3600"}  # changes only with a deployment or its settings


def table(ctx: RequestContext) -> func.HttpResponse:
    return model_response(table_view(services().inventory), headers=CACHE)


def page(ctx: RequestContext) -> func.HttpResponse:
    inventory = services().inventory
    return table_page(inventory.controller, retention_table(inventory))
