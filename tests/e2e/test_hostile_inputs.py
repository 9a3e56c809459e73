"""Inputs an attacker or a fuzzer sends: each gets its 4xx problem+json, writes nothing, echoes nothing."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.cosmos import CosmosDocumentStore, connect
from core.containers import CONSENT_EVENTS, DSR_REQUESTS, database_spec
from devstack.devkeys import DevIdentityProvider
from devstack.services import COSMOS_LOCAL_KEY
from devstack.stack import LocalStack
from tests.devstack.raw_http import exchange, get

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def store(local_stack: LocalStack) -> CosmosDocumentStore:
    client = connect(f"https://127.0.0.1:{local_stack.ports.cosmos}/", COSMOS_LOCAL_KEY, verify_tls=False)
    return CosmosDocumentStore(client, database_spec())


def is_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    return body


def requests_for(store: CosmosDocumentStore, marker: str) -> list[dict[str, object]]:
    return [d for d in store.query_across_partitions(DSR_REQUESTS, "SELECT * FROM c", {}) if marker in json.dumps(d)]


def test_a_token_whose_algorithm_does_not_fit_the_key_is_a_401(
    api: httpx.Client, identity: tuple[DevIdentityProvider, DevIdentityProvider]
) -> None:
    users, staff = identity
    claims = {"sub": "mallory", "iss": "x", "aud": "y", "exp": int(time.time()) + 600, "roles": ["Privacy.Officer"]}
    ec_key = ec.generate_private_key(ec.SECP256R1())
    for provider, path in ((users, "/me/consents"), (staff, "/staff/requests")):
        forged = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": provider.kid})  # an RSA key's id
        is_problem(api.get(path, headers={"Authorization": f"Bearer {forged}"}), 401)
    for odd in ("Bearer \u00e9\u00e9.\u00e9.\u00e9", "Bearer a.b.c", "Bearer " + "A" * 5000, "Basic abc"):
        is_problem(api.get("/me/consents", headers=[(b"Authorization", odd.encode())]), 401)


def test_deep_nesting_and_huge_numbers_are_malformed_json(api: httpx.Client) -> None:
    visitor = uuid.uuid4().hex
    deep = b"[" * 5000 + b"]" * 5000
    huge = b'{"categories": {"functional": ' + b"9" * 5000 + b', "analytics": false, "marketing": false}}'
    for body in (deep, huge):
        response = api.put(f"/cookies/{visitor}", content=body, headers={"Content-Type": "application/json"})
        is_problem(response, 400)
    assert api.get(f"/cookies/{visitor}").json()["reason"] == "no-decision"  # nothing was written


def test_booleans_and_numbers_are_exact(api: httpx.Client) -> None:
    version = api.get("/catalog").json()["currentVersion"]["version"]
    visitor = uuid.uuid4().hex
    for sloppy in ("yes", 0, 1, "true", None):
        body = {"categories": {"functional": sloppy, "analytics": False, "marketing": False}, "policyVersion": version}
        problem = is_problem(api.put(f"/cookies/{visitor}", json=body), 422)
        assert problem["errors"]
    assert api.get(f"/cookies/{visitor}").json()["reason"] == "no-decision"


def test_an_idempotency_key_reused_with_another_body_is_refused(api: httpx.Client) -> None:
    version = api.get("/catalog").json()["currentVersion"]["version"]
    visitor = uuid.uuid4().hex
    key = {"Idempotency-Key": f"banner-{uuid.uuid4().hex}"}

    def choose(analytics: bool) -> httpx.Response:
        body = {
            "categories": {"functional": False, "analytics": analytics, "marketing": False},
            "policyVersion": version,
        }
        return api.put(f"/cookies/{visitor}", json=body, headers=key)

    assert choose(True).status_code == 200
    assert choose(True).status_code == 200  # the same retry: answered, nothing new
    problem = is_problem(choose(False), 422)
    assert str(problem["type"]).endswith("/idempotency-key-reused")
    assert api.get(f"/cookies/{visitor}").json()["categories"]["analytics"] is True


def test_non_ascii_signatures_are_simply_invalid(api: httpx.Client) -> None:
    checked = api.post("/certificates/verify", json={"certificateId": "x", "signature": "k1.sïgnätürë"})
    assert checked.status_code == 200
    assert checked.json()["valid"] is False
    is_problem(api.post("/requests/verify", json={"token": "eyJyaWQiOiJ4In0.k1.sïgnätürë"}), 400)
    page = api.post(
        "/requests/verify",
        content="token=eyJyaWQiOiJ4In0.k1.s%C3%AFgn%C3%A4t%C3%BCr%C3%AB",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "address",
    [
        "mallory@example.123",  # numeric top-level domain
        f"mallory@{'x' * 64}.example.com",  # a label over 63 characters
        "mal\x01lory@control-char.example.com",  # a control character (the domain marks what to look for)
        "mallory@localhost",  # one label only
    ],
)
def test_addresses_the_mail_service_refuses_are_422_before_anything_is_stored(
    api: httpx.Client, store: CosmosDocumentStore, local_stack: LocalStack, address: str
) -> None:
    marker = address.split("@")[1][:12]
    problem = is_problem(api.post("/requests", json={"type": "access", "email": address}), 422)
    assert "mallory" not in json.dumps(problem)
    key = {"x-functions-key": local_stack.function_key}
    child = f"child-{uuid.uuid4().hex[:8]}"
    is_problem(api.post(f"/accounts/{child}/under-13", json={"parentEmail": address}, headers=key), 422)
    assert requests_for(store, marker) == []
    assert requests_for(store, child) == []


def test_bytes_that_are_not_utf8_in_headers_never_cause_a_5xx(local_stack: LocalStack) -> None:
    port = local_stack.ports.functions
    agent = exchange(port, get(b"/api/catalog", b"User-Agent: Mozilla\xff\xfe/5.0"))
    assert agent.status == 200
    token = exchange(port, get(b"/api/me/consents", b"Authorization: Bearer \xff\xfe\xfd.x.y"))
    assert token.status == 401
    assert token.headers["content-type"] == "application/problem+json"


def test_a_problem_never_echoes_the_path(api: httpx.Client) -> None:
    response = api.get("/cookies/ada.lovelace@example.com")
    problem = is_problem(response, 422)
    assert problem["instance"] == "/api/cookies/{visitorId}"
    assert "ada.lovelace" not in response.text


def test_nothing_hostile_reached_the_ledger(store: CosmosDocumentStore) -> None:
    events = store.query_across_partitions(CONSENT_EVENTS, "SELECT c.subjectId FROM c", {})
    assert not any("mallory" in str(e.get("subjectId")) for e in events)
