"""The mail server's unsubscribe groups and suppressions answer as SendGrid's Suppressions API document says.

The document (``contracts/sendgrid/tsg_suppressions_v3.json``, copied unchanged with its licence)
gives each operation's request body and documented answers. Here every route the server offers
under ``/v3/asm`` and ``/v3/suppression`` is one the document defines; every answer of a scenario
that uses each of them has the documented status and a body the documented schema accepts; every
body the document's request schemas refuse (made by breaking each assertion once) is refused with
400 in SendGrid's error shape, naming the field and never repeating an address; and what SendGrid
documents beyond the schemas holds (a group needs a name and a description, names are unique,
at most 200 groups; suppressions added to a group that does not exist go to the global list).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from devstack.mailserver import create_app
from tests.devstack.mail_harness import Server, errors_of, http, post_json, start_server
from tests.devstack.openapi import MISSING, Contract, addresses_in, dotted, load, related, with_changes

SUPPRESSIONS = Contract(load("tsg_suppressions_v3.json"), "urn:sendgrid:tsg_suppressions_v3")
ERRORS = SUPPRESSIONS.errors()
AUTH = {"Authorization": "Bearer SG.test"}

GROUPS = "/v3/asm/groups"
GROUP = "/v3/asm/groups/{group_id}"
GROUP_SUPPRESSIONS = "/v3/asm/groups/{group_id}/suppressions"
GROUP_SUPPRESSION = "/v3/asm/groups/{group_id}/suppressions/{email}"
GROUP_SEARCH = "/v3/asm/groups/{group_id}/suppressions/search"
GROUPS_OF_ADDRESS = "/v3/asm/suppressions/{email}"
GLOBAL = "/v3/asm/suppressions/global"
GLOBAL_ONE = "/v3/asm/suppressions/global/{email}"
UNSUBSCRIBES = "/v3/suppression/unsubscribes"
SPAM_REPORTS = "/v3/suppression/spam_reports"
SPAM_REPORT = "/v3/suppression/spam_reports/{email}"
NO_BODY = object()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_server(tmp_path_factory.mktemp("suppressions-contract") / "server.log")
    yield started
    assert started.stop() == 0


def call(server: Server, method: str, template: str, body: Any = NO_BODY, **params: object) -> tuple[int, bytes]:
    """Call an operation of the document, with its path parameters filled in and percent-encoded."""
    path = template.format(**{k: quote(str(v), safe="") for k, v in params.items()})
    headers = dict(AUTH)
    data = None
    if body is not NO_BODY:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    status, _, answer = http(method.upper(), server.url + path, data, headers)
    return status, answer


def documented(server: Server, method: str, template: str, body: Any = NO_BODY, **params: object) -> Any:
    """Call an operation and check its answer is the document's: its one success status, and that schema."""
    status, answer = call(server, method, template, body, **params)
    [success] = SUPPRESSIONS.document["paths"][template][method]["responses"]  # each documents one answer
    assert status == int(success), answer
    validator = SUPPRESSIONS.answer(template, method, status)
    if validator is None:
        assert answer == b""
        return None
    value = json.loads(answer)
    validator.validate(value)
    return value


@pytest.fixture(scope="module")
def refusals_group(server: Server) -> int:
    """A group that refused bodies are sent to: it must stay empty."""
    return int(new_group(server, "Refusals")["id"])


def refused(status: int, answer: bytes, expected: int, field: str | None) -> list[dict[str, Any]]:
    assert status == expected, answer
    ERRORS.validate(json.loads(answer))
    errors = errors_of(answer)
    assert any(related(e["field"], field) for e in errors), (field, errors)
    return errors


def global_entry(server: Server, email: str) -> Any:
    """GET of one global suppression. The document's words: an address not suppressed answers ``{}``
    (its schema, which requires ``recipient_email``, forgets that case)."""
    status, answer = call(server, "get", GLOBAL_ONE, email=email)
    assert status == 200
    value = json.loads(answer)
    validator = SUPPRESSIONS.answer(GLOBAL_ONE, "get", 200)
    assert validator is not None
    if value != {}:
        validator.validate(value)
    return value


def new_group(server: Server, name: str, **extra: Any) -> dict[str, Any]:
    created: dict[str, Any] = documented(
        server, "post", GROUPS, {"name": name, "description": "Mail of one kind", **extra}
    )
    return created


# -- routes ----------------------------------------------------------------------------------


def test_every_suppression_route_of_the_server_is_one_the_document_defines() -> None:
    offered = {
        (route.method.lower(), route.resource.canonical)
        for route in create_app(None).router.routes()
        if route.method != "HEAD"  # aiohttp's own twin of each GET
        and route.resource is not None
        and route.resource.canonical.startswith(("/v3/asm", "/v3/suppression"))
    }
    defined = {(m, p) for p, item in SUPPRESSIONS.document["paths"].items() for m in item if m != "parameters"}
    assert offered <= defined, offered - defined
    assert len(offered) == 15


