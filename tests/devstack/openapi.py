"""SendGrid's OpenAPI documents as the contract tests read them.

A document (copied unchanged, with its licence, into ``contracts/sendgrid/``) is loaded into a
JSON Schema registry so that ``$ref``s resolve; ``Contract`` gives validators for a request body or
a documented answer, SendGrid's error shape, and the requests made to break a schema: every
assertion it makes (type, required, lengths, item counts, unique items, enum, format, property
counts), broken once at every place a request meets it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

CONTRACTS = Path(__file__).parent / "contracts" / "sendgrid"
MISSING = object()  # a mutation that removes the property

Path_ = tuple[str | int, ...]

SAMPLES: dict[str, Any] = {
    "null": None,
    "boolean": True,
    "integer": 7,
    "number": 1.5,
    "string": "text",
    "array": [],
    "object": {},
}

ASSERTIONS = {
    *("type", "enum", "const", "required", "format", "pattern", "additionalProperties"),
    *("minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties"),
    *("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    *("allOf", "anyOf", "oneOf", "not", "if", "dependentRequired", "prefixItems", "contains"),
}


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CONTRACTS / name).read_text(encoding="utf-8"))
    return document


def pointer(*parts: str) -> str:
    """A JSON pointer to the given keys (``/`` and ``~`` escaped as RFC 6901 says)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def nullable_to_type(schema: Any) -> Any:
    """OpenAPI 3.0's ``nullable``, left in these 3.1 documents, as JSON Schema says it."""
    if isinstance(schema, dict):
        schema = {k: nullable_to_type(v) for k, v in schema.items()}
        if schema.pop("nullable", False) is True:
            schema["type"] = [schema["type"], "null"]
        return schema
    if isinstance(schema, list):
        return [nullable_to_type(v) for v in schema]
    return schema


