"""The OpenAPI 3.1 document, generated from the same pydantic models that validate requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details. Never contains values from the request.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
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
    "userBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Signed-in user.",
    },
    "staffBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Staff (Entra ID) token with app roles.",
    },
    "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
}

STATUS_TEXT = {
    400: "Malformed JSON",
    401: "Missing or invalid token",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Validation failed (field paths, never values)",
    503: "Temporarily unavailable",
}


@dataclass(frozen=True)
class Endpoint:
    handler: Callable[..., Any]
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    security: str = "anonymous"  # anonymous | user | staff | function
    tag: str = "general"
    errors: tuple[int, ...] = ()
    query: tuple[tuple[str, str], ...] = ()  # (name, description), all required
    headers: tuple[tuple[str, str], ...] = ()  # optional request headers, (name, description)


@dataclass
class ApiRegistry:
    operations: dict[tuple[str, str], Endpoint] = field(default_factory=dict)

    def add(self, path: str, method: str, endpoint: Endpoint) -> None:
        self.operations[(path, method.lower())] = endpoint

    def document(self, route_prefix: str, version: str) -> dict[str, Any]:
        schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
        paths: dict[str, Any] = {}
        for (path, method), endpoint in sorted(self.operations.items()):
            full = f"/{route_prefix}/{path}" if route_prefix else f"/{path}"
            paths.setdefault(full, {})[method] = _operation(full, method, endpoint, schemas)
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "Privacy backend",
                "version": version,
                "description": "Consent ledger and cookie preferences. Errors are application/problem+json.",
            },
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
        }


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(path: str, method: str, endpoint: Endpoint, schemas: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "responses": {},
    }
    parameters = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for part in path.split("/")
        if part.startswith("{")
    ]
    parameters += [
        {"name": name, "in": "query", "required": True, "description": text, "schema": {"type": "string"}}
        for name, text in endpoint.query
    ]
    parameters += [
        {"name": name, "in": "header", "required": False, "description": text, "schema": {"type": "string"}}
        for name, text in endpoint.headers
    ]
    if parameters:
        operation["parameters"] = parameters
    if endpoint.security == "user":
        operation["security"] = [{"userBearer": []}]
    elif endpoint.security == "staff":
        operation["security"] = [{"staffBearer": []}]
    elif endpoint.security == "function":
        operation["security"] = [{"functionKey": []}]
    else:
        operation["security"] = []
    if endpoint.request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_ref(endpoint.request, schemas)}},
        }
    success: dict[str, Any] = {"description": "OK" if endpoint.status == 200 else "Done"}
    if endpoint.response is not None:
        success["content"] = {"application/json": {"schema": _schema_ref(endpoint.response, schemas)}}
    operation["responses"][str(endpoint.status)] = success
    codes = set(endpoint.errors) | {405}
    if endpoint.request is not None:
        codes |= {400, 413, 415, 422}
    if endpoint.security in {"user", "staff"}:
        codes |= {401}
    if endpoint.security == "staff":
        codes |= {403}
    for code in sorted(codes):
        operation["responses"][str(code)] = {
            "description": STATUS_TEXT.get(code, "Error"),
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return operation


API = ApiRegistry()
