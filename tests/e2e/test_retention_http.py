"""Retention through HTTP on the local Functions host: the public table and page, staff holds, dry runs
and run reports, the purge started on demand, and every bad input answered with its problem."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.cosmos import CosmosDocumentStore, connect
from core.containers import AUDIT, LEGAL_HOLDS, database_spec
from devstack.devkeys import DevIdentityProvider
from devstack.services import COSMOS_LOCAL_KEY
from devstack.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def store(local_stack: LocalStack) -> CosmosDocumentStore:
    client = connect(f"https://127.0.0.1:{local_stack.ports.cosmos}/", COSMOS_LOCAL_KEY, verify_tls=False)
    return CosmosDocumentStore(client, database_spec())


@pytest.fixture(scope="module")
def officer(identity: tuple[DevIdentityProvider, DevIdentityProvider]) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity[1].token('dpo-7', ['Privacy.Officer'])}"}


def problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    if slug is not None:
        assert body["type"].endswith(f"/{slug}")
    return body


def wait_until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_retention_table_is_public_as_json_and_as_a_page(api: httpx.Client) -> None:
    table = api.get("/retention")
    assert table.status_code == 200
    rules = {rule["rule"]: rule for rule in table.json()["rules"]}
    orders = rules["orders"]
    assert orders["period"] == {
        "amount": 8,
        "unit": "years",
        "from": "created",
        "yearEnd": True,
        "timeZone": "Europe/Berlin",
        "text": "8 years from the end of the calendar year (Europe/Berlin) it was recorded in",
    }
    assert orders["legalMinimum"]["source"] == "secondary"
    assert "§ 147" in orders["legalMinimum"]["citation"]
    assert rules["navigation-events"]["period"]["amount"] == 395
    assert rules["consent-ledger"]["legalMinimum"] is None
    page = api.get("/retention/page")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "An order and its invoice" in page.text
    assert "§ 147(3) and (4) AO" in page.text
    problem(api.post("/retention", json={}), 405)


def test_staff_hold_a_subject_once_however_often_they_press_and_release_it_once(
    api: httpx.Client, officer: dict[str, str], store: CosmosDocumentStore
) -> None:
    email = f"held-{uuid.uuid4().hex[:8]}@example.com"
    body = {"subject": {"email": email}, "reason": "Litigation 2027-3", "endsAt": "2099-01-01T00:00:00Z"}
    placed = api.post("/staff/legal-holds", json=body, headers=officer)
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    again = api.post("/staff/legal-holds", json=body, headers=officer)
    assert again.status_code == 200
    assert again.json()["id"] == hold["id"]
    assert hold["status"] == "in-force"
    assert hold["subjectKey"]
    assert hold["userId"] is None
    assert email not in json.dumps(list(store.query_across_partitions(LEGAL_HOLDS, "SELECT * FROM c", {})))
    listed = api.get("/staff/legal-holds", headers=officer).json()["holds"]
    assert hold["id"] in {h["id"] for h in listed}
    assert api.get(f"/staff/legal-holds/{hold['id']}", headers=officer).json()["reason"] == "Litigation 2027-3"
    released = api.post(f"/staff/legal-holds/{hold['id']}/release", json={"reason": "Settled"}, headers=officer)
    assert released.status_code == 200
    assert released.json()["hold"]["status"] == "released"
    assert released.json()["erasuresResumed"] == []
    problem(
        api.post(f"/staff/legal-holds/{hold['id']}/release", json={"reason": "Settled"}, headers=officer),
        409,
        "hold-not-in-force",
    )
    ended = {h["id"] for h in api.get("/staff/legal-holds?status=ended", headers=officer).json()["holds"]}
    assert hold["id"] in ended
    audit = list(
        store.query_across_partitions(AUDIT, "SELECT * FROM c WHERE c.target = @t", {"@t": f"hold:{hold['id']}"})
    )
    assert sorted(a["action"] for a in audit) == [
        "legal-hold.placed",
        "legal-hold.placed",
        "legal-hold.read",
        "legal-hold.released",
    ]
    assert "Litigation" not in json.dumps(audit)
    assert email not in json.dumps(audit)


def test_staff_hold_an_incident_that_exists_and_a_user_without_a_profile(
    api: httpx.Client, officer: dict[str, str], identity: tuple[DevIdentityProvider, DevIdentityProvider]
) -> None:
    """An incident must exist (like a request); a user id need not have a profile, because the user's
    orders or consent proof may outlive it, and a hold must be able to keep them."""
    security = {"Authorization": f"Bearer {identity[1].token('sec-7', ['Privacy.Incident'])}"}
    opened = api.post(
        "/staff/incidents",
        json={
            "title": "Backup copied",
            "awareAt": "2027-01-01T00:00:00Z",
            "description": "An outsider copied a backup.",
            "contactPoint": "dpo@example.com",
        },
        headers=security,
    )
    assert opened.status_code == 201, opened.text
    incident_id = opened.json()["id"]
    body = {"incidentId": incident_id, "reason": "Claims after the breach"}
    placed = api.post("/staff/legal-holds", json=body, headers=officer)
    assert placed.status_code == 201, placed.text
    assert (placed.json()["kind"], placed.json()["incidentId"]) == ("incident", incident_id)
    assert api.post("/staff/legal-holds", json=body, headers=officer).status_code == 200  # the same hold
    nobody = f"usr_{uuid.uuid4().hex[:12]}"
    user_hold = api.post(
        "/staff/legal-holds", json={"subject": {"userId": nobody}, "reason": "Orders in dispute"}, headers=officer
    )
    assert user_hold.status_code == 201, user_hold.text
    assert (user_hold.json()["userId"], user_hold.json()["subjectKey"]) == (nobody, None)
    for hold in (placed.json(), user_hold.json()):
        released = api.post(f"/staff/legal-holds/{hold['id']}/release", json={"reason": "Done"}, headers=officer)
        assert released.status_code == 200


def test_a_dry_run_and_a_run_on_demand_are_reported_to_staff(
    api: httpx.Client, officer: dict[str, str], local_stack: LocalStack
) -> None:
    dry = api.post("/staff/retention/dry-run", headers=officer)
    assert dry.status_code == 200
    rules = {r["rule"]: r for r in dry.json()["rules"]}
    assert set(rules) >= {"orders", "navigation-events", "stripe-customer", "legal-holds"}
    assert all(r["error"] is None for r in rules.values())
    before = {r["id"] for r in api.get("/staff/retention/runs", headers=officer).json()["runs"]}
    admin = f"http://127.0.0.1:{local_stack.ports.functions}/admin/functions/retention_purge"
    key = {"x-functions-key": local_stack.master_key}
    assert httpx.post(admin, headers=key, json={}).status_code == 202

    def finished() -> list[dict[str, Any]]:
        runs = api.get("/staff/retention/runs", headers=officer).json()["runs"]
        return [r for r in runs if r["id"] not in before and r["outcome"] not in ("running",)]

    wait_until(lambda: bool(finished()))
    (report,) = finished()
    assert report["outcome"] == "finished", report
    assert [r["rule"] for r in report["rules"]][:2] == ["stripe-customer", "sendgrid-contact"]
    assert all(r["failed"] == [] and r["failing"] == 0 for r in report["rules"])  # staff see what failed
    one = api.get(f"/staff/retention/runs/{report['id']}", headers=officer)
    assert one.json() == report


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"reason": "No target"}, 422, "validation-failed"),
        (
            {"subject": {"userId": "u1"}, "requestId": "0f8c2b9e-4d1a-4c3e-9b7a-2f6d5e4c3b2a", "reason": "Both"},
            422,
            None,
        ),
        ({"subject": {"userId": "u1", "email": "a@example.com"}, "reason": "Two"}, 422, "validation-failed"),
        ({"subject": {"userId": "u1"}, "reason": "ok", "extra": 1}, 422, "validation-failed"),
        ({"subject": {"userId": "u1"}, "reason": "x"}, 422, "validation-failed"),
        ({"subject": {"visitorId": "short"}, "reason": "Visitor"}, 422, "validation-failed"),
        ({"subject": {"email": "mallory@@example"}, "reason": "Address"}, 422, "validation-failed"),
        ({"subject": {"userId": "u1"}, "reason": "Late", "endsAt": "2001-01-01T00:00:00Z"}, 422, "hold-end-in-past"),
        ({"subject": {"userId": "u1"}, "reason": "Naive", "endsAt": "2099-01-01T00:00:00"}, 422, "validation-failed"),
        # Year 10000 in UTC: no datetime holds it, so it is refused at the edge, never a 500.
        (
            {"subject": {"userId": "u1"}, "reason": "Overflow", "endsAt": "9999-12-31T23:59:59-01:00"},
            422,
            "validation-failed",
        ),
        ({"requestId": "0f8c2b9e-4d1a-4c3e-9b7a-2f6d5e4c3b2a", "reason": "Nobody"}, 422, "hold-target-not-found"),
        ({"requestId": "../../etc", "reason": "Path"}, 422, "validation-failed"),
        (
            {"incidentId": "5d1c7e2a-8b3f-4a6e-9c0d-1e2f3a4b5c6d", "reason": "No such breach"},
            422,
            "hold-target-not-found",
        ),
        ({"incidentId": "../../etc", "reason": "Path"}, 422, "validation-failed"),
        (
            {"incidentId": "5d1c7e2a-8b3f-4a6e-9c0d-1e2f3a4b5c6d", "subject": {"userId": "u1"}, "reason": "Both"},
            422,
            "validation-failed",
        ),
    ],
)
def test_a_bad_hold_is_refused_with_its_problem_and_writes_nothing(
    api: httpx.Client,
    officer: dict[str, str],
    store: CosmosDocumentStore,
    body: dict[str, Any],
    status: int,
    slug: str | None,
) -> None:
    before = len(list(store.query_across_partitions(LEGAL_HOLDS, "SELECT c.id FROM c", {})))
    answer = problem(api.post("/staff/legal-holds", json=body, headers=officer), status, slug)
    assert "mallory" not in json.dumps(answer)
    assert "../../etc" not in json.dumps(answer)
    assert len(list(store.query_across_partitions(LEGAL_HOLDS, "SELECT c.id FROM c", {}))) == before


def test_staff_routes_need_the_officer_role_and_odd_ids_are_404(
    api: httpx.Client, identity: tuple[DevIdentityProvider, DevIdentityProvider], officer: dict[str, str]
) -> None:
    auditor = {"Authorization": f"Bearer {identity[1].token('aud-1', ['Privacy.Auditor'])}"}
    for method, path in (
        ("POST", "/staff/legal-holds"),
        ("GET", "/staff/legal-holds"),
        ("POST", "/staff/retention/dry-run"),
        ("GET", "/staff/retention/runs"),
    ):
        problem(api.request(method, path), 401)
        problem(api.request(method, path, headers=auditor, json={}), 403)
    for path in ("/staff/legal-holds/hold-nothere", "/staff/legal-holds/%2e%2e", "/staff/retention/runs/x"):
        problem(api.get(path, headers=officer), 404)
    problem(api.get(f"/staff/legal-holds/hold-{'0' * 24}", headers=officer), 404)
    problem(api.post(f"/staff/legal-holds/hold-{'0' * 24}/release", json={"reason": "Gone"}, headers=officer), 404)
    problem(api.get(f"/staff/retention/runs/{'a' * 32}", headers=officer), 404)
    problem(api.get("/staff/legal-holds?status=maybe", headers=officer), 422)
    problem(api.get("/staff/retention/runs?limit=0", headers=officer), 422)
    problem(
        api.post("/staff/legal-holds", content=b"{nope", headers={**officer, "Content-Type": "application/json"}), 400
    )
