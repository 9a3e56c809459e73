"""The API made for a banner, over HTTP through the local host: revisions, the list form, the gpc
body field and query, the visitor's own proof, the 409 body, the catalog's texts, the served files."""

from __future__ import annotations

import gzip
import secrets
import uuid
from typing import Any

import httpx
import pytest

from devstack.devkeys import DevIdentityProvider
from functions.proof.offline import check_chain
from functions.proof.trust import PublishedKeys
from functions.web.assets import current

pytestmark = pytest.mark.e2e


def visitor_id() -> str:
    return secrets.token_urlsafe(18)


def catalog(api: httpx.Client) -> dict[str, Any]:
    found: dict[str, Any] = api.get("/catalog").json()
    return found


def test_catalog_gives_the_revision_the_policy_url_and_each_cookie_categorys_texts(api: httpx.Client) -> None:
    response = api.get("/catalog")
    assert response.headers["cache-control"] == "public, max-age=60"
    body = response.json()
    assert isinstance(body["currentVersion"]["revision"], int)
    assert body["policyUrl"].startswith("https://")
    categories = body["cookieCategories"]
    assert [c["category"] for c in categories] == ["necessary", "functional", "analytics", "marketing"]
    assert categories[0]["alwaysOn"] is True
    assert categories[2] == {
        "category": "analytics",
        "purposeId": "cookie.analytics",
        "title": "Analytics cookies",
        "description": "Cookies that measure visits and page views (Google Analytics).",
        "alwaysOn": False,
    }


def test_accepted_categories_as_a_list_and_the_answer_carries_revisions(api: httpx.Client) -> None:
    vid, current_version = visitor_id(), catalog(api)["currentVersion"]
    saved = api.put(f"/cookies/{vid}", json={"categories": ["analytics"], "policyVersion": current_version["version"]})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["categories"] == {"necessary": True, "functional": False, "analytics": True, "marketing": False}
    assert body["policyRevision"] == body["currentPolicyRevision"] == current_version["revision"]
    assert body["policyUrl"] == catalog(api)["policyUrl"]
    twice = api.put(f"/cookies/{vid}", json={"categories": ["analytics", "analytics"], "policyVersion": "2026-11"})
    assert twice.status_code == 422
    unknown = api.put(f"/cookies/{vid}", json={"categories": ["tracking"], "policyVersion": "2026-11"})
    assert unknown.status_code == 422
    assert api.get(f"/cookies/{vid}/proof").json()["verification"]["eventCount"] == 1  # the refusals wrote nothing


def test_gpc_seen_only_by_script_is_recorded_like_the_header(api: httpx.Client) -> None:
    version = catalog(api)["currentVersion"]["version"]
    vid = visitor_id()
    saved = api.put(f"/cookies/{vid}", json={"categories": ["marketing"], "policyVersion": version, "gpc": True})
    assert saved.json()["categories"]["marketing"] is False
    assert saved.json()["gpcHonoured"] is True
    proof = api.get(f"/cookies/{vid}/proof").json()
    assert proof["events"][0]["decisions"]["cookie.marketing"] == {"granted": False, "source": "gpc"}
    override = {"categories": ["marketing"], "policyVersion": version, "gpc": True, "gpcOverride": True}
    assert api.put(f"/cookies/{vid}", json=override).json()["categories"]["marketing"] is True
    no_signal = api.put(f"/cookies/{visitor_id()}", json={**override, "gpc": False})
    assert no_signal.status_code == 422

    granted = visitor_id()  # a grant made without the signal is withdrawn when the page reports it
    api.put(f"/cookies/{granted}", json={"categories": ["marketing"], "policyVersion": version}).raise_for_status()
    read = api.get(f"/cookies/{granted}", params={"gpc": "1"}).json()
    assert read["categories"]["marketing"] is False
    assert api.get(f"/cookies/{granted}/proof").json()["events"][-1]["source"] == "gpc"
    assert api.get(f"/cookies/{granted}", params={"gpc": "yes"}).status_code == 422


def test_an_outdated_version_is_409_with_the_current_version_and_revision(
    api: httpx.Client, identity: tuple[DevIdentityProvider, DevIdentityProvider]
) -> None:
    old = catalog(api)["currentVersion"]
    token = identity[1].token("dpo-1", ["Privacy.Publisher"])
    version = {"version": f"v-{uuid.uuid4().hex[:8]}", "text": f"Policy {uuid.uuid4()}.", "renewPurposes": []}
    api.post("/staff/policy-versions", json=version, headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    vid = visitor_id()
    stale = api.put(f"/cookies/{vid}", json={"categories": [], "policyVersion": old["version"]})
    assert stale.status_code == 409
    assert stale.json()["currentPolicyVersion"] == version["version"]
    assert stale.json()["currentPolicyRevision"] == old["revision"] + 1
    assert api.get(f"/cookies/{vid}/proof").json()["events"] == []


def test_the_proof_of_a_visitor_is_theirs_verified_and_browsers_may_read_it(api: httpx.Client) -> None:
    vid = visitor_id()
    version = catalog(api)["currentVersion"]["version"]
    saved = api.put(f"/cookies/{vid}", json={"categories": [], "policyVersion": version})
    saved.raise_for_status()
    response = api.get(f"/cookies/{vid}/proof", headers={"Origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["cache-control"] == "no-store"
    proof = response.json()
    assert proof["verification"] == {
        "valid": True,
        "eventCount": 1,
        "headHash": proof["events"][0]["hash"],
        "problems": [],
        "checkpoint": None,
    }
    # Checked offline against the published keys: the chain holds, and the save's receipt agrees with it.
    keys = PublishedKeys.from_jwks(api.get("/proof/jwks.json").json())
    lines = check_chain(proof, keys, [saved.json()["receipt"]])
    assert lines[0] == f"chain of visitor:{vid}: 1 events, every hash and link holds"
    assert lines[-1] == "receipt of event 1 is signed and the ledger agrees with it"
    assert api.get("/cookies/short/proof").status_code == 422


def test_the_banner_is_served_under_its_versioned_name_for_a_year_and_small(api: httpx.Client) -> None:
    banner = current("banner.js")
    response = api.get(f"/web/js/{banner.file_name}", headers={"Origin": "https://shop.example"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["access-control-allow-origin"] == "*"  # SRI on another origin needs CORS
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == banner.body
    assert len(gzip.compress(response.content)) < 6 * 1024
    assert api.get("/web/js/banner-0.0.1.js").status_code == 404
    assert api.get("/web/js/banner.js").status_code == 422
    assert api.get(f"/web/css/{current('privacy.css').file_name}").headers["content-type"].startswith("text/css")


def test_a_request_status_by_reference_shows_no_address(api: httpx.Client) -> None:
    missing = api.get(f"/requests/{uuid.uuid4()}/status")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert api.get("/requests/not-a-reference/status").status_code == 422