# -- answers ---------------------------------------------------------------------------------


def test_a_scenario_through_every_operation_answers_as_documented(server: Server) -> None:
    group = new_group(server, "Product news", is_default=True)
    other = new_group(server, "Event invitations")
    assert (group["is_default"], other["is_default"]) == (True, False)
    assert other["id"] == group["id"] + 1  # numbered in order of creation

    added = documented(
        server,
        "post",
        GROUP_SUPPRESSIONS,
        {"recipient_emails": ["Ada@example.com", "bob@example.com"]},
        group_id=group["id"],
    )
    assert added == {"recipient_emails": ["Ada@example.com", "bob@example.com"]}
    # Adding again changes nothing: the first spelling and time stay, the count stays.
    documented(server, "post", GROUP_SUPPRESSIONS, {"recipient_emails": ["ada@EXAMPLE.com"]}, group_id=group["id"])
    assert documented(server, "get", GROUP_SUPPRESSIONS, group_id=group["id"]) == ["Ada@example.com", "bob@example.com"]

    listed = documented(server, "get", GROUPS)
    assert {(g["id"], g["name"], g["unsubscribes"]) for g in listed} >= {
        (group["id"], "Product news", 2),
        (other["id"], "Event invitations", 0),
    }
    status, answer = call(server, "get", GROUPS + f"?id={other['id']}")
    assert status == 200
    assert [g["id"] for g in json.loads(answer)] == [other["id"]]
    one = documented(server, "get", GROUP, group_id=group["id"])
    assert one == {
        "id": group["id"],
        "name": "Product news",
        "description": "Mail of one kind",
        "is_default": True,
        "unsubscribes": 2,
    }

    search = {"recipient_emails": ["bob@example.com", "carol@example.com", "ada@example.com"]}
    found = documented(server, "post", GROUP_SEARCH, search, group_id=group["id"])
    assert found == ["bob@example.com", "Ada@example.com"]

    memberships = documented(server, "get", GROUPS_OF_ADDRESS, email="ada@example.com")["suppressions"]
    by_id = {m["id"]: m for m in memberships}
    assert by_id[group["id"]]["suppressed"] is True
    assert by_id[other["id"]]["suppressed"] is False
    assert by_id[group["id"]]["name"] == "Product news"

    documented(server, "delete", GROUP_SUPPRESSION, group_id=group["id"], email="ADA@example.com")
    documented(server, "delete", GROUP_SUPPRESSION, group_id=group["id"], email="ada@example.com")  # gone: no change
    assert documented(server, "get", GROUP_SUPPRESSIONS, group_id=group["id"]) == ["bob@example.com"]

    documented(server, "post", GLOBAL, {"recipient_emails": ["dave@example.com"]})
    assert global_entry(server, "dave@example.com") == {"recipient_email": "dave@example.com"}
    assert [r["email"] for r in documented(server, "get", UNSUBSCRIBES)] == ["dave@example.com"]
    documented(server, "delete", GLOBAL_ONE, email="dave@example.com")
    assert global_entry(server, "dave@example.com") == {}

    # Spam reports come from people (see test_mail_groups); an empty list and an unknown address answer too.
    assert documented(server, "get", SPAM_REPORTS) == []
    assert documented(server, "get", SPAM_REPORT, email="erin@example.com") == []
    documented(server, "delete", SPAM_REPORT, email="erin@example.com")


def test_making_the_third_default_group_leaves_one_default(server: Server) -> None:
    first = new_group(server, "Default one", is_default=True)
    second = new_group(server, "Default two", is_default=True)
    defaults = [g["id"] for g in documented(server, "get", GROUPS) if g["is_default"]]
    assert defaults == [second["id"]]
    assert documented(server, "get", GROUP, group_id=first["id"])["is_default"] is False


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        ("get", GROUP, NO_BODY),
        ("get", GROUP_SUPPRESSIONS, NO_BODY),
        ("delete", GROUP_SUPPRESSION, NO_BODY),
        ("post", GROUP_SEARCH, {"recipient_emails": ["ada@example.com"]}),
    ],
)
@pytest.mark.parametrize("group_id", ["999999", "not-a-number", "-1"])
def test_an_unknown_group_is_a_404(server: Server, method: str, template: str, body: Any, group_id: str) -> None:
    status, answer = call(server, method, template, body, group_id=group_id, email="ada@example.com")
    refused(status, answer, 404, "group_id")


