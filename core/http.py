"""The HTTP edge: one function per resource, method dispatch, strict bodies, problem+json, CORS, request ids.

Triggers stay thin: they declare a resource with one handler per method; everything a serious API
does on every call (405 with Allow, body limits, validation errors by field path, domain errors
mapped to problem types, request ids in logs, CORS for browser callers) happens here once.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from core import problems
from core.errors import DomainError, FieldError
from core.openapi import API, Endpoint
from core.problem_types import PROBLEM_TYPES
from core.problems import Problem

log = logging.getLogger("privacy.http")

T = TypeVar("T", bound=BaseModel)

BANNER_BODY_LIMIT = 16 * 1024
DEFAULT_BODY_LIMIT = 64 * 1024
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"


@cache
def route_prefix() -> str:
    """host.json's ``extensions.http.routePrefix`` ("api" when unset), without slashes."""
    host = json.loads(HOST_JSON.read_text())
    return str(host.get("extensions", {}).get("http", {}).get("routePrefix", "api")).strip("/")


@dataclass
class RequestContext:
    req: func.HttpRequest
    request_id: str
    body_limit: int
    response_headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        value: str | None = self.req.headers.get(name)
        return value

    def route_param(self, name: str) -> str:
        value = self.req.route_params.get(name)
        if value is None:
            raise problems.not_found()
        return str(value)

    def query(self, name: str) -> str | None:
        value: str | None = self.req.params.get(name)
        return value

    def client_ip(self) -> str | None:
        # Azure's front end appends the address it saw to X-Forwarded-For (with a port); entries
        # before it come from the client and can be anything, so the last one is the one to trust.
        forwarded = self.header("x-forwarded-for")
        if not forwarded:
            return None
        last = forwarded.split(",")[-1].strip()
        if last.startswith("["):  # [v6]:port
            return last[1 : last.find("]")]
        if last.count(":") == 1:  # v4:port
            return last.split(":")[0]
        return last

    def raw_body(self) -> bytes:
        """The body within the limit (413 otherwise), whatever its type."""
        raw = self.req.get_body() or b""
        declared = self.header("content-length")
        if len(raw) > self.body_limit or (declared and declared.isdigit() and int(declared) > self.body_limit):
            raise problems.body_too_large(self.body_limit)
        return raw

    def json_body(self, model: type[T]) -> T:
        """The body validated against ``model``; a problem (400/413/415/422) otherwise."""
        raw = self.raw_body()
        content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        if content_type and content_type != JSON and not content_type.endswith("+json"):
            raise problems.unsupported_media_type()
        try:
            # Parsed by pydantic's own JSON parser: depth and number sizes are bounded there, and
            # strict models see JSON types (true, not "yes"; 0 is not false).
            return model.model_validate_json(raw) if raw else model.model_validate(None)
        except ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors(include_input=False)):
                raise problems.malformed_json() from None
            raise problems.validation_failed(field_errors(exc)) from None

    def query_model(self, model: type[T]) -> T:
        """The query parameters the model names (by their camelCase names), validated like a body:
        a missing, malformed or unknown value is a 422 with its path, never ignored."""
        names = {field.alias or name for name, field in model.model_fields.items()}
        data = {name: value for name, value in self.req.params.items() if name in names}
        try:
            return model.model_validate(data, strict=False)
        except ValidationError as exc:
            raise problems.validation_failed(
                [FieldError(f"query/{e.path}", e.message) for e in field_errors(exc)]
            ) from None


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Field paths and reasons from pydantic, without the offending input values."""
    return [
        FieldError(path=_safe_path(error), message=_message_without_values(error))
        for error in exc.errors(include_input=False, include_url=False, include_context=False)
    ]


def _safe_path(error: Mapping[str, Any]) -> str:
    """The field path, but never a caller-chosen name: map keys and unknown field names are input."""
    parts = [str(part) for part in error["loc"]]
    if "[key]" in parts:  # an invalid map key: the key itself is what was sent
        at = parts.index("[key]")
        parts = [*parts[: at - 1], "*", "(key)"]
    if error.get("type") == "extra_forbidden" and parts:
        parts = [*parts[:-1], "(unknown field)"]
    return "/".join(parts) or "(body)"


def _message_without_values(error: Mapping[str, Any]) -> str:
    # pydantic messages can quote the input; value-echoing types get a fixed text.
    kind = str(error.get("type", ""))
    if kind == "value_error":  # raised by our own validators, whose texts are ours
        return str(error.get("msg", "")).removeprefix("Value error, ") or "invalid value"
    if kind in {"json_invalid", "assertion_error"}:
        return "invalid value"
    return str(error.get("msg", "invalid value"))


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        body=json.dumps(data, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        headers=dict(headers or {}),
        mimetype=JSON,
        charset="utf-8",
    )


def model_response(model: BaseModel, status: int = 200, headers: Mapping[str, str] | None = None) -> func.HttpResponse:
    return json_response(model.model_dump(mode="json", by_alias=True), status, headers)


def problem_response(problem: Problem, request_id: str, instance: str) -> func.HttpResponse:
    body: dict[str, Any] = {
        "type": problem.type_uri,
        "title": problem.title,
        "status": problem.status,
        "instance": instance,
        "requestId": request_id,
        **problem.extensions,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = [{"path": e.path, "message": e.message} for e in problem.errors]
    return func.HttpResponse(
        body=json.dumps(body),
        status_code=problem.status,
        headers=problem.headers,
        mimetype=PROBLEM_JSON,
        charset="utf-8",
    )


Handler = Callable[[RequestContext], func.HttpResponse]


@dataclass(frozen=True)
class CorsPolicy:
    """Browser access for the banner endpoints: only listed origins, no credentials."""

    allowed_origins: frozenset[str]
    max_age_seconds: int = 600
    allow_credentials: bool = False  # only where the API sets a first-party cookie (never with "*")

    def allows(self, origin: str | None) -> bool:
        return origin is not None and ("*" in self.allowed_origins or origin in self.allowed_origins)


def _cors_headers(policy: CorsPolicy, origin: str | None, methods: list[str]) -> dict[str, str]:
    if origin is None or not policy.allows(origin):
        return {}
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ", ".join(methods),
        "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, X-Request-Id, Sec-GPC",
        "Access-Control-Expose-Headers": "X-Request-Id",
        "Access-Control-Max-Age": str(policy.max_age_seconds),
        "Vary": "Origin",
    }
    if policy.allow_credentials and origin in policy.allowed_origins:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


INTERNAL_ERROR = Problem(500, "internal-error", "Internal error", "Quote the request id when reporting this.")


def _problem_of(error: Exception, name: str, request_id: str) -> Problem:
    if isinstance(error, Problem):
        return error
    if isinstance(error, DomainError):
        mapped = PROBLEM_TYPES.problem(error)
        if mapped is not None:
            return mapped
        log.error(
            "domain error %s has no problem type (error_table.py) request_id=%s", type(error).__name__, request_id
        )
        return INTERNAL_ERROR
    log.exception("unhandled error in %s request_id=%s", name, request_id)
    return INTERNAL_ERROR


def resource(
    bp: func.Blueprint,
    *,
    name: str,
    route: str,
    handlers: Mapping[str, Endpoint],
    auth_level: func.AuthLevel = func.AuthLevel.ANONYMOUS,
    cors: Callable[[], CorsPolicy] | None = None,
    body_limit: int = DEFAULT_BODY_LIMIT,
) -> None:
    """Register one HTTP function for ``route`` that dispatches on the method.

    Every method reaches the function so that an unsupported one gets a 405 problem with ``Allow``
    rather than the host's bare 404: the route lists no methods, which the host reads as all of
    them (TRACE included, which the library's method list cannot name). A problem's ``instance`` is
    the route template, never the path as sent: paths can hold personal data (a visitor id, an
    address typed by mistake).
    """
    allowed = sorted({m.upper() for m in handlers} | {"OPTIONS"})
    for method, endpoint in handlers.items():
        API.add(route, method, endpoint, auth_level == func.AuthLevel.FUNCTION, cors is not None)
    by_method: dict[str, Handler] = {m.upper(): e.handler for m, e in handlers.items()}

    def dispatch(req: func.HttpRequest) -> func.HttpResponse:
        started = time.perf_counter()
        request_id = _request_id(req)
        origin = req.headers.get("origin")
        cors_headers = _cors_headers(cors(), origin, allowed) if cors else {}
        ctx = RequestContext(req=req, request_id=request_id, body_limit=body_limit)
        method = req.method.upper()
        try:
            if method == "OPTIONS":
                response = func.HttpResponse(status_code=204, headers={"Allow": ", ".join(allowed)})
            else:
                handler = by_method.get(method)
                if handler is None:
                    raise problems.method_not_allowed(allowed)
                response = handler(ctx)
        except Exception as error:
            response = problem_response(_problem_of(error, name, request_id), request_id, f"/{route_prefix()}/{route}")
        for key, value in {**ctx.response_headers, **cors_headers, "X-Request-Id": request_id}.items():
            response.headers[key] = value
        log.info(
            "http %s %s status=%d request_id=%s duration_ms=%.1f",
            name,
            method,
            response.status_code,
            request_id,
            (time.perf_counter() - started) * 1000,
        )
        return response

    dispatch.__name__ = name
    dispatch.__qualname__ = name
    bp.function_name(name)(bp.route(route=route, methods=None, auth_level=auth_level)(dispatch))


def _request_id(req: func.HttpRequest) -> str:
    supplied = str(req.headers.get("x-request-id", ""))
    # Accept a caller's correlation id only when it is clearly an id, so logs never carry free text.
    if 8 <= len(supplied) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in supplied):
        return supplied
    return uuid.uuid4().hex
