"""The HTTP edge: one function per resource, method dispatch, strict bodies, problem+json, CORS, request ids.

Triggers stay thin: they declare a resource with one handler per method; everything a serious API
does on every call (405 with Allow, body limits, validation errors by field path, request ids in
logs, CORS for browser callers) happens here once.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from core import problems
from core.openapi import API, Endpoint
from core.problems import FieldError, Problem

log = logging.getLogger("privacy.http")

T = TypeVar("T", bound=BaseModel)

BANNER_BODY_LIMIT = 16 * 1024
DEFAULT_BODY_LIMIT = 64 * 1024
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


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
        first = forwarded.split(",")[-1].strip()
        if first.startswith("["):  # [v6]:port
            return first[1 : first.find("]")]
        if first.count(":") == 1:  # v4:port
            return first.split(":")[0]
        return first

    def json_body(self, model: type[T]) -> T:
        """The body validated against ``model``; a problem (400/413/415/422) otherwise."""
        raw = self.req.get_body() or b""
        declared = self.header("content-length")
        if len(raw) > self.body_limit or (declared and declared.isdigit() and int(declared) > self.body_limit):
            raise problems.body_too_large(self.body_limit)
        content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        if content_type and content_type != JSON and not content_type.endswith("+json"):
            raise problems.unsupported_media_type()
        try:
            data = json.loads(raw) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise problems.malformed_json() from None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise problems.validation_failed(field_errors(exc)) from None


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Field paths and reasons from pydantic, without the offending input values."""
    errors = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        errors.append(FieldError(path=_safe_path(error), message=_message_without_values(error)))
    return errors


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
    # pydantic messages can quote the input (e.g. literal_error lists choices, which is fine, but
    # string_pattern_mismatch quotes the pattern only); value-echoing types get a fixed text.
    kind = str(error.get("type", ""))
    if kind in {"json_invalid", "value_error", "assertion_error"}:
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

    def allows(self, origin: str | None) -> bool:
        return origin is not None and ("*" in self.allowed_origins or origin in self.allowed_origins)


def _cors_headers(policy: CorsPolicy, origin: str | None, methods: list[str]) -> dict[str, str]:
    if not policy.allows(origin):
        return {}
    assert origin is not None
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ", ".join(methods),
        "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key, X-Request-Id, Sec-GPC",
        "Access-Control-Expose-Headers": "X-Request-Id",
        "Access-Control-Max-Age": str(policy.max_age_seconds),
        "Vary": "Origin",
    }


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
    rather than the host's bare 404.
    """
    allowed = sorted({m.upper() for m in handlers} | {"OPTIONS"})
    for method, endpoint in handlers.items():
        API.add(route, method, endpoint)
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
        except Problem as problem:
            response = problem_response(problem, request_id, _path(req.url))
        except Exception:
            log.exception("unhandled error in %s request_id=%s", name, request_id)
            response = problem_response(
                Problem(500, "internal-error", "Internal error", "Quote the request id when reporting this."),
                request_id,
                _path(req.url),
            )
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
    bp.function_name(name)(bp.route(route=route, methods=list(ALL_METHODS), auth_level=auth_level)(dispatch))


def _request_id(req: func.HttpRequest) -> str:
    supplied = str(req.headers.get("x-request-id", ""))
    # Accept a caller's correlation id only when it is clearly an id, so logs never carry free text.
    if 8 <= len(supplied) <= 64 and all(c.isalnum() or c in "-_" for c in supplied):
        return supplied
    return uuid.uuid4().hex


def _path(url: str) -> str:
    # The instance is the path only: query strings can carry personal data or keys.
    without_scheme = url.split("://", 1)[-1]
    slash = without_scheme.find("/")
    return without_scheme[slash:].split("?", 1)[0] if slash >= 0 else "/"