def test_suppressions_for_a_group_that_does_not_exist_go_to_the_global_list(server: Server) -> None:
    # The document: "If you attempt to add suppressions to a group that has been deleted or does not
    # exist, the suppressions will be added to the global suppressions list."
    documented(server, "post", GROUP_SUPPRESSIONS, {"recipient_emails": ["frank@example.com"]}, group_id=888888)
    assert global_entry(server, "frank@example.com") == {"recipient_email": "frank@example.com"}
    documented(server, "delete", GLOBAL_ONE, email="frank@example.com")
    status, answer = call(server, "post", GROUP_SUPPRESSIONS, {"recipient_emails": ["frank@example.com"]}, group_id="x")
    refused(status, answer, 404, "group_id")  # not a group id at all


# -- refused bodies --------------------------------------------------------------------------


def group_body_cases() -> list[tuple[str, Any, str | None]]:
    base = {"name": "Broken on purpose", "description": "Never made", "is_default": False}
    schema = SUPPRESSIONS.request_body(GROUPS, "post")
    cases = [
        (f"{dotted(path) or 'body'}:{keyword}:{'missing' if new is MISSING else type(new).__name__}", new, path)
        for keyword, path, new in SUPPRESSIONS.mutations(schema, base)
    ]
    made = [(name, with_changes(base, {path: new}), dotted(path)) for name, new, path in cases]
    documented_beyond = [
        ("name-missing", with_changes(base, {("name",): MISSING}), "name"),
        ("description-missing", with_changes(base, {("description",): MISSING}), "description"),
        ("name-empty", {**base, "name": ""}, "name"),
    ]
    return made + documented_beyond


GROUP_BODIES = group_body_cases()


def test_the_made_group_bodies_break_every_assertion_of_the_request_schema() -> None:
    schema = SUPPRESSIONS.request_body(GROUPS, "post")
    made = {name.split(":")[1] for name, _, _ in GROUP_BODIES if ":" in name}
    assert SUPPRESSIONS.assertions_in(schema) <= made


@pytest.mark.parametrize(("name", "body", "field"), GROUP_BODIES, ids=[c[0] for c in GROUP_BODIES])
def test_a_group_the_contract_refuses_is_refused_and_not_made(
    server: Server, name: str, body: Any, field: str | None
) -> None:
    status, answer = call(server, "post", GROUPS, body)
    refused(status, answer, 400, field)
    assert "Broken on purpose" not in {g["name"] for g in documented(server, "get", GROUPS)}


def suppressions_body_cases() -> list[tuple[str, Any, str | None]]:
    base = {"recipient_emails": ["grace@example.com"]}
    schema = SUPPRESSIONS.resolved(SUPPRESSIONS.document["components"]["schemas"]["SuppressionsRequest"])
    made = [
        (
            f"{dotted(path) or 'body'}:{keyword}:{'missing' if new is MISSING else type(new).__name__}",
            with_changes(base, {path: new}),
            dotted(path),
        )
        for keyword, path, new in SUPPRESSIONS.mutations(schema, base)
    ]
    return [*made, ("no-addresses", {"recipient_emails": []}, "recipient_emails")]


SUPPRESSION_BODIES = suppressions_body_cases()


@pytest.mark.parametrize(("name", "body", "field"), SUPPRESSION_BODIES, ids=[c[0] for c in SUPPRESSION_BODIES])
@pytest.mark.parametrize("template", [GROUP_SUPPRESSIONS, GROUP_SEARCH, GLOBAL])
def test_a_suppressions_body_the_contract_refuses_is_refused(
    server: Server, refusals_group: int, template: str, name: str, body: Any, field: str | None
) -> None:
    status, answer = call(server, "post", template, body, group_id=refusals_group)
    refused(status, answer, 400, field)
    text = answer.decode().lower()
    for address in addresses_in(body):
        assert address.lower() not in text
    assert documented(server, "get", GROUP_SUPPRESSIONS, group_id=refusals_group) == []
    assert global_entry(server, "grace@example.com") == {}


def test_group_names_are_unique_and_an_account_has_at_most_200_groups(tmp_path: Any) -> None:
    server = start_server(tmp_path / "server.log")
    try:
        new_group(server, "Only once")
        status, answer = call(server, "post", GROUPS, {"name": "Only once", "description": "Again"})
        refused(status, answer, 400, "name")
        for number in range(199):
            new_group(server, f"Group {number}")
        status, answer = call(server, "post", GROUPS, {"name": "One too many", "description": "No room"})
        refused(status, answer, 400, None)
        assert len(documented(server, "get", GROUPS)) == 200
    finally:
        assert server.stop() == 0


def test_suppression_calls_need_the_api_key(server: Server) -> None:
    status, _, answer = post_json(server.url + GROUPS, {"name": "No key", "description": "x"}, key=None)
    refused(status, answer, 401, None)
