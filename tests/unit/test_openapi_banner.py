"""What the OpenAPI document tells a banner's developer: CORS, the browser's own header, revisions,
the 409's members, examples, the deployment's server."""

from __future__ import annotations

from typing import Any

import function_app  # noqa: F401 - installs the error table
import function_index
from core.http import CorsPolicy, _cors_headers, route_prefix
from core.openapi import API

function_index.load_all()  # every capability registers its routes
DOCUMENT = API.document(route_prefix(), "test", "https://privacy.example")
COOKIES = "/api/cookies/{visitorId}"


def operation(path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["paths"][path][method]
    return found


def test_the_deployment_is_a_server_beside_the_documents_own_origin() -> None:
    assert DOCUMENT["servers"][1] == {
        "url": "https://privacy.example",
        "description": "This deployment (PUBLIC_API_URL).",
    }
    assert {tag["name"] for tag in DOCUMENT["tags"]} >= {"cookies", "catalog", "web"}


def test_browser_operations_explain_cors_and_others_do_not() -> None:
    for path, method in (
        (COOKIES, "get"),
        (COOKIES, "put"),
        ("/api/cookies/{visitorId}/proof", "get"),
        ("/api/catalog", "get"),
        ("/api/notices/active", "get"),
        ("/api/privacy-facts", "get"),
        ("/api/retention", "get"),
    ):
        assert operation(path, method)["x-cors"] is True
        assert "CORS_ALLOWED_ORIGINS" in operation(path, method)["description"]
    assert "x-cors" not in operation("/api/consents", "post")


def test_sec_gpc_is_marked_as_set_by_the_browser_and_ids_have_their_patterns() -> None:
    parameters = {p["name"]: p for p in operation(COOKIES, "put")["parameters"]}
    assert parameters["Sec-GPC"]["x-set-by"] == "browser"
    assert parameters["Idempotency-Key"]["schema"]["pattern"] == "^[A-Za-z0-9_.:-]{8,128}$"
    assert parameters["visitorId"]["schema"]["pattern"] == "^[A-Za-z0-9_-]{16,64}$"
    gpc = {p["name"]: p for p in operation(COOKIES, "get")["parameters"]}["gpc"]
    assert gpc["in"] == "query"


def test_the_409_example_shows_the_current_version_and_revision() -> None:
    examples = operation(COOKIES, "put")["responses"]["409"]["content"]["application/problem+json"]["examples"]
    value = examples["policy-version-outdated"]["value"]
    assert value["currentPolicyVersion"] == "2026-12"
    assert value["currentPolicyRevision"] == 2


def test_the_answers_carry_examples_and_the_put_takes_the_list_form() -> None:
    ok = operation(COOKIES, "get")["responses"]["200"]["content"]["application/json"]
    assert ok["examples"]["example-1"]["value"]["currentPolicyRevision"] == 1
    categories = DOCUMENT["components"]["schemas"]["CookieChoiceRequest"]["properties"]["categories"]
    assert any(branch.get("type") == "array" and branch.get("uniqueItems") for branch in categories["anyOf"])


def test_credentials_are_allowed_only_where_the_api_sets_the_visitor_cookie() -> None:
    origin = "https://shop.example"
    plain = _cors_headers(CorsPolicy(frozenset({origin})), origin, ["GET"])
    assert "Access-Control-Allow-Credentials" not in plain
    cookie = _cors_headers(CorsPolicy(frozenset({origin}), allow_credentials=True), origin, ["GET"])
    assert cookie["Access-Control-Allow-Credentials"] == "true"
    anyone = _cors_headers(CorsPolicy(frozenset({"*"}), allow_credentials=True), origin, ["GET"])
    assert "Access-Control-Allow-Credentials" not in anyone
