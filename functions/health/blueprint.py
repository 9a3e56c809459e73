"""Health for smoke tests and probes: up, version, and whether Cosmos DB and Storage answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata

import azure.functions as func

from bootstrap import services
from core.http import RequestContext, model_response, resource
from core.models import View
from core.openapi import Endpoint

bp = func.Blueprint()
log = logging.getLogger("privacy.health")
CHECK_TIMEOUT_SECONDS = 5.0


class HealthView(View):
    status: str  # ok | degraded
    version: str
    checks: dict[str, str]  # name → up | down


def app_version() -> str:
    try:
        return metadata.version("privacy-backend")
    except metadata.PackageNotFoundError:
        from core.version import VERSION

        return VERSION


# Each check goes through the port the app itself uses.
CHECKS: dict[str, Callable[[], None]] = {
    "cosmos": lambda: services().documents.ping(),
    "storage": lambda: services().work_queue.ping(),
}


def health(ctx: RequestContext) -> func.HttpResponse:
    with ThreadPoolExecutor(max_workers=len(CHECKS)) as pool:
        futures = {name: pool.submit(check) for name, check in CHECKS.items()}
        results = {}
        for name, future in futures.items():
            try:
                future.result(timeout=CHECK_TIMEOUT_SECONDS)
                results[name] = "up"
            except Exception as exc:
                # The exception type only: messages can carry endpoints or keys.
                log.warning("health check %s down: %s request_id=%s", name, type(exc).__name__, ctx.request_id)
                results[name] = "down"
    healthy = all(v == "up" for v in results.values())
    ctx.response_headers["Cache-Control"] = "no-store"
    view = HealthView(status="ok" if healthy else "degraded", version=app_version(), checks=results)
    return model_response(view, status=200 if healthy else 503)


resource(
    bp,
    name="health",
    route="health",
    handlers={
        "GET": Endpoint(
            health,
            "Up, version, and whether Cosmos DB and Storage answer",
            response=HealthView,
            tag="operations",
            view_statuses={503: "Degraded: a dependency does not answer"},
        )
    },
)
