"""The OpenAPI document says what the API does: every status, the host's own answers, the exact
shape of parameters and bodies, and the content type of each answer (tests/fuzz checks it live)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

import function_app  # noqa: F401 - registers every route and installs the error table
from core.http import route_prefix
from core.models import EmailAddress, QueryTime
from core.openapi import API

DOCUMENT = API.document(route_prefix(), "test")
OPERATIONS = [
    (path, method, operation) for path, methods in DOCUMENT["paths"].items() for method, operation in methods.items()
]


def operation(path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["paths"][path][method]
    return found


def test_every_operation_lists_the_hosts_own_answers_and_no_405() -> None:
    shadowed = {("/api/certificates/{requestId}", "get")}  # GET /api/certificates/verify: the check's route
    for path, method, op in OPERATIONS:
        responses = op["responses"]
        assert {"414", "431"} <= set(responses), (method, path)
        assert ("405" in responses) == ((path, method) in shadowed), (method, path)
        if "{" in path:
            assert {"404", "422"} <= set(responses), (method, path)


def test_function_key_routes_document_the_hosts_401_and_both_ways_to_send_the_key() -> None:
    keyed = [(path, method) for path, method in API.key_protected]
    assert keyed
    for path, method in keyed:
        op = operation(f"/api/{path}", method)
        assert "401" in op["responses"]
        assert op["security"] == [{"functionKey": []}, {"functionKeyQuery": []}]


def test_maps_with_key_patterns_refuse_other_keys() -> None:
    decisions = DOCUMENT["components"]["schemas"]["DecisionsRequest"]["properties"]["decisions"]
    assert "patternProperties" not in decisions
    assert decisions["propertyNames"]["pattern"] == "^[a-z][a-z0-9.-]{1,63}$"
    assert decisions["additionalProperties"] == {"type": "boolean"}


def test_query_parameters_are_text_or_absent_never_null() -> None:
    for path, method, op in OPERATIONS:
        for parameter in op.get("parameters", []):
            if parameter["in"] == "query":
                assert "null" not in str(parameter["schema"]), (method, path, parameter["name"])


def test_the_verification_page_answers_html_with_and_without_a_valid_token() -> None:
    page = operation("/api/requests/verify", "get")["responses"]
    assert set(page["200"]["content"]) == {"text/html"}
    assert set(page["400"]["content"]) == {"text/html"}
    assert "422" not in page
    confirm = operation("/api/requests/verify", "post")
    assert set(confirm["requestBody"]["content"]) == {"application/json", "application/x-www-form-urlencoded"}
    assert set(confirm["responses"]["200"]["content"]) == {"application/json", "text/html"}
    for status in ("400", "409", "410"):
        assert set(confirm["responses"][status]["content"]) == {"application/problem+json", "text/html"}


def test_staff_documents_in_two_formats_list_both_and_answer_problems_as_json() -> None:
    """The incident report and the notice preview are read by staff tools, not browsers: a `format`
    query chooses the success's type, and a bad id or query is a 422 problem like any other."""
    preview = operation("/api/staff/incidents/{incidentId}/notices/{noticeId}/preview", "get")["responses"]
    assert set(preview["200"]["content"]) == {"text/html", "text/plain"}
    report = operation("/api/staff/incidents/{incidentId}/authority-report", "get")["responses"]
    assert report["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AuthorityReportView"
    }
    assert set(report["200"]["content"]) == {"application/json", "text/html"}
    for responses in (preview, report):
        for status in ("404", "422"):
            assert "application/problem+json" in responses[status]["content"]
            assert "text/html" not in responses[status]["content"]


def test_degraded_health_answers_the_health_view() -> None:
    degraded = operation("/api/health", "get")["responses"]["503"]["content"]
    assert degraded == {"application/json": {"schema": {"$ref": "#/components/schemas/HealthView"}}}


def test_the_document_names_its_server_and_the_certificate_it_serves() -> None:
    assert DOCUMENT["servers"] == [{"url": "/", "description": "The origin this document is served from."}]
    certificate = operation("/api/certificates/{requestId}", "get")["responses"]["200"]["content"]
    assert certificate["application/json"]["schema"] == {"$ref": "#/components/schemas/DeletionCertificate"}


ADDRESS = TypeAdapter(EmailAddress)


@pytest.mark.parametrize(
    "address", ["ada.lovelace@example.com", "o'brien+news@mail.example.org", "x@a-b.co", f"{'l' * 64}@example.com"]
)
def test_addresses_the_document_admits_are_accepted(address: str) -> None:
    assert ADDRESS.validate_python(address)


@pytest.mark.parametrize(
    "address",
    [
        " ada@example.com",  # no trimming: the document admits no spaces
        "ada@example.com\n",  # Python's $ would match before it; ECMAScript's does not
        f"{'l' * 65}@example.com",  # local part over 64
        f"ada@{'d' * 64}.com",  # label over 63
        "ada@example.test",  # special-use name
        "ada@xn--bcher-kva.de",  # no IDNA labels
        "ada@example.c0m",  # the top-level domain is letters
        "ada@localhost",
        "ada.@example.com",
    ],
)
def test_addresses_outside_the_document_are_refused(address: str) -> None:
    with pytest.raises(ValidationError):
        ADDRESS.validate_python(address)


TIME = TypeAdapter(QueryTime)


def test_query_times_are_rfc_3339_with_their_offset() -> None:
    assert TIME.validate_python("2026-01-31T09:00:00+02:00") == datetime(2026, 1, 31, 7, tzinfo=UTC)
    assert TIME.validate_python("9999-12-31T23:59:59-23:59") == datetime.max.replace(tzinfo=UTC)
    assert TIME.validate_python("0001-01-01T00:00:00+23:59") == datetime.min.replace(tzinfo=UTC)
    for refused in ("2026-01-31T09:00:00", "2026-01-31", "1767171600", "2026-02-30T00:00:00Z", "soon"):
        with pytest.raises(ValidationError):
            TIME.validate_python(refused)
