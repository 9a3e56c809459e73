"""The HTTP side of the host: routing, keys, platform CORS, and request/response conversion."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import azure.functions as func
from aiohttp import web
from azure.functions._abc import HttpResponse as AnyHttpResponse
from multidict import CIMultiDict, MultiMapping

from .catalog import FunctionSpec, HttpTriggerSpec
from .invocation import FunctionReturnError, Invoker, Stopwatch, log_invocation, new_invocation_id
from .options import HttpOptions, setting_is_true
from .routing import RouteTemplate

logger = logging.getLogger("devstack.functions_host")

KEY_HEADER = "x-functions-key"
KEY_QUERY_PARAMETER = "code"
# The host computes these itself; a function's own values would contradict the body it sends.
_HOST_MANAGED_HEADERS = {"content-length", "transfer-encoding", "connection"}
_HOMEPAGE = b"<!DOCTYPE html><html><body><p>Your Functions app is up and running.</p></body></html>"


@dataclass(frozen=True)
class HttpRoute:
    spec: FunctionSpec
    trigger: HttpTriggerSpec
    template: RouteTemplate

    def allows_method(self, method: str) -> bool:
        return not self.trigger.methods or method.upper() in self.trigger.methods


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    values: dict[str, str]


@dataclass(frozen=True)
class MethodNotAllowed:
    allowed: frozenset[str]


class KeyAuthorizer:
    """FUNCTION level takes a function key or the master key; ADMIN only the master key."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        self._master_key = settings.get("LOCAL_HOST_MASTER_KEY", "").strip()
        keys = settings.get("LOCAL_HOST_FUNCTION_KEYS", "").split(",")
        self._function_keys = [key.strip() for key in keys if key.strip()]

    @property
    def keys_configured(self) -> bool:
        return bool(self._master_key or self._function_keys)

    def allows(self, auth_level: str, request: web.Request) -> bool:
        if auth_level == "anonymous" or not self.keys_configured:
            return True
        # Like the host: the header wins over the query parameter when both are sent.
        presented = request.headers.get(KEY_HEADER) or request.query.get(KEY_QUERY_PARAMETER) or ""
        accepted = [self._master_key] if auth_level == "admin" else [self._master_key, *self._function_keys]
        return any(key and hmac.compare_digest(presented.encode(), key.encode()) for key in accepted)