class Contract:
    def __init__(self, document: dict[str, Any], uri: str) -> None:
        self.document = document
        self.uri = uri
        self.registry: Registry[Any] = Registry().with_resource(uri, DRAFT202012.create_resource(document))
        self.resolver = self.registry.resolver(base_uri=uri)

    def resolved(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The schema with its ``$ref`` followed; keywords beside the ``$ref`` apply as well."""
        while "$ref" in schema:
            target = self.resolver.lookup(schema["$ref"]).contents
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def validator(self, at: str) -> Draft202012Validator:
        """Validates against the schema at the JSON pointer ``at``, formats (email) checked."""
        return Draft202012Validator(
            {"$ref": f"{self.uri}#{at}"}, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )

    def answer(self, path: str, method: str, status: int) -> Draft202012Validator | None:
        """The documented JSON answer of an operation for a status, or None when there is none."""
        response = self.document["paths"][path][method]["responses"].get(str(status))
        if response is None or "content" not in response:
            return None
        return self.validator(
            pointer("paths", path, method, "responses", str(status), "content", "application/json", "schema")
        )

    def request_body(self, path: str, method: str) -> dict[str, Any]:
        body = self.resolved(self.document["paths"][path][method]["requestBody"])
        return self.resolved(body["content"]["application/json"]["schema"])

    def errors(self) -> Draft202012Validator:
        """SendGrid's error answer: ``ErrorResponse``, with ``help`` a link or null as SendGrid sends it."""
        schema = nullable_to_type(copy.deepcopy(self.document["components"]["schemas"]["ErrorResponse"]))
        help_ = schema["properties"]["errors"]["items"]["properties"]["help"]
        assert help_["type"] == "object", "the spec now types help differently: review the correction"
        help_["type"] = ["object", "string", "null"]
        schema["required"] = ["errors"]
        schema["properties"]["errors"]["items"]["required"] = ["message", "field", "help"]
        schema["properties"]["errors"]["minItems"] = 1
        return Draft202012Validator(schema)

    def mutations(self, schema: dict[str, Any], value: Any, path: Path_ = ()) -> Iterator[tuple[str, Path_, Any]]:
        """``(keyword, path, new value)`` for each way the schema says ``value`` at ``path`` must not be."""
        schema = self.resolved(schema)
        types = _types(schema)
        for kind, sample in SAMPLES.items():
            if kind not in types:
                yield "type", path, sample
        if isinstance(value, str):
            if schema.get("minLength", 0) > 0:
                yield "minLength", path, "x" * (schema["minLength"] - 1)
            if "maxLength" in schema:
                yield "maxLength", path, "x" * (schema["maxLength"] + 1)
            if "enum" in schema:
                yield "enum", path, "not-" + "-".join(schema["enum"])
            if schema.get("format") == "email":
                yield "format", path, "no-at-sign.example.com"
        if isinstance(value, list) and value:
            if "maxItems" in schema:
                yield "maxItems", path, [variant(value[0], i) for i in range(schema["maxItems"] + 1)]
            if schema.get("uniqueItems"):
                yield "uniqueItems", path, [value[0], value[0]]
            if "items" in schema:
                yield from self.mutations(schema["items"], value[0], (*path, 0))
        if isinstance(value, dict):
            for name in schema.get("required", []):
                yield "required", (*path, name), MISSING
            for name, subschema in schema.get("properties", {}).items():
                if name in value:
                    yield from self.mutations(subschema, value[name], (*path, name))
            if "maxProperties" in schema:
                yield "maxProperties", path, {f"k{i}": "v" for i in range(schema["maxProperties"] + 1)}
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                for name in value:
                    if name not in schema.get("properties", {}):
                        for _, extra_path, new in self.mutations(extra, value[name], (*path, name)):
                            yield "additionalProperties", extra_path, new
                        break

    def assertions_in(self, schema: Any, seen: frozenset[str] = frozenset()) -> set[str]:
        """The assertion keywords a schema uses, through its ``$ref``s."""
        if isinstance(schema, list):
            return set().union(*(self.assertions_in(s, seen) for s in schema))
        if not isinstance(schema, dict):
            return set()
        found = {k for k in schema if k in ASSERTIONS}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            found |= self.assertions_in(self.resolver.lookup(ref).contents, seen | {ref})
        for sub in schema.get("properties", {}).values():
            found |= self.assertions_in(sub, seen)
        for key in ("items", "additionalProperties"):
            found |= self.assertions_in(schema.get(key), seen)
        return found


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set(declared or SAMPLES)
    if "number" in types:
        types.add("integer")
    return types


def variant(item: Any, number: int) -> Any:
    """A distinct copy of an array item: addresses and strings made unique, integers replaced."""
    if isinstance(item, dict):
        return {k: (f"v{number}.{v}" if k == "email" else variant(v, number)) for k, v in item.items()}
    if isinstance(item, list):
        return [variant(v, number) for v in item]
    if isinstance(item, str):
        return f"{item}-{number}"
    if isinstance(item, int) and not isinstance(item, bool):
        return number
    return item


def with_changes(base: Any, changes: dict[Path_, Any]) -> Any:
    body = copy.deepcopy(base)
    for path, value in changes.items():
        if not path:
            return value
        *parents, last = path
        node: Any = body
        for step in parents:
            node = node[step]
        if value is MISSING:
            del node[last]
        else:
            node[last] = value
    return body


def dotted(path: Path_) -> str | None:
    return ".".join(str(step) for step in path) or None


def related(error_field: str | None, field: str | None) -> bool:
    """The error names the field, a container of it, or a part of it."""
    if error_field is None or field is None:
        return error_field == field
    return error_field == field or field.startswith(error_field + ".") or error_field.startswith(field + ".")


def addresses_in(value: Any) -> Iterator[str]:
    """Every address in a request: ``email`` properties, and strings that hold an ``@``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "email" and isinstance(item, str):
                yield item
            else:
                yield from addresses_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from addresses_in(item)
    elif isinstance(value, str) and "@" in value:
        yield value
