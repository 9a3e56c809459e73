"""The OpenAPI 3.1 document, generated from the same pydantic models that validate requests.

Every operation lists every status it can answer: its success (and the 200 of an idempotent
replay), the edge's own problems (400/413/415/422 for bodies, 422 for path and query values,
401/403 for credentials), each domain error it declares, with that error's problem type from the
one table, and the answers the Functions host gives before the app runs (401 without a function
key, 404 when the path fits no route, 408/414/431 for requests it will not read). A method a path
does not list is answered 405 with ``Allow`` (OPTIONS: 204 with ``Allow``); OpenAPI has no place
for undeclared methods, so the document's description says it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from core.errors import DomainError
from core.problem_types import PROBLEM_TYPES
from core.problems import PROBLEM_BASE

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
HTML = "text/html"
FORM = "application/x-www-form-urlencoded"

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
    "functionKeyQuery": {
        "type": "apiKey",
        "in": "query",
        "name": "code",
        "description": "The function key as a query parameter; the header wins when both are sent.",
    },
}

# The edge's own problems: (status, slug, title).
EDGE_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("malformed-json", "Malformed JSON"),
    401: ("unauthenticated", "Missing or invalid credentials"),
    403: ("forbidden", "Missing app role"),
    404: ("not-found", "Not found"),
    413: ("body-too-large", "Body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-failed", "Validation failed (field paths, never values)"),
    503: ("service-misconfigured", "Temporarily unavailable"),
}

# What the Functions host answers before the app runs: type about:blank, a title, the status. Azure's
# host sends some of them without a body; the local host (devstack/functions_host) always sends one.
HOST_ANSWERS: dict[int, str] = {
    401: "Missing or wrong function key (`x-functions-key` header or `code` query parameter)",
    404: "No route: a path parameter that does not fit one path segment (empty, `.` or `..`)",
    408: "The request body did not arrive in time",
    413: "The body is larger than the host takes",
    414: "The request line is longer than 8 KB",
    431: "A header field is longer than 8 KB",
}

DESCRIPTION = (
    "Consent ledger, cookie preferences and data-subject requests. Errors are application/problem+json "
    "(RFC 9457); their `type` names the problem. A method that a path does not list is answered "
    "405 `method-not-allowed` with `Allow`; OPTIONS is answered 204 with `Allow` (and CORS headers for "
    "the banner's origins). The Functions host answers some requests itself, before the app: those "
    "problems have type `about:blank` and no `requestId`."
)


class _SchemaGenerator(GenerateJsonSchema):
    """pydantic's JSON Schema, with maps whose keys have a pattern stated as ``propertyNames``.

    pydantic writes ``patternProperties`` for them, which leaves every other key allowed with any
    value; the models refuse such keys, so the document says so.
    """

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        json_schema = super().dict_schema(schema)
        patterns = json_schema.pop("patternProperties", None)
        if patterns:
            ((pattern, values),) = patterns.items()
            json_schema["propertyNames"] = {**json_schema.get("propertyNames", {}), "pattern": pattern}
            json_schema["additionalProperties"] = values
        return json_schema


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    set_by_browser: bool = False  # a forbidden header name: scripts cannot send it, browsers add it


CORS_NOTE = (
    "Browsers may call this operation from the origins listed in `CORS_ALLOWED_ORIGINS`: a preflight "
    "`OPTIONS` is answered 204 with `Access-Control-Allow-Origin` (that origin, never `*`), "
    "`Access-Control-Allow-Methods`, `Access-Control-Allow-Headers` (`Authorization`, `Content-Type`, "
    "`Idempotency-Key`, `X-Request-Id`, `Sec-GPC`) and `Access-Control-Max-Age`; other origins get no "
    "CORS headers, so the browser withholds the answer. Credentials are allowed only where the API "
    "sets the visitor cookie (`VISITOR_COOKIE_DOMAIN`)."
)

TAGS: list[dict[str, str]] = [
    {"name": "cookies", "description": "The website's cookie banner: one read per page view, a write per decision."},
    {"name": "catalog", "description": "Published purposes, cookie categories and the policy version in force."},
    {"name": "consent", "description": "Signed-in users' consents and product backends' checks."},
    {"name": "requests", "description": "Data-subject requests: access and erasure."},
    {"name": "web", "description": "The banner script and the privacy page, served for websites."},
    {"name": "staff", "description": "Staff operations (Entra ID app roles); every one is audited."},
]


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
    media_type: str = JSON  # of the success: text/html for pages
    alternatives: tuple[str, ...] = ()  # other media types of the success as text (a `format` query chooses)
    page: bool = False  # a page for a person's browser: its declared problems, a bad query too, are pages
    view_statuses: Mapping[int, str] = field(default_factory=dict)  # other statuses answering the view
    form: type[BaseModel] | None = None  # also takes this form (a page's POST), answered with pages


@dataclass
class ApiRegistry:
    operations: dict[tuple[str, str], Endpoint] = field(default_factory=dict)
    key_protected: set[tuple[str, str]] = field(default_factory=set)
    cross_origin: set[tuple[str, str]] = field(default_factory=set)

    def add(self, path: str, method: str, endpoint: Endpoint, function_key: bool = False, cors: bool = False) -> None:
        self.operations[(path, method.lower())] = endpoint
        if function_key:
            self.key_protected.add((path, method.lower()))
        if cors:
            self.cross_origin.add((path, method.lower()))

    def document(self, route_prefix: str, version: str, public_origin: str | None = None) -> dict[str, Any]:
        schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
        paths: dict[str, Any] = {}
        for (path, method), endpoint in sorted(self.operations.items()):
            full = f"/{route_prefix}/{path}" if route_prefix else f"/{path}"
            key = (path, method) in self.key_protected
            operation = _operation(full, method, endpoint, schemas, key)
            if (path, method) in self.cross_origin:
                operation["description"] = CORS_NOTE
                operation["x-cors"] = True
            if any(method not in self._methods(other) for other in self._shadowing(path)):
                operation["responses"]["405"] = {
                    "description": "`method-not-allowed`: a literal route of another resource takes this path",
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
                operation["responses"] = dict(sorted(operation["responses"].items()))
            paths.setdefault(full, {})[method] = operation
        # Relative to where the document is served: paths carry the route prefix themselves.
        servers = [{"url": "/", "description": "The origin this document is served from."}]
        if public_origin:
            servers.append({"url": public_origin, "description": "This deployment (PUBLIC_API_URL)."})
        return {
            "openapi": "3.1.0",
            "info": {"title": "Privacy backend", "version": version, "description": DESCRIPTION},
            "servers": servers,
            "tags": TAGS,
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
        }

    def _methods(self, path: str) -> set[str]:
        return {method for route, method in self.operations if route == path}

    def _shadowing(self, path: str) -> list[str]:
        """Routes the host prefers for some values of this route's parameters: a literal segment
        beats a parameter (``certificates/verify`` before ``certificates/{requestId}``)."""
        parts = path.split("/")
        found = []
        for other in {route for route, _ in self.operations} - {path}:
            others = other.split("/")
            if len(others) == len(parts) and all(
                mine == theirs or (mine.startswith("{") and not theirs.startswith("{"))
                for mine, theirs in zip(parts, others, strict=True)
            ):
                found.append(other)
        return found


def json_schema_of(kind: Any) -> dict[str, Any]:
    """A type's JSON Schema as the document writes it (maps with key patterns included)."""
    schema: dict[str, Any] = TypeAdapter(kind).json_schema(schema_generator=_SchemaGenerator)
    return schema


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}", schema_generator=_SchemaGenerator
    )


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = _model_schema(model)
    _add_schemas(schemas, schema.pop("$defs", {}))
    _add_schemas(schemas, {model.__name__: schema})
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _examples(model: type[BaseModel]) -> dict[str, Any]:
    """A view's examples (its ``json_schema_extra``) as the media type's examples."""
    extra = model.model_config.get("json_schema_extra")
    found = extra.get("examples") if isinstance(extra, dict) else None
    if not isinstance(found, list) or not found:
        return {}
    return {"examples": {f"example-{n}": {"value": value} for n, value in enumerate(found, start=1)}}


