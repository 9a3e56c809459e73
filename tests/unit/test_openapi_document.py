"""The OpenAPI document says what the API does: every status, the host's own answers, the exact
shape of parameters and bodies, and the content type of each answer (tests/fuzz checks it live)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, TypeAdapter, ValidationError

import function_app  # noqa: F401 - installs the error table
import function_index
from core.http import route_prefix
from core.models import EmailAddress, QueryTime
from core.openapi import API, _schema_ref
from functions.incidents.models import IncidentRequest
from functions.notices.models import DisclosureRequest, NoticeRequest

function_index.load_all()  # every capability registers its routes
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


def test_the_incident_notices_and_the_notice_board_have_components_of_their_own() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert set(schemas["IncidentNoticeRequest"]["properties"]) == {"subject", "content"}
    assert "inService" in schemas["NoticeRequest"]["properties"]
    incident_notice = operation("/api/staff/incidents/{incidentId}/notices", "post")
    assert incident_notice["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IncidentNoticeRequest"
    }


def _component(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]})


NOTICE = {"kind": "policy-change", "title": "New policy", "text": "What changed."}
DISCLOSURE = {
    "authority": "A court",
    "instrument": "court-order",
    "legalBasis": "Docket 17",
    "categories": ["personal-information"],
    "subjects": ["usr_1"],
    "disclosed": "The account's name.",
    "disclosedAt": "2026-01-01T00:00:00Z",
    "outcome": "disclosed",
    "approvedBy": "legal-1",
}
AWARE = "2026-01-01T00:00:00Z"
INCIDENT = {
    "title": "Backup copied",
    "awareAt": AWARE,
    "description": "An outsider copied a backup.",
    "contactPoint": "The DPO",
}


@pytest.mark.parametrize(
    ("component", "model", "body"),
    [
        ("NoticeRequest", NoticeRequest, NOTICE),
        ("NoticeRequest", NoticeRequest, {**NOTICE, "inService": False}),
        ("NoticeRequest", NoticeRequest, {**NOTICE, "byEmail": False}),
        ("NoticeRequest", NoticeRequest, {**NOTICE, "inService": False, "byEmail": False}),
        ("NoticeRequest", NoticeRequest, {**NOTICE, "title": "\x85"}),  # whitespace to Python, not to ECMAScript
        ("NoticeRequest", NoticeRequest, {**NOTICE, "title": " \x1c\u3000"}),
        ("NoticeRequest", NoticeRequest, {**NOTICE, "link": "https://example.com/\x1cpolicy"}),
        ("NoticeRequest", NoticeRequest, {**NOTICE, "link": "https://example.com/policy"}),
        ("DisclosureRequest", DisclosureRequest, DISCLOSURE),
        ("DisclosureRequest", DisclosureRequest, {**DISCLOSURE, "gagUntil": "2027-01-01T00:00:00Z"}),
        (
            "DisclosureRequest",
            DisclosureRequest,
            {**DISCLOSURE, "gagUntil": "2027-01-01T00:00:00Z", "gagReason": "Order 4"},
        ),
        ("DisclosureRequest", DisclosureRequest, {**DISCLOSURE, "gagUntil": None, "gagReason": None}),
        ("IncidentRequest", IncidentRequest, INCIDENT),
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "categories": ["personal-information"]}),
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "categories": ["0"]}),  # not in the inventory
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "jurisdictions": ["GDPR", "US-CO"]}),
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "jurisdictions": ["US-ZZ"]}),  # no known rules
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "breachTime": {"kind": "date"}}),
        (
            "IncidentRequest",
            IncidentRequest,
            {**INCIDENT, "breachTime": {"kind": "estimate", "at": INCIDENT["awareAt"]}},
        ),
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "breachTime": {"kind": "range", "at": AWARE}}),
        (
            "IncidentRequest",
            IncidentRequest,
            {**INCIDENT, "breachTime": {"kind": "range", "start": "2025-12-01T00:00:00Z", "end": AWARE}},
        ),
        (
            "IncidentRequest",
            IncidentRequest,
            {**INCIDENT, "breachTime": {"kind": "range", "start": AWARE, "end": "2025-12-01T00:00:00Z"}},
        ),
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "approxPeople": 120.0, "residents": {"US-CO": 2e1}}),
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "approxPeople": 120.5}),
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "approxRecords": 2**53 - 1}),
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "approxRecords": 2**53}),  # no longer exact once stored
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "approxPeople": "120"}),
        ("IncidentRequest", IncidentRequest, {**INCIDENT, "residents": {"US-CO": -1.0}}),
    ],
)
def test_the_document_and_the_model_agree_on_a_body(
    component: str, model: type[BaseModel], body: dict[str, Any]
) -> None:
    """Rules across fields, sets the app declares and what counts as blank: the document says what
    the model checks, so a body is valid to both or to neither."""
    documented = _component(component).is_valid(body)
    try:
        model.model_validate_json(json.dumps(body))
    except ValidationError:
        accepted = False
    else:
        accepted = True
    assert documented == accepted, body


def test_free_text_is_kept_without_the_whitespace_around_it() -> None:
    body = {**NOTICE, "title": "\u3000 New policy \x85"}
    assert NoticeRequest.model_validate_json(json.dumps(body)).title == "New policy"


def test_a_range_is_kept_earliest_first_and_counts_are_integers() -> None:
    body = {
        **INCIDENT,
        "approxPeople": 120.0,
        "breachTime": {"kind": "range", "start": AWARE, "end": "2025-12-01T00:00Z"},
    }
    incident = IncidentRequest.model_validate_json(json.dumps(body))
    assert incident.breach_time is not None
    assert (incident.breach_time.start, incident.breach_time.end) == (
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert incident.approx_people == 120
    assert type(incident.approx_people) is int


def test_two_models_of_one_name_cannot_both_be_components() -> None:
    class Twin(BaseModel):
        a: int

    first = Twin

    class Twin(BaseModel):  # type: ignore[no-redef]
        b: str

    schemas: dict[str, Any] = {}
    _schema_ref(first, schemas)
    with pytest.raises(ValueError, match="two different models are named Twin"):
        _schema_ref(Twin, schemas)