@dataclass(frozen=True)
class CorsPolicy:
    """The host's platform CORS (Host.CORS in local.settings.json): any method and header, listed origins."""

    origins: frozenset[str]
    any_origin: bool
    credentials: bool

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> CorsPolicy | None:
        listed = [origin.strip().rstrip("/") for origin in settings.get("Host__CORS", "").split(",")]
        origins = [origin for origin in listed if origin]
        if not origins:
            return None
        return cls(
            origins=frozenset(origin.lower() for origin in origins),
            any_origin="*" in origins,
            credentials=setting_is_true(settings, "Host__CORSCredentials"),
        )

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin.rstrip("/").lower() in self.origins

    @staticmethod
    def is_preflight(request: web.Request) -> bool:
        return (
            request.method == "OPTIONS"
            and "Origin" in request.headers
            and "Access-Control-Request-Method" in request.headers
        )

    def preflight_response(self, request: web.Request) -> web.Response:
        # Answered here, before routing and keys; a refused origin just gets no CORS headers.
        response = web.Response(status=204)
        origin = request.headers["Origin"]
        if self.allows(origin):
            self._add_origin_headers(origin, response)
            response.headers["Access-Control-Allow-Methods"] = request.headers["Access-Control-Request-Method"]
            if requested_headers := request.headers.get("Access-Control-Request-Headers"):
                response.headers["Access-Control-Allow-Headers"] = requested_headers
        return response

    def decorate(self, request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if origin and self.allows(origin):
            self._add_origin_headers(origin, response)

    def _add_origin_headers(self, origin: str, response: web.StreamResponse) -> None:
        if self.any_origin and not self.credentials:
            response.headers["Access-Control-Allow-Origin"] = "*"
            return
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
        if self.credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"


class RouteTable:
    def __init__(self, route_prefix: str, specs: Iterable[FunctionSpec]) -> None:
        self._prefix = [segment for segment in route_prefix.split("/") if segment]
        routes = [
            HttpRoute(spec, spec.trigger, spec.trigger.route)
            for spec in specs
            if isinstance(spec.trigger, HttpTriggerSpec)
        ]
        self.routes = sorted(routes, key=lambda r: (r.template.precedence, r.template.template.lower()))

    def find(self, method: str, raw_path: str) -> RouteMatch | MethodNotAllowed | None:
        segments = self._route_segments(raw_path)
        if segments is None:
            return None
        allowed: set[str] = set()
        for route in self.routes:
            values = route.template.match(segments)
            if values is None:
                continue
            if route.allows_method(method):
                return RouteMatch(route, values)
            allowed |= route.trigger.methods
        return MethodNotAllowed(frozenset(allowed)) if allowed else None

    def _route_segments(self, raw_path: str) -> list[str] | None:
        """The decoded path segments after the route prefix, or None when the prefix is not there."""
        segments = raw_path.strip("/").split("/") if raw_path.strip("/") else []
        head = segments[: len(self._prefix)]
        if [s.lower() for s in head] != [p.lower() for p in self._prefix]:
            return None
        return [unquote(segment) for segment in segments[len(self._prefix) :]]


class HttpFront:
    def __init__(
        self,
        specs: Sequence[FunctionSpec],
        options: HttpOptions,
        settings: Mapping[str, str],
        invoker: Invoker,
    ) -> None:
        self.table = RouteTable(options.route_prefix, specs)
        self._options = options
        self._authorizer = KeyAuthorizer(settings)
        self._cors = CorsPolicy.from_settings(settings)
        self._homepage = not setting_is_true(settings, "AzureWebJobsDisableHomepage")
        self._invoker = invoker
        self._warn_if_keys_are_open()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=self._options.max_request_body_size)
        app.router.add_route("*", "/{path:.*}", self._handle)
        return app

    def _warn_if_keys_are_open(self) -> None:
        protected = [r for r in self.table.routes if r.trigger.auth_level != "anonymous"]
        if protected and not self._authorizer.keys_configured:
            logger.warning(
                "No LOCAL_HOST_FUNCTION_KEYS or LOCAL_HOST_MASTER_KEY set: FUNCTION and ADMIN routes are open, "
                "as under func start"
            )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = await self._respond(request)
        for name, value in self._options.custom_headers:
            response.headers[name] = value
        if self._cors is not None:
            self._cors.decorate(request, response)
        return response

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        if self._cors is not None and self._cors.is_preflight(request):
            return self._cors.preflight_response(request)
        found = self.table.find(request.method, request.rel_url.raw_path)
        if isinstance(found, MethodNotAllowed):
            return web.Response(status=405, headers={"Allow": ", ".join(sorted(found.allowed))})
        if found is None:
            return self._homepage_or_not_found(request)
        if not self._authorizer.allows(found.route.trigger.auth_level, request):
            return web.Response(status=401)
        return await self._invoke(found, request)

    def _homepage_or_not_found(self, request: web.Request) -> web.Response:
        if self._homepage and request.rel_url.raw_path == "/" and request.method in {"GET", "HEAD"}:
            return web.Response(body=_HOMEPAGE, content_type="text/html")
        return web.Response(status=404)

    async def _invoke(self, found: RouteMatch, request: web.Request) -> web.StreamResponse:
        body = await request.read()  # over the size limit, aiohttp answers 413 itself
        spec = found.route.spec
        invocation_id = new_invocation_id()
        stopwatch = Stopwatch()
        try:
            result = await self._invoker.invoke(
                spec, build_request(request, found.values, body), invocation_id, request.headers.get("traceparent")
            )
            response = to_web_response(result.output(spec.http_output) if spec.http_output else None)
            outcome = "Succeeded"
        except Exception:
            logger.exception("Function '%s' failed (Id=%s)", spec.name, invocation_id)
            response, outcome = web.Response(status=500), "Failed"
        log_invocation(spec, invocation_id, stopwatch, outcome, Status=response.status)
        return response


def build_request(request: web.Request, route_values: Mapping[str, str], body: bytes) -> func.HttpRequest:
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=_single_valued(request.headers, case_insensitive=True),
        params=_single_valued(request.query, case_insensitive=False),
        route_params=dict(route_values),
        body=body,
    )


def _single_valued(values: MultiMapping[str], case_insensitive: bool) -> dict[str, str]:
    """Repeated headers and query parameters reach the function joined with ',', as the host sends them."""
    joined: dict[str, list[str]] = {}
    for name, value in values.items():
        joined.setdefault(name.lower() if case_insensitive else name, []).append(value)
    return {name: ",".join(items) for name, items in joined.items()}


def to_web_response(value: Any) -> web.Response:
    if value is None:
        return web.Response(status=204)
    if isinstance(value, str):
        return web.Response(body=value.encode("utf-8"), headers={"Content-Type": "text/plain; charset=utf-8"})
    if not isinstance(value, AnyHttpResponse):
        raise FunctionReturnError(f"an HTTP function returned {type(value).__name__}, not an HttpResponse or str")
    headers: CIMultiDict[str] = CIMultiDict()
    for name, header_value in value.headers.items():
        if name.lower() not in _HOST_MANAGED_HEADERS:
            headers.add(name, str(header_value))
    if "Content-Type" not in headers:
        mimetype, charset = value.mimetype, value.charset
        headers["Content-Type"] = f"{mimetype}; charset={charset}" if mimetype.startswith("text/") else mimetype
    return web.Response(status=int(value.status_code), body=value.get_body(), headers=headers)