def _add_schemas(schemas: dict[str, Any], named: Mapping[str, Any]) -> None:
    """Components are named by their model's class name: two models of one name would leave every
    operation of one of them documenting the other's body."""
    for name, definition in named.items():
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two different models are named {name}: rename one")


def _as_sent(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema as it travels: a query value is text or absent, never JSON null."""
    schema = {k: v for k, v in schema.items() if not (k == "default" and v is None)}
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            return {**rest, **kept[0]}
        schema["anyOf"] = kept
    return schema


def _parameters(path: str, endpoint: Endpoint, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = []
    for part in path.split("/"):
        if part.startswith("{"):
            name = part[1:-1]
            declared = endpoint.path.get(name)
            schema = json_schema_of(declared) if declared is not None else {"type": "string"}
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if endpoint.query is not None:
        query_schema = _model_schema(endpoint.query)
        _add_schemas(schemas, query_schema.pop("$defs", {}))
        required = set(query_schema.get("required", []))
        for name, schema in query_schema.get("properties", {}).items():
            description = schema.pop("description", None)
            parameter: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": _as_sent(schema),
            }
            if description:
                parameter["description"] = description
            parameters.append(parameter)
    for header in endpoint.headers:
        parameter = {
            "name": header.name,
            "in": "header",
            "required": False,
            "description": header.description,
            "schema": dict(header.schema),
        }
        if header.set_by_browser:
            parameter["x-set-by"] = "browser"
        parameters.append(parameter)
    return parameters


def _security(endpoint: Endpoint, function_key: bool) -> list[dict[str, list[str]]]:
    if endpoint.security == "user":
        return [{"userBearer": []}]
    if endpoint.security == "staff":
        return [{"staffBearer": []}]
    if endpoint.security == "function" or function_key:
        return [{"functionKey": []}, {"functionKeyQuery": []}]
    return []


def _is_page(endpoint: Endpoint) -> bool:
    return endpoint.page


def _page_statuses(endpoint: Endpoint) -> set[int]:
    """The statuses a page answers with a page of its own (a bad link's 400); every other problem,
    the edge's and the domain's, is problem+json like anywhere else."""
    return {error for error in endpoint.errors if isinstance(error, int)} if _is_page(endpoint) else set()


ProblemKind = tuple[str, str, Mapping[str, Any]]  # slug, title, members an example shows besides them


def _problem_statuses(endpoint: Endpoint) -> dict[int, list[ProblemKind]]:
    """Status → the problem types (slug, title, example members) the app can answer with it."""
    statuses: dict[int, list[ProblemKind]] = {}

    def add(status: int, slug: str, title: str, example: Mapping[str, Any] | None = None) -> None:
        kinds = statuses.setdefault(status, [])
        if not any(kind[0] == slug for kind in kinds):
            kinds.append((slug, title, example or {}))

    codes: set[int] = set()
    if endpoint.request is not None:
        codes |= {400, 413, 415, 422}
    if (endpoint.query is not None or endpoint.path) and 400 not in _page_statuses(endpoint):
        codes |= {422}  # a page for people answers a bad query with a page (its declared 400)
    if endpoint.security in {"user", "staff"}:
        codes |= {401, 503}  # 503: the identity provider's keys cannot be loaded
    if endpoint.security == "staff":
        codes |= {403}
    for error in endpoint.errors:
        if isinstance(error, int):
            codes.add(error)
            continue
        kind = PROBLEM_TYPES.lookup(error)
        if kind is None:
            raise LookupError(f"{error.__name__} has no problem type: add it to error_table.py")
        add(kind.status, kind.slug, kind.title, kind.example)
    for code in codes:
        if code in EDGE_PROBLEMS:
            add(code, *EDGE_PROBLEMS[code])
        else:
            statuses.setdefault(code, [])
    return statuses


def _host_statuses(endpoint: Endpoint, function_key: bool) -> list[int]:
    statuses = [414, 431]
    if function_key:
        statuses.append(401)
    if endpoint.path:
        statuses.append(404)
    if endpoint.request is not None or endpoint.form is not None:
        statuses += [408, 413]
    return statuses


@dataclass
class _Response:
    descriptions: list[str] = field(default_factory=list)
    content: dict[str, Any] = field(default_factory=dict)

    def describe(self, text: str) -> None:
        if text not in self.descriptions:
            self.descriptions.append(text)

    def problem(
        self,
        media: str,
        slug: str | None = None,
        title: str | None = None,
        status: int = 0,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        schema = {"type": "string"} if media == HTML else {"$ref": "#/components/schemas/Problem"}
        entry = self.content.setdefault(media, {"schema": schema})
        if slug is not None and media != HTML:
            example = {"type": PROBLEM_BASE + slug, "title": title, "status": status, **(extra or {})}
            entry.setdefault("examples", {})[slug] = {"summary": title, "value": example}

    def render(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {"description": "; ".join(self.descriptions)}
        if self.content:
            rendered["content"] = self.content
        return rendered


def _operation(
    path: str, method: str, endpoint: Endpoint, schemas: dict[str, Any], function_key: bool
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "security": _security(endpoint, function_key),
    }
    parameters = _parameters(path, endpoint, schemas)
    if parameters:
        operation["parameters"] = parameters
    if endpoint.request is not None:
        content = {JSON: {"schema": _schema_ref(endpoint.request, schemas)}}
        if endpoint.form is not None:
            content[FORM] = {"schema": _schema_ref(endpoint.form, schemas)}
        operation["requestBody"] = {"required": True, "content": content}

    responses: dict[int, _Response] = {}

    def at(status: int) -> _Response:
        return responses.setdefault(status, _Response())

    view: dict[str, Any] = {}
    if endpoint.response is not None:
        view[endpoint.media_type] = {"schema": _schema_ref(endpoint.response, schemas), **_examples(endpoint.response)}
    elif endpoint.media_type != JSON:  # a page, a script, a style sheet
        view[endpoint.media_type] = {"schema": {"type": "string"}}
    for media in endpoint.alternatives:
        view[media] = {"schema": {"type": "string"}}
    if endpoint.form is not None:
        view[HTML] = {"schema": {"type": "string"}}
    success = {endpoint.status: "OK" if endpoint.status == 200 else "Done"}
    if endpoint.replay_status is not None and endpoint.replay_status != endpoint.status:
        success[endpoint.replay_status] = "Replay: nothing new recorded"
    for status, text in {**success, **endpoint.view_statuses}.items():
        at(status).describe(text)
        at(status).content.update(view)

    own_pages = _page_statuses(endpoint)
    domain_statuses = {
        kind.status
        for error in endpoint.errors
        if not isinstance(error, int) and (kind := PROBLEM_TYPES.lookup(error)) is not None
    }
    for status, kinds in _problem_statuses(endpoint).items():
        problem_media = HTML if status in own_pages else PROBLEM_JSON
        if not kinds:
            at(status).describe("A problem page" if status in own_pages else "A problem")
            at(status).problem(problem_media)
        for slug, title, example in kinds:
            at(status).describe(f"`{slug}`: {title}")
            at(status).problem(problem_media, slug, title, status, example)
        if endpoint.form is not None and status in domain_statuses:
            at(status).problem(HTML)  # the form's answers are pages, errors included
    for status in _host_statuses(endpoint, function_key):
        at(status).describe(f"From the Functions host: {HOST_ANSWERS[status]}")
        at(status).problem(PROBLEM_JSON)

    operation["responses"] = {str(status): responses[status].render() for status in sorted(responses)}
    return operation


API = ApiRegistry()
