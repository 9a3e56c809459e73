"""The HTTP side of the host: routes under the route prefix, keys, and request/response conversion.

As in the host, a method a function does not list makes its route not match (404, not 405), and
routes are tried in precedence order, so a literal segment beats a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import azure.functions as func
from aiohttp import web
from azure.functions._abc import HttpResponse as AnyHttpResponse
from multidict import CIMultiDict, MultiMapping

from .admin import AdminApi
from .catalog import FunctionSpec, HttpTriggerSpec
from .invocation import FunctionReturnError, Invoker
from .keys import KeyAuthorizer
from .options import HttpOptions
from .server import Refused, problem, read_body, readable

ADMIN_SEGMENT = "admin"
# The host computes these itself; a function's own values would contradict the body it sends.
_HOST_MANAGED_HEADERS = {"content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True)
class HttpRoute:
    spec: FunctionSpec
    trigger: HttpTriggerSpec


class RouteTable:
    def __init__(self, route_prefix: str, specs: Iterable[FunctionSpec]) -> None:
        self._prefix = [segment.casefold() for segment in route_prefix.split("/") if segment]
        routes = [HttpRoute(spec, spec.trigger) for spec in specs if isinstance(spec.trigger, HttpTriggerSpec)]
        self.routes = sorted(routes, key=lambda r: (r.trigger.route.precedence, r.trigger.route.template.lower()))

    def find(self, method: str, segments: Sequence[str]) -> tuple[HttpRoute, dict[str, str]] | None:
        if [segment.casefold() for segment in segments[: len(self._prefix)]] != self._prefix:
            return None
        rest = segments[len(self._prefix) :]
        for route in self.routes:
            if route.trigger.methods and method not in route.trigger.methods:
                continue
            values = route.trigger.route.match(rest)
            if values is not None:
                return route, values
        return None


def path_segments(request: web.BaseRequest) -> list[str]:
    """The decoded segments of the path; bytes that are not UTF-8 become U+FFFD."""
    path = request.rel_url.raw_path.strip("/")
    return [readable(unquote(segment)) for segment in path.split("/")] if path else []


def single_valued(values: MultiMapping[str], case_insensitive: bool) -> dict[str, str]:
    """Repeated headers and query parameters reach the function joined with ',', as the host sends them."""
    joined: dict[str, list[str]] = {}
    for name, value in values.items():
        key = readable(name.lower() if case_insensitive else name)
        joined.setdefault(key, []).append(readable(value))
    return {name: ",".join(items) for name, items in joined.items()}


class HttpFront:
    def __init__(
        self,
        specs: Sequence[FunctionSpec],
        options: HttpOptions,
        authorizer: KeyAuthorizer,
        invoker: Invoker,
        admin: AdminApi,
    ) -> None:
        self.table = RouteTable(options.route_prefix, specs)
        self._options = options
        self._authorizer = authorizer
        self._invoker = invoker
        self._admin = admin

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        segments = path_segments(request)
        headers, query = single_valued(request.headers, True), single_valued(request.query, False)
        if segments and segments[0].casefold() == ADMIN_SEGMENT:
            return await self._admin.handle(request, segments[1:], headers, query)
        found = self.table.find(request.method, segments)
        if found is None:
            raise Refused(404)
        route, values = found
        if route.trigger.needs_key and not self._authorizer.allows(headers, query, admin=False):
            raise Refused(401)
        body = await read_body(request, self._options.max_request_body_size, self._options.body_timeout_seconds)
        host = readable(request.headers.get("Host", "localhost"))
        http_request = func.HttpRequest(
            method=request.method,
            url=f"{request.scheme}://{host}{readable(request.rel_url.raw_path_qs)}",
            headers=headers,
            params=query,
            route_params=values,
            body=body,
        )
        response = await self._invoker.run(route.spec, http_request, to_web_response)
        return response if response is not None else problem(500)


def to_web_response(value: Any) -> web.Response:
    if not isinstance(value, AnyHttpResponse):
        raise FunctionReturnError(f"an HTTP function returned {type(value).__name__}, not an HttpResponse")
    headers: CIMultiDict[str] = CIMultiDict()
    for name, header_value in value.headers.items():
        if name.lower() not in _HOST_MANAGED_HEADERS:
            headers.add(name, str(header_value))
    if "Content-Type" not in headers:
        mimetype, charset = value.mimetype, value.charset
        headers["Content-Type"] = f"{mimetype}; charset={charset}" if mimetype.startswith("text/") else mimetype
    return web.Response(status=int(value.status_code), body=value.get_body(), headers=headers)
