"""Breach incidents end to end: over HTTP through the local host, the dispatch queue, the mail server."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devstack.devkeys import DevIdentityProvider, event_webhook_key_path
from devstack.stack import LocalStack

pytestmark = pytest.mark.e2e

COMPLETE = {
    "whatHappened": "A backup of the order database was copied by an outsider.",
    "informationInvolved": "Names, email addresses and billing addresses.",
    "whatWeAreDoing": "We closed the access and are working with forensic experts.",
    "whatYouCanDo": "Watch for unexpected mails that ask for payment.",
    "moreInformation": "Visit our security page or write to us.",
    "protectionProvided": "We reset every session and rotated every key.",
    "advice": "Be careful with mails that seem to come from us.",
    "cureAndTimeframe": "All systems will be reviewed by an outside firm within four weeks.",
    "contactPoint": "Our data protection officer, dpo@softwareengineeringconcepts.com.",
    "likelyConsequences": "Phishing mails using your name.",
    "measures": "Access closed, keys rotated, monitoring added.",
}


def staff(identity: tuple[DevIdentityProvider, DevIdentityProvider], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity[1].token(who, ['Privacy.Incident'])}"}


def open_incident(api: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    aware = datetime.now(UTC) - timedelta(hours=5)
    body = {
        "title": "Order backup copied",
        "awareAt": aware.isoformat(),
        "breachTime": {"kind": "range", "start": (aware - timedelta(days=9)).isoformat(), "end": aware.isoformat()},
        "description": "An outsider copied a database backup.",
        "categories": ["personal-information", "payment-information"],
        "approxPeople": 2500,
        "approxRecords": 7400,
        "jurisdictions": ["GDPR", "US-CO"],
        "residents": {"US-CO": 120},
        "contactPoint": "dpo@softwareengineeringconcepts.com",
    }
    created = api.post("/staff/incidents", json=body, headers=headers)
    assert created.status_code == 201, created.text
    incident: dict[str, Any] = created.json()
    return incident


def notice_mails(mail: httpx.Client, notice_id: str) -> list[dict[str, Any]]:
    return [m for m in mail.get("/_mails").json() if m["custom_args"].get("mailing_id") == notice_id]


@pytest.fixture(scope="module")
def mail(local_stack: LocalStack) -> Any:
    with httpx.Client(base_url=local_stack.mail_url, timeout=30) as client:
        yield client


def test_an_incident_from_awareness_to_the_last_batch(
    api: httpx.Client, mail: httpx.Client, identity: tuple[DevIdentityProvider, DevIdentityProvider]
) -> None:
    author, approver = staff(identity, "sec-1"), staff(identity, "dpo-2")
    assert (
        api.get("/staff/incidents", headers={"Authorization": f"Bearer {identity[1].token('x', [])}"}).status_code
        == 403
    )
    incident = open_incident(api, author)
    incident_id = incident["id"]
    clocks = {(c["jurisdiction"], c["audience"]): c for c in incident["clocks"]}
    aware = datetime.fromisoformat(incident["awareAt"])
    assert datetime.fromisoformat(clocks[("GDPR", "authority")]["dueAt"]) == aware + timedelta(hours=72)
    assert clocks[("GDPR", "individuals")]["dueAt"] is None
    assert ("US-CO", "authority") not in clocks  # 120 residents: under Colorado's 500

    tag = uuid.uuid4().hex[:6]
    for start in range(0, 2500, 1000):
        # The mail server bounces mail to bounces.example.com: five of the people cannot be reached.
        emails = [
            f"affected-{tag}-{n:05d}@{'bounces.' if n % 500 == 7 else ''}example.com"
            for n in range(start, min(start + 1000, 2500))
        ]
        added = api.post(f"/staff/incidents/{incident_id}/recipients", json={"emails": emails}, headers=author)
        assert added.status_code == 200, added.text
    again = api.post(f"/staff/incidents/{incident_id}/recipients", json={"emails": emails[:10]}, headers=author).json()
    assert (again["added"], again["alreadyRecorded"], again["total"]) == (0, 10, 2500)

    partial = {k: v for k, v in COMPLETE.items() if k != "advice"}
    drafted = api.post(
        f"/staff/incidents/{incident_id}/notices",
        json={"subject": "About your data", "content": partial},
        headers=author,
    )
    assert drafted.status_code == 201, drafted.text
    notice = drafted.json()["notice"]  # the answer names the notice it drafted
    assert drafted.json()["notices"] == [notice]
    assert (notice["incidentId"], notice["missing"]) == (incident_id, ["advice"])
    notice_id = notice["id"]
    approve = f"/staff/incidents/{incident_id}/notices/{notice_id}/approve"
    incomplete = api.post(approve, headers=approver)
    assert incomplete.status_code == 422
    assert incomplete.json()["missing"] == ["advice"]
    assert api.post(f"/staff/incidents/{incident_id}/notices/{notice_id}/send", headers=author).status_code == 409
    revised = api.put(
        f"/staff/incidents/{incident_id}/notices/{notice_id}",
        json={"subject": "About your data", "content": COMPLETE},
        headers=author,
    )
    assert revised.status_code == 200, revised.text
    assert (revised.json()["notice"]["id"], revised.json()["notice"]["missing"]) == (notice_id, [])
    assert api.post(approve, headers=author).status_code == 409  # the author alone cannot approve
    assert api.post(approve, headers=approver).status_code == 200
    preview = api.get(
        f"/staff/incidents/{incident_id}/notices/{notice_id}/preview", params={"format": "text"}, headers=author
    )
    assert preview.status_code == 200
    assert "What happened" in preview.text
    assert "How we are fixing it, and by when" in preview.text

    send = f"/staff/incidents/{incident_id}/notices/{notice_id}/send"
    assert api.post(send, headers=author).status_code == 202
    assert api.post(send, headers=author).status_code == 202  # pressed twice: nothing more goes out
    deadline = time.monotonic() + 120
    while api.get(f"/staff/incidents/{incident_id}", headers=author).json()["notices"][0]["status"] != "sent":
        assert time.monotonic() < deadline, "the notice was never sent"
        time.sleep(0.3)
    sent = notice_mails(mail, notice_id)
    assert sorted(len(m["personalizations"]) for m in sent) == [500, 1000, 1000]
    addresses = [p["to"][0]["email"] for m in sent for p in m["personalizations"]]
    assert len(addresses) == len(set(addresses)) == 2500
    for request in (m["request"] for m in sent):
        assert request["mail_settings"]["bypass_unsubscribe_management"]["enable"] is True
        assert set(request["custom_args"]) == {"incident_id", "mailing_id", "batch_id"}
        assert all(len(p["to"]) == 1 for p in request["personalizations"])

    delivery = f"/staff/incidents/{incident_id}/delivery"
    deadline = time.monotonic() + 120
    while (counts := api.get(delivery, headers=author).json()["notices"][0]["counts"]).get("delivered", 0) < 2495:
        assert time.monotonic() < deadline, counts
        time.sleep(0.5)
    assert counts == {"delivered": 2495, "bounce": 5, "unknown": 0}
    unreached = api.get(f"/staff/incidents/{incident_id}/notices/{notice_id}/unreached", headers=author).json()
    assert sorted(p["status"] for p in unreached["people"]) == ["bounce"] * 5
    assert all(p["email"].endswith("@bounces.example.com") for p in unreached["people"])
    replayed = mail.post("/_events/replay")  # the last signed batch, byte for byte, again
    assert replayed.status_code == 200
    assert api.get(delivery, headers=author).json()["notices"][0]["counts"] == counts

    report = api.get(f"/staff/incidents/{incident_id}/authority-report", headers=author)
    assert report.status_code == 200
    assert report.json()["nature"]["approximateDataSubjects"] == 2500
    page = api.get(f"/staff/incidents/{incident_id}/authority-report", params={"format": "html"}, headers=author)
    assert page.headers["content-type"].startswith("text/html")
    assert "Art. 33(3)(a)" in page.text


def test_a_late_filing_needs_its_reasons(
    api: httpx.Client, identity: tuple[DevIdentityProvider, DevIdentityProvider]
) -> None:
    author = staff(identity, "sec-1")
    incident = open_incident(api, author)
    filed_at = (datetime.fromisoformat(incident["awareAt"]) + timedelta(hours=80)).isoformat()
    filing = f"/staff/incidents/{incident['id']}/authority-filing"
    refused = api.post(filing, json={"authority": "BfDI", "filedAt": filed_at}, headers=author)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/late-reasons-required")
    body = {"authority": "BfDI", "filedAt": filed_at, "lateReasons": "The scope took days to establish."}
    assert api.post(filing, json=body, headers=author).status_code == 200


def test_the_event_webhook_refuses_what_sendgrid_did_not_sign_now(api: httpx.Client, local_stack: LocalStack) -> None:
    key = serialization.load_pem_private_key(event_webhook_key_path(local_stack.state_dir / "keys").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    events = [
        {
            "email": "someone@example.com",
            "event": "delivered",
            "sg_event_id": uuid.uuid4().hex,
            "incident_id": "x",
            "mailing_id": "y",
            "batch_id": "z",
        }
    ]
    body = json.dumps(events).encode()

    def post(timestamp: int, signature: bytes | None = None) -> httpx.Response:
        signed = signature or key.sign(str(timestamp).encode() + body, ec.ECDSA(hashes.SHA256()))
        headers = {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signed).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": str(timestamp),
            "Content-Type": "application/json",
        }
        return api.post("/webhooks/sendgrid/events", content=body, headers=headers)

    now = int(time.time())
    assert post(now - 600).status_code == 401  # outside the five-minute window
    assert post(now, signature=b"not a signature").status_code == 401
    unsigned = api.post("/webhooks/sendgrid/events", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert unsigned.headers["content-type"].startswith("application/problem+json")
    accepted = post(now)
    assert accepted.status_code == 200
    assert accepted.json() == {"queued": 1, "ignored": 0}  # signed: taken, and dropped for want of a batch of ours
    too_big = api.post("/webhooks/sendgrid/events", content=b"[" + b" " * (5 * 1024 * 1024) + b"]")
    assert too_big.status_code == 413
