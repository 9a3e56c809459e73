"""End to end over HTTP through the local Functions host, against the whole local stack."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from openapi_spec_validator import validate

from devstack.devkeys import AUDIENCE, DevIdentityProvider
from devstack.stack import LocalStack

pytestmark = pytest.mark.e2e

PII_EMAIL = "jane.doe+private@example.com"
CLIENT_IP = "198.51.100.77"
USER_AGENT = "E2E-Browser/1.0 (distinctive-agent-string)"


def visitor_id() -> str:
    return secrets.token_urlsafe(18)


def current_version(api: httpx.Client) -> str:
    version = api.get("/catalog").json()["currentVersion"]["version"]
    assert isinstance(version, str)
    return version


def choice(api: httpx.Client, functional: bool, analytics: bool, marketing: bool, **extra: object) -> dict[str, Any]:
    return {
        "categories": {"functional": functional, "analytics": analytics, "marketing": marketing},
        "policyVersion": current_version(api),
        **extra,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def user_idp(identity: tuple[DevIdentityProvider, DevIdentityProvider]) -> DevIdentityProvider:
    return identity[0]


@pytest.fixture(scope="module")
def staff_idp(identity: tuple[DevIdentityProvider, DevIdentityProvider]) -> DevIdentityProvider:
    return identity[1]


def staff_proof(api: httpx.Client, staff_idp: DevIdentityProvider, subject: str) -> dict[str, Any]:
    token = staff_idp.token("dpo-1", ["Privacy.Auditor"])
    response = api.get(f"/staff/subjects/{subject}/consent-proof", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


def test_health_reports_the_stack(api: httpx.Client) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"cosmos": "up", "storage": "up"}
    assert body["version"]


def test_openapi_document_is_valid_and_describes_the_endpoints(api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert "/api/cookies/{visitorId}" in document["paths"]
    put = document["paths"]["/api/cookies/{visitorId}"]["put"]
    assert "422" in put["responses"]
    assert "413" in put["responses"]
    schema = document["components"]["schemas"]["CookieChoiceRequest"]
    assert schema["examples"]


def test_cookie_preferences_round_trip_with_proof(api: httpx.Client, staff_idp: DevIdentityProvider) -> None:
    vid = visitor_id()
    first = api.get(f"/cookies/{vid}").json()
    assert first["reason"] == "no-decision"
    assert first["reconsentRequired"] is True
    headers = {"X-Forwarded-For": f"{CLIENT_IP}:51234", "User-Agent": USER_AGENT}
    saved = api.put(f"/cookies/{vid}", json=choice(api, True, False, False, jurisdiction="EU"), headers=headers)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["categories"] == {"necessary": True, "functional": True, "analytics": False, "marketing": False}
    assert body["reason"] == "current"
    assert body["reconsentRequired"] is False
    decided, expires = body["decidedAt"], body["expiresAt"]
    assert 364 <= (_ts(expires) - _ts(decided)) / 86400 <= 366
    assert api.get(f"/cookies/{vid}").json()["categories"]["functional"] is True

    proof = staff_proof(api, staff_idp, f"visitor:{vid}")
    assert proof["verification"]["valid"] is True
    event = proof["events"][0]
    assert event["source"] == "banner"
    assert event["ipTruncated"] == "198.51.100.0/24"
    assert event["userAgent"] == USER_AGENT
    assert event["jurisdiction"] == "EU"
    assert event["noticeTextHash"].startswith("sha256:")
    assert event["decisions"]["cookie.analytics"] == {"granted": False, "source": "banner"}


def test_gpc_turns_marketing_off_and_is_recorded(api: httpx.Client, staff_idp: DevIdentityProvider) -> None:
    vid = visitor_id()
    gpc = {"Sec-GPC": "1"}
    saved = api.put(f"/cookies/{vid}", json=choice(api, False, False, True), headers=gpc).json()
    assert saved["categories"]["marketing"] is False
    assert saved["gpcHonoured"] is True
    proof = staff_proof(api, staff_idp, f"visitor:{vid}")
    assert proof["events"][0]["decisions"]["cookie.marketing"] == {"granted": False, "source": "gpc"}

    opted_in = api.put(f"/cookies/{vid}", json=choice(api, False, False, True, gpcOverride=True), headers=gpc)
    assert opted_in.json()["categories"]["marketing"] is True
    assert api.get(f"/cookies/{vid}", headers=gpc).json()["categories"]["marketing"] is True


def test_gpc_signal_withdraws_an_earlier_marketing_grant_once(
    api: httpx.Client, staff_idp: DevIdentityProvider
) -> None:
    vid = visitor_id()
    api.put(f"/cookies/{vid}", json=choice(api, False, False, True)).raise_for_status()
    for _ in range(3):
        read = api.get(f"/cookies/{vid}", headers={"Sec-GPC": "1"}).json()
        assert read["categories"]["marketing"] is False
    proof = staff_proof(api, staff_idp, f"visitor:{vid}")
    sources = [e["source"] for e in proof["events"]]
    assert sources == ["banner", "gpc"]  # the withdrawal is recorded once, not per page view
    assert proof["verification"]["valid"] is True


def test_outdated_and_unknown_policy_versions_are_refused(api: httpx.Client) -> None:
    vid = visitor_id()
    unknown = api.put(f"/cookies/{vid}", json={**choice(api, True, True, True), "policyVersion": "1999-01"})
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert api.get(f"/cookies/{vid}").json()["reason"] == "no-decision"


def test_bad_input_gets_problem_details_and_writes_nothing(api: httpx.Client) -> None:
    vid = visitor_id()
    url = f"/cookies/{vid}"
    malformed = api.put(url, content=b'{"categories": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["type"].endswith("/malformed-json")

    invalid = api.put(url, json={"categories": {"functional": PII_EMAIL}, "policyVersion": PII_EMAIL})
    assert invalid.status_code == 422
    problem = invalid.json()
    paths = {e["path"] for e in problem["errors"]}
    assert {"categories/functional", "policyVersion", "categories/analytics"} <= paths
    assert PII_EMAIL not in invalid.text

    too_big = api.put(url, content=b'{"x":"' + b"a" * 17000 + b'"}', headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413

    wrong_method = api.delete(url)
    assert wrong_method.status_code == 405
    assert set(wrong_method.headers["allow"].split(", ")) == {"GET", "PUT", "OPTIONS"}

    bad_id = api.get("/cookies/short")
    assert bad_id.status_code == 422

    for response in (malformed, invalid, too_big, wrong_method, bad_id):
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["requestId"]
    assert api.get(url).json()["reason"] == "no-decision"


def test_signed_in_user_records_reads_and_proves_consent(api: httpx.Client, user_idp: DevIdentityProvider) -> None:
    token = user_idp.token(f"user-{uuid.uuid4().hex}")
    version = current_version(api)
    granted = api.post(
        "/me/consents",
        json={"decisions": {"analytics": True, "marketing-email": True}, "policyVersion": version},
        headers={**bearer(token), "Idempotency-Key": "dashboard-click-0001"},
    )
    assert granted.status_code == 201, granted.text
    replay = api.post(
        "/me/consents",
        json={"decisions": {"analytics": True, "marketing-email": True}, "policyVersion": version},
        headers={**bearer(token), "Idempotency-Key": "dashboard-click-0001"},
    )
    assert replay.status_code == 200
    assert replay.json()["replayed"] is True
    withdrawn = api.post(
        "/me/consents", json={"decisions": {"marketing-email": False}, "policyVersion": version}, headers=bearer(token)
    )
    assert withdrawn.status_code == 201
    state = api.get("/me/consents", headers=bearer(token)).json()
    assert state["purposes"]["analytics"]["granted"] is True
    assert state["purposes"]["marketing-email"]["granted"] is False
    assert state["eventCount"] == 2
    proof = api.get("/me/consents/proof", headers=bearer(token)).json()
    assert proof["verification"] == {**proof["verification"], "valid": True, "eventCount": 2}
    assert [e["source"] for e in proof["events"]] == ["dashboard", "dashboard"]

    unknown = api.post(
        "/me/consents", json={"decisions": {"mind-reading": True}, "policyVersion": version}, headers=bearer(token)
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "decisions/mind-reading"


def test_one_user_cannot_reach_another_users_consents(api: httpx.Client, user_idp: DevIdentityProvider) -> None:
    alice, mallory = user_idp.token(f"alice-{uuid.uuid4().hex}"), user_idp.token(f"mallory-{uuid.uuid4().hex}")
    version = current_version(api)
    api.post(
        "/me/consents", json={"decisions": {"analytics": True}, "policyVersion": version}, headers=bearer(alice)
    ).raise_for_status()
    assert api.get("/me/consents", headers=bearer(mallory)).json()["purposes"] == {}
    smuggled = api.post(
        "/me/consents",
        json={"decisions": {"analytics": False}, "policyVersion": version, "subjectId": "user:alice"},
        headers=bearer(mallory),
    )
    assert smuggled.status_code == 422  # a subject in the body is not a field of this API
    assert api.get("/me/consents", headers=bearer(alice)).json()["purposes"]["analytics"]["granted"] is True


def test_tokens_are_checked_for_real(api: httpx.Client, user_idp: DevIdentityProvider) -> None:
    assert api.get("/me/consents").status_code == 401
    assert api.get("/me/consents", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
    expired = user_idp.token("someone", lifetime_seconds=-600)
    response = api.get("/me/consents", headers=bearer(expired))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "expired" in response.json()["detail"]
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"iss": user_idp.issuer, "aud": AUDIENCE, "sub": "someone", "exp": int(time.time()) + 600},
        foreign_key,
        algorithm="RS256",
        headers={"kid": user_idp.kid},
    )
    assert api.get("/me/consents", headers=bearer(forged)).status_code == 401
    unsigned = jwt.encode({"iss": user_idp.issuer, "aud": AUDIENCE, "sub": "x", "exp": 2**31}, "", algorithm="none")
    assert api.get("/me/consents", headers=bearer(unsigned)).status_code == 401
    wrong_audience = jwt.encode(
        {"iss": user_idp.issuer, "aud": "api://other", "sub": "x", "exp": int(time.time()) + 600},
        user_idp.private_key_path.read_bytes(),
        algorithm="RS256",
        headers={"kid": user_idp.kid},
    )
    assert api.get("/me/consents", headers=bearer(wrong_audience)).status_code == 401


def test_visitor_consents_link_to_the_user_at_sign_in(
    api: httpx.Client, user_idp: DevIdentityProvider, staff_idp: DevIdentityProvider
) -> None:
    vid = visitor_id()
    api.put(f"/cookies/{vid}", json=choice(api, True, True, False)).raise_for_status()
    sub = f"user-{uuid.uuid4().hex}"
    token = user_idp.token(sub)
    linked = api.post("/me/consents/link", json={"visitorId": vid}, headers=bearer(token))
    assert linked.status_code == 201, linked.text
    purposes = linked.json()["state"]["purposes"]
    assert purposes["cookie.analytics"]["granted"] is True
    assert purposes["cookie.analytics"]["source"] == "link"
    again = api.post("/me/consents/link", json={"visitorId": vid}, headers=bearer(token))
    assert again.status_code == 200
    other = api.post("/me/consents/link", json={"visitorId": vid}, headers=bearer(user_idp.token("someone-else")))
    assert other.status_code == 409
    visitor_events = staff_proof(api, staff_idp, f"visitor:{vid}")["events"]
    assert visitor_events[-1]["kind"] == "linked-to-user"


def test_server_to_server_check_needs_a_function_key(
    api: httpx.Client, local_stack: LocalStack, user_idp: DevIdentityProvider
) -> None:
    sub = f"user-{uuid.uuid4().hex}"
    api.post(
        "/me/consents",
        json={"decisions": {"analytics": True}, "policyVersion": current_version(api)},
        headers=bearer(user_idp.token(sub)),
    ).raise_for_status()
    query = {"subject": f"user:{sub}", "purpose": "analytics"}
    assert api.get("/consents/check", params=query).status_code == 401
    key = {"x-functions-key": local_stack.function_key}
    allowed = api.get("/consents/check", params=query, headers=key)
    assert allowed.json() == {"allowed": True, "reason": "granted", "purpose": "analytics"}
    other = api.get("/consents/check", params={**query, "purpose": "marketing-email"}, headers=key).json()
    assert other == {"allowed": False, "reason": "not-granted", "purpose": "marketing-email"}
    bad = api.get("/consents/check", params={"subject": PII_EMAIL, "purpose": "analytics"}, headers=key)
    assert bad.status_code == 422
    assert PII_EMAIL not in bad.text
    recorded = api.post(
        "/consents",
        json={"subjectId": f"user:{sub}", "decisions": {"analytics": False}, "policyVersion": current_version(api)},
        headers=key,
    )
    assert recorded.status_code == 201
    assert api.get("/consents/check", params=query, headers=key).json()["reason"] == "withdrawn"


def test_cors_allows_only_listed_origins(api: httpx.Client, app_settings: dict[str, str]) -> None:
    allowed = app_settings["CORS_ALLOWED_ORIGINS"].split(",")[0]
    preflight = api.options(
        f"/cookies/{visitor_id()}",
        headers={"Origin": allowed, "Access-Control-Request-Method": "PUT"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == allowed
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    foreign = api.get(f"/cookies/{visitor_id()}", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
    staff = api.options("/staff/purposes", headers={"Origin": allowed, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in staff.headers


def test_staff_actions_need_roles_and_are_audited(
    api: httpx.Client, staff_idp: DevIdentityProvider, local_stack: LocalStack
) -> None:
    purpose = {"id": "beta-features", "title": "Beta features", "description": "Early access.", "legalBasis": "consent"}
    no_role = api.post("/staff/purposes", json=purpose, headers=bearer(staff_idp.token("support-1", ["Other"])))
    assert no_role.status_code == 403
    user_token_for_staff = api.post("/staff/purposes", json=purpose, headers=bearer("x.y.z"))
    assert user_token_for_staff.status_code == 401
    published = api.post(
        "/staff/purposes", json=purpose, headers=bearer(staff_idp.token("dpo-7", ["Privacy.Publisher"]))
    )
    assert published.status_code == 201
    assert "beta-features" in {p["id"] for p in api.get("/catalog").json()["purposes"]}
    audit = _audit_records(local_stack)
    assert any(r["actor"] == "dpo-7" and r["action"] == "purpose.published" for r in audit)


def test_no_personal_data_reaches_the_host_log(host_log: Path) -> None:
    text = host_log.read_text(errors="replace")
    assert "http cookie_preferences" in text  # the log is really being written
    for secret in (PII_EMAIL, CLIENT_IP, USER_AGENT, "Bearer "):
        assert secret not in text


def test_z_new_policy_version_asks_for_renewal(
    api: httpx.Client, staff_idp: DevIdentityProvider, user_idp: DevIdentityProvider
) -> None:
    """Runs last in this module: it changes the policy version in force for everyone."""
    vid = visitor_id()
    api.put(f"/cookies/{vid}", json=choice(api, True, True, False)).raise_for_status()
    token = user_idp.token(f"user-{uuid.uuid4().hex}")
    api.post(
        "/me/consents",
        json={"decisions": {"analytics": True}, "policyVersion": current_version(api)},
        headers=bearer(token),
    ).raise_for_status()
    publisher = bearer(staff_idp.token("dpo-1", ["Privacy.Publisher"]))
    version = {"version": f"v-{uuid.uuid4().hex[:8]}", "text": "Revised policy text.", "renewPurposes": ["analytics"]}
    assert api.post("/staff/policy-versions", json=version, headers=publisher).status_code == 201
    assert api.post("/staff/policy-versions", json=version, headers=publisher).status_code == 200  # idempotent
    changed = api.post("/staff/policy-versions", json={**version, "text": "Different text."}, headers=publisher)
    assert changed.status_code == 409
    assert api.get(f"/cookies/{vid}").json()["reason"] == "policy-changed"
    state = api.get("/me/consents", headers=bearer(token)).json()
    assert state["purposes"]["analytics"]["renewalRequired"] is True


def _audit_records(stack: LocalStack) -> list[dict[str, Any]]:
    from adapters.cosmos import CosmosDocumentStore, connect
    from core.containers import AUDIT, database_spec
    from devstack.services import COSMOS_LOCAL_KEY

    client = connect(f"https://127.0.0.1:{stack.ports.cosmos}/", COSMOS_LOCAL_KEY, verify_tls=False)
    store = CosmosDocumentStore(client, database_spec())
    month = time.strftime("%Y-%m", time.gmtime())
    return list(store.query(AUDIT, month, "SELECT * FROM c WHERE c.month = @m", {"@m": month}))


def _ts(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()


def test_problem_json_never_contains_the_token(api: httpx.Client, user_idp: DevIdentityProvider) -> None:
    token = user_idp.token("x", lifetime_seconds=-600)
    response = api.get("/me/consents", headers=bearer(token))
    assert token not in response.text
    assert json.loads(response.text)["status"] == 401
