"""The OpenAPI 3.1 document, generated from the same pydantic models that validate requests.

Every operation lists every status it can answer: its success (and the 200 of an idempotent
replay), the edge's own problems (400/413/415/422 for bodies, 401/403 for credentials, 405), and
each domain error it declares, with that error's problem type from the one table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from core.errors import DomainError
from core.problem_types import PROBLEM_TYPES
from core.problems import PROBLEM_BASE

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details. Never contains values from the request.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The route template (never the path as sent)."},
        "requestId": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "userBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "Signed-in user."},
    "staffBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Staff (Entra ID) token with app roles.",
    },
    "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
}

# The edge's own problems: (status, slug, title).
EDGE_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("malformed-json", "Malformed JSON"),
    401: ("unauthenticated", "Missing or invalid credentials"),
    403: ("forbidden", "Missing app role"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("body-too-large", "Body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-failed", "Validation failed (field paths, never values)"),
    503: ("service-misconfigured", "Temporarily unavailable"),
}


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Endpoint:
    handler: Callable[..., Any]
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    security: str = "anonymous"  # anonymous | user | staff | function
    tag: str = "general"
    errors: tuple[int | type[DomainError], ...] = ()
    query: type[BaseModel] | None = None  # query parameters, one field each
    path: Mapping[str, Any] = field(default_factory=dict)  # path parameter → type (for its pattern)
    headers: tuple[Header, ...] = ()
    replay_status: int | None = None  # an idempotent replay answers this instead of ``status``
    media_type: str = "application/json"  # text/html for pages


@dataclass
class ApiRegistry:
    operations: dict[tuple[str, str], Endpoint] = field(default_factory=dict)
    key_protected: set[tuple[str, str]] = field(default_factory=set)

    def add(self, path: str, method: str, endpoint: Endpoint, function_key: bool = False) -> None:
        self.operations[(path, method.lower())] = endpoint
        if function_key:
            self.key_protected.add((path, method.lower()))

    def document(self, route_prefix: str, version: str, servers: list[str] | None = None) -> dict[str, Any]:
        schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
        paths: dict[str, Any] = {}
        for (path, method), endpoint in sorted(self.operations.items()):
            full = f"/{route_prefix}/{path}" if route_prefix else f"/{path}"
            key = (path, method) in self.key_protected
            paths.setdefault(full, {})[method] = _operation(full, method, endpoint, schemas, key)
        document: dict[str, Any] = {
            "openapi": "3.1.0",
            "info": {
                "title": "Privacy backend",
                "version": version,
                "description": "Consent ledger, cookie preferences and data-subject requests. "
                "Errors are application/problem+json (RFC 9457); their `type` names the problem.",
            },
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
        }
        if servers:
            document["servers"] = [{"url": url} for url in servers]
        return document


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _parameters(path: str, endpoint: Endpoint, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = []
    for part in path.split("/"):
        if part.startswith("{"):
            name = part[1:-1]
            declared = endpoint.path.get(name)
            schema = TypeAdapter(declared).json_schema() if declared is not None else {"type": "string"}
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if endpoint.query is not None:
        query_schema = endpoint.query.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        schemas.update(query_schema.pop("$defs", {}))
        required = set(query_schema.get("required", []))
        for name, schema in query_schema.get("properties", {}).items():
            description = schema.pop("description", None)
            parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": schema}
            if description:
                parameter["description"] = description
            parameters.append(parameter)
    for header in endpoint.headers:
        parameters.append(
            {
                "name": header.name,
                "in": "header",
                "required": False,
                "description": header.description,
                "schema": dict(header.schema),
            }
        )
    return parameters


def _security(endpoint: Endpoint, function_key: bool) -> list[dict[str, list[str]]]:
    schemes = {"user": "userBearer", "staff": "staffBearer", "function": "functionKey"}
    if endpoint.security in schemes:
        return [{schemes[endpoint.security]: []}]
    if function_key:
        return [{"functionKey": []}]
    return []


def _problem_statuses(endpoint: Endpoint, function_key: bool) -> dict[int, list[tuple[str, str]]]:
    """Status → the problem types (slug, title) an operation can answer with it."""
    statuses: dict[int, list[tuple[str, str]]] = {}

    def add(status: int, slug: str, title: str) -> None:
        kinds = statuses.setdefault(status, [])
        if (slug, title) not in kinds:
            kinds.append((slug, title))

    codes = {405}
    if endpoint.request is not None:
        codes |= {400, 413, 415, 422}
    if endpoint.query is not None or endpoint.path:
        codes |= {422}
    if endpoint.security in {"user", "staff"}:
        codes |= {401}
    if endpoint.security == "staff":
        codes |= {403}
    for error in endpoint.errors:
        if isinstance(error, int):
            codes.add(error)
            continue
        kind = PROBLEM_TYPES.lookup(error)
        if kind is None:
            raise LookupError(f"{error.__name__} has no problem type: add it to error_table.py")
        add(kind.status, kind.slug, kind.title)
    for code in codes:
        if code in EDGE_PROBLEMS:
            add(code, *EDGE_PROBLEMS[code])
        else:
            statuses.setdefault(code, [])
    if function_key and endpoint.security != "function":
        statuses.setdefault(401, [])  # the host answers a missing key itself, without a body
    return statuses


def _operation(
    path: str, method: str, endpoint: Endpoint, schemas: dict[str, Any], function_key: bool
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "security": _security(endpoint, function_key),
        "responses": {},
    }
    parameters = _parameters(path, endpoint, schemas)
    if parameters:
        operation["parameters"] = parameters
    if endpoint.request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_ref(endpoint.request, schemas)}},
        }
    success: dict[str, Any] = {"description": "OK" if endpoint.status == 200 else "Done"}
    if endpoint.response is not None:
        success["content"] = {endpoint.media_type: {"schema": _schema_ref(endpoint.response, schemas)}}
    elif endpoint.media_type != "application/json":
        success["content"] = {endpoint.media_type: {"schema": {"type": "string"}}}
    operation["responses"][str(endpoint.status)] = success
    if endpoint.replay_status is not None and endpoint.replay_status != endpoint.status:
        operation["responses"][str(endpoint.replay_status)] = {**success, "description": "Replay: nothing new recorded"}
    for code, kinds in sorted(_problem_statuses(endpoint, function_key).items()):
        if not kinds:  # answered by the host, not by this app
            operation["responses"][str(code)] = {"description": "Missing or invalid function key"}
            continue
        operation["responses"][str(code)] = {
            "description": "; ".join(f"`{slug}`: {title}" for slug, title in kinds),
            "content": {
                endpoint_problem_media(endpoint): {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": {
                        slug: {"value": {"type": PROBLEM_BASE + slug, "title": title, "status": code}}
                        for slug, title in kinds
                    },
                }
            },
        }
    return operation


def endpoint_problem_media(endpoint: Endpoint) -> str:
    # Pages answer people with a page, errors included.
    return "text/html" if endpoint.media_type == "text/html" else "application/problem+json"


API = ApiRegistry()
