"""Data-subject requests end to end: HTTP through the local host, the queue worker, and every stand-in."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import stripe
from sendgrid import SendGridAPIClient

from adapters.cosmos import CosmosDocumentStore, connect
from core.containers import CONSENT_EVENTS, database_spec
from core.keyring import StaticKeyRing
from devstack.demo_data import DemoPerson, Seeded, seed_person
from devstack.devkeys import DevIdentityProvider
from devstack.services import COSMOS_LOCAL_KEY, SENDGRID_LOCAL_KEY, STRIPE_LOCAL_KEY
from devstack.stack import LocalStack
from functions.consent.ledger_repository import ConsentLedger
from functions.requests.deadlines import Calendar, deadlines
from functions.requests.links import LinkClaims, make_token

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https?://\S+")


@pytest.fixture(scope="module")
def store(local_stack: LocalStack) -> CosmosDocumentStore:
    client = connect(f"https://127.0.0.1:{local_stack.ports.cosmos}/", COSMOS_LOCAL_KEY, verify_tls=False)
    return CosmosDocumentStore(client, database_spec())


@pytest.fixture(scope="module")
def stripe_client(local_stack: LocalStack) -> stripe.StripeClient:
    return stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": local_stack.stripe_url})


@pytest.fixture(scope="module")
def mail(local_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local_stack.mail_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def officer(identity: tuple[DevIdentityProvider, DevIdentityProvider]) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity[1].token('dpo-1', ['Privacy.Officer'])}"}


def seed(
    local_stack: LocalStack, store: CosmosDocumentStore, stripe_client: stripe.StripeClient, **counts: int
) -> tuple[DemoPerson, Seeded]:
    person = DemoPerson(f"person-{uuid.uuid4().hex[:10]}@example.com", "Erin Example")
    sendgrid = SendGridAPIClient(api_key=SENDGRID_LOCAL_KEY, host=local_stack.mail_url)
    pepper = local_stack.app_settings()["SUBJECT_HASH_PEPPER"]
    seeded = seed_person(store, pepper, person, stripe_client=stripe_client, sendgrid_client=sendgrid, **counts)
    return person, seeded


def mails_to(mail: httpx.Client, address: str, subject_part: str, wait: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + wait
    while True:
        found = [m for m in mail.get("/_mails", params={"to": address}).json() if subject_part in m["subject"]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def link_in(message: dict[str, Any]) -> str:
    text = next(c["value"] for c in message["content"] if c["type"] == "text/plain")
    match = LINK.search(text)
    assert match, "no link in the mail"
    return match.group(0)


def token_from(message: dict[str, Any]) -> str:
    return link_in(message).split("token=", 1)[1]


def wait_for_status(api: httpx.Client, officer: dict[str, str], request_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        view = api.get(f"/staff/requests/{request_id}", headers=officer).json()
        if view["status"] == status or time.monotonic() > deadline:
            assert view["status"] == status, {"status": view["status"], "steps": view["steps"]}
            return dict(view)
        time.sleep(0.3)


def submit_and_verify(api: httpx.Client, mail: httpx.Client, email: str, kind: str) -> tuple[str, str]:
    response = api.post("/requests", json={"type": kind, "email": email, "jurisdiction": "GDPR"})
    assert response.status_code == 202, response.text
    verification = mails_to(mail, email, "Confirm your privacy request")[-1]  # the newest, if it joined
    token = token_from(verification)
    page = api.get("/requests/verify", params={"token": token})
    assert page.status_code == 200
    assert "<form method=post>" in page.text
    verified = api.post("/requests/verify", json={"token": token})
    assert verified.status_code == 200, verified.text
    return str(verified.json()["id"]), token


def test_access_request_delivers_an_archive_with_the_seeded_data(
    api: httpx.Client,
    mail: httpx.Client,
    officer: dict[str, str],
    local_stack: LocalStack,
    store: CosmosDocumentStore,
    stripe_client: stripe.StripeClient,
) -> None:
    person, seeded = seed(local_stack, store, stripe_client, navigation=25, language=7)
    unknown = api.post("/requests", json={"type": "access", "email": "nobody-known@example.com"})
    known = api.post("/requests", json={"type": "access", "email": person.email})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()  # never reveals whether an address is known

    request_id, token = submit_and_verify(api, mail, person.email, "access")  # joins the open request
    view = wait_for_status(api, officer, request_id, "completed")
    assert view["email"] is None
    assert all(step["status"] == "done" for step in view["steps"])
    helsinki = Calendar(ZoneInfo("Europe/Helsinki"))  # the stack's DSR_GDPR_TIME_ZONE (the default)
    due = deadlines("GDPR", datetime.fromisoformat(view["receivedAt"]), helsinki).due_at
    assert datetime.fromisoformat(view["dueAt"]) == due  # GDPR Art. 12(3): a month, to the end of that day

    (ready,) = mails_to(mail, person.email, "Your personal data is ready")
    archive = httpx.get(link_in(ready), timeout=30)
    assert archive.status_code == 200
    files = zipfile.ZipFile(io.BytesIO(archive.content))
    names = set(files.namelist())
    assert {
        "README.txt",
        "request.json",
        "profiles.json",
        "navigation-events.json",
        "stripe-customer.json",
        "sendgrid-contact.json",
        "consent-ledger.json",
    } <= names
    assert json.loads(files.read("profiles.json"))[0]["email"] == person.email
    assert len(json.loads(files.read("navigation-events.json"))) == 25
    assert len(json.loads(files.read("language-data.json"))) == 7
    stripe_export = files.read("stripe-customer.json").decode()
    assert seeded.stripe_customer_id
    assert seeded.stripe_customer_id in stripe_export
    assert '"last4": "4242"' in stripe_export or '"last4":"4242"' in stripe_export
    assert "4242424242424242" not in stripe_export
    customer = json.loads(stripe_export)[0]["customer"]
    assert datetime.fromisoformat(customer["created"]).tzinfo is not None  # times for people, not Unix seconds
    readme = files.read("README.txt").decode()
    assert "navigation-events.json: 25 items" in readme
    assert "Who holds it: Stripe, Inc." in readme
    assert "supervisory authority" in readme
    assert "proofSalt" not in files.read("consent-ledger.json").decode()
    assert person.email in files.read("sendgrid-contact.json").decode()

    reused = api.post("/requests/verify", json={"token": token})
    assert reused.status_code == 409
    altered = api.post("/requests/verify", json={"token": token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")})
    assert altered.status_code == 400
    ring = StaticKeyRing(local_stack.app_settings()["SIGNING_KEYS"])
    expired = make_token(ring, LinkClaims(request_id, "nonce", datetime.now(UTC) - timedelta(minutes=1)))
    assert api.post("/requests/verify", json={"token": expired}).status_code == 410
    for response in (reused, altered):
        assert person.email not in response.text


def test_erasure_removes_the_person_everywhere_and_certifies_it(
    api: httpx.Client,
    mail: httpx.Client,
    officer: dict[str, str],
    local_stack: LocalStack,
    store: CosmosDocumentStore,
    stripe_client: stripe.StripeClient,
    user_idp: DevIdentityProvider,
) -> None:
    person, seeded = seed(local_stack, store, stripe_client)
    consent_token = user_idp.token(seeded.user_id)
    version = api.get("/catalog").json()["currentVersion"]["version"]
    api.post(
        "/me/consents",
        json={"decisions": {"analytics": True}, "policyVersion": version},
        headers={
            "Authorization": f"Bearer {consent_token}",
            "X-Forwarded-For": "203.0.113.9",
            "User-Agent": "Erin-Browser/2",
        },
    ).raise_for_status()

    request_id, _ = submit_and_verify(api, mail, person.email, "erasure")
    waiting = api.get(f"/staff/requests/{request_id}", headers=officer).json()
    assert waiting["status"] == "awaiting-approval"
    plan = api.get(f"/staff/requests/{request_id}/erasure-plan", headers=officer)
    assert plan.status_code == 200
    actions = {e["location"]: (e["action"], e["items"]) for e in plan.json()["entries"]}
    assert actions["navigation-events"] == ("delete", 20)
    assert actions["orders"][0] == "anonymize"
    assert actions["consent-ledger"] == ("pseudonymize", 1)
    assert actions["stripe-customer"] == ("delete", 1)
    assert plan.json()["resolved"] == {"userId": seeded.user_id, "stripeCustomerIds": [seeded.stripe_customer_id]}

    approved = api.post(f"/staff/requests/{request_id}/approve", headers=officer)
    assert approved.status_code == 200
    done = wait_for_status(api, officer, request_id, "completed")
    assert done["email"] is None

    assert store.read("profiles", seeded.user_id, seeded.user_id) is None
    remaining = list(
        store.query("navigation-events", seeded.user_id, "SELECT * FROM c WHERE c.userId = @u", {"@u": seeded.user_id})
    )
    assert remaining == []
    orders = list(store.query("orders", seeded.user_id, "SELECT * FROM c WHERE c.userId = @u", {"@u": seeded.user_id}))
    assert orders
    assert all(o["billingEmail"] is None and o["billingName"] is None and o["amountCents"] for o in orders)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.customers.retrieve(seeded.stripe_customer_id or "")
    contacts = mail.post(
        "/v3/marketing/contacts/search/emails",
        json={"emails": [person.email]},
        headers={"Authorization": f"Bearer {SENDGRID_LOCAL_KEY}"},
    )
    assert contacts.status_code == 404
    suppressed = mail.get(
        f"/v3/asm/suppressions/global/{person.email}", headers={"Authorization": f"Bearer {SENDGRID_LOCAL_KEY}"}
    )
    assert person.email in suppressed.text

    events = list(
        store.query(
            CONSENT_EVENTS,
            f"user:{seeded.user_id}",
            "SELECT * FROM c WHERE c.subjectId = @s",
            {"@s": f"user:{seeded.user_id}"},
        )
    )
    assert events
    assert all(e["ipTruncated"] is None and e["userAgent"] is None and e["proofSalt"] is None for e in events)
    _, verification = ConsentLedger(store).history(f"user:{seeded.user_id}")
    assert verification.valid  # the proof is kept, pseudonymous, and still verifies

    certificate = api.get(f"/certificates/{request_id}").json()
    text = json.dumps(certificate)
    assert person.email not in text
    assert "Erin" not in text
    assert seeded.user_id not in text
    steps = {s["location"]: s for s in certificate["steps"]}
    assert steps["navigation-events"]["counts"] == {"found": 20, "deleted": 20, "remaining": 0}
    assert steps["stripe-customer"]["confirmations"][0]["reference"] == seeded.stripe_customer_id
    assert api.post("/certificates/verify", json=certificate).json()["valid"] is True
    forged = {**certificate, "steps": certificate["steps"][1:]}
    assert api.post("/certificates/verify", json=forged).json()["valid"] is False
    (done_mail,) = mails_to(mail, person.email, "has been erased")
    assert request_id in done_mail["content"][0]["value"]


def test_bad_requests_are_refused_and_limited(api: httpx.Client, mail: httpx.Client, officer: dict[str, str]) -> None:
    assert api.post("/requests", json={"type": "access", "email": "not-an-email"}).status_code == 422
    assert api.post("/requests", json={"type": "sell-my-data", "email": "a@example.com"}).status_code == 422
    invalid = api.post("/requests", json={"type": "access", "email": "secret.person@@example.com"})
    assert "secret.person" not in invalid.text
    email = f"mailbomb-{uuid.uuid4().hex[:8]}@example.com"
    statuses = [api.post("/requests", json={"type": "access", "email": email}).status_code for _ in range(5)]
    assert statuses[:3] == [202, 202, 202]
    assert statuses[3:] == [429, 429]
    assert len(mails_to(mail, email, "Confirm")) == 3
    assert api.get("/staff/requests").status_code == 401
    assert api.get("/staff/requests", headers={"Authorization": "Bearer x"}).status_code == 401


def test_signed_in_users_see_only_their_own_requests(
    api: httpx.Client,
    mail: httpx.Client,
    user_idp: DevIdentityProvider,
    local_stack: LocalStack,
    store: CosmosDocumentStore,
    stripe_client: stripe.StripeClient,
    officer: dict[str, str],
) -> None:
    person, seeded = seed(local_stack, store, stripe_client, navigation=3)
    mine = {"Authorization": f"Bearer {user_idp.token(seeded.user_id)}"}
    other = {"Authorization": f"Bearer {user_idp.token('somebody-else')}"}
    created = api.post("/me/requests", json={"type": "access", "jurisdiction": "CCPA"}, headers=mine)
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["status"] == "in-progress"  # verified by the token, no mail round trip
    assert body["acknowledgeBy"] is not None  # CCPA: acknowledge within 10 business days
    assert body["acknowledgedAt"] is not None  # ... and it was: the confirmation of receipt went out
    (receipt,) = mails_to(mail, person.email, "We received your privacy request")
    assert body["dueAt"][:10] in receipt["content"][0]["value"]
    assert [r["id"] for r in api.get("/me/requests", headers=mine).json()["requests"]] == [body["id"]]
    assert api.get("/me/requests", headers=other).json()["requests"] == []
    wait_for_status(api, officer, body["id"], "completed")


def test_an_under_13_account_is_erased_and_the_parent_told(
    api: httpx.Client,
    mail: httpx.Client,
    local_stack: LocalStack,
    store: CosmosDocumentStore,
    stripe_client: stripe.StripeClient,
    officer: dict[str, str],
) -> None:
    _person, seeded = seed(local_stack, store, stripe_client, navigation=4)
    parent = f"parent-{uuid.uuid4().hex[:8]}@example.com"
    key = {"x-functions-key": local_stack.function_key}
    flagged = api.post(f"/accounts/{seeded.user_id}/under-13", json={"parentEmail": parent}, headers=key)
    assert flagged.status_code == 202, flagged.text
    assert flagged.json()["onBehalfOfChild"] is True
    wait_for_status(api, officer, flagged.json()["id"], "completed")
    assert store.read("profiles", seeded.user_id, seeded.user_id) is None
    assert mails_to(mail, parent, "child")


@pytest.fixture(scope="module")
def user_idp(identity: tuple[DevIdentityProvider, DevIdentityProvider]) -> DevIdentityProvider:
    return identity[0]


def test_step_messages_that_kept_failing_show_up_for_staff(
    api: httpx.Client, officer: dict[str, str], app_settings: dict[str, str]
) -> None:
    from azure.storage.queue import QueueClient, TextBase64EncodePolicy

    poison = QueueClient.from_connection_string(
        app_settings["AzureWebJobsStorage"], "dsr-steps-poison", message_encode_policy=TextBase64EncodePolicy()
    )
    marker = str(uuid.uuid4())
    poison.send_message(json.dumps({"requestId": marker, "step": "stripe-customer"}))
    listed = api.get("/staff/request-steps/poison", headers=officer)
    assert listed.status_code == 200
    assert any(m["message"].get("requestId") == marker for m in listed.json()["messages"])
    assert api.get("/staff/request-steps/poison").status_code == 401


def test_no_address_reaches_the_logs(local_stack: LocalStack) -> None:
    """Every address these tests used ends in example.com; none may appear in any log of the stack."""
    host = (local_stack.log_dir / "functions.log").read_text(errors="replace")
    assert "dsr step done" in host  # the worker really logged
    for log in local_stack.log_dir.glob("*.log"):
        if log.name in {"functions.log", "mail.log", "stripe.log", "stripe-calls.log"}:
            assert "@example.com" not in log.read_text(errors="replace"), log.name


def test_odd_ids_in_paths_are_refused_cleanly(
    api: httpx.Client, officer: dict[str, str], local_stack: LocalStack
) -> None:
    malformed = api.get("/staff/requests/not-a-uuid", headers=officer)
    assert malformed.status_code == 422
    assert malformed.json()["errors"] == [{"path": "path/requestId", "message": "must be a request id (a UUID)"}]
    assert api.get("/certificates/%23hash", headers=officer).status_code == 422
    assert api.get(f"/certificates/{uuid.uuid4()}").status_code == 404
    assert api.get("/certificates/verify").status_code == 405  # the check's route, as documented
    key = {"x-functions-key": local_stack.function_key}
    odd = api.post("/accounts/a%23b/under-13", json={}, headers=key)
    assert odd.status_code == 422


def test_staff_find_requests_by_address_page_by_page_and_unknown_filters_are_refused(
    api: httpx.Client, identity: tuple[DevIdentityProvider, DevIdentityProvider]
) -> None:
    searcher = f"dpo-{uuid.uuid4().hex[:6]}"
    officer = {"Authorization": f"Bearer {identity[1].token(searcher, ['Privacy.Officer'])}"}
    auditor = {"Authorization": f"Bearer {identity[1].token('auditor-2', ['Privacy.Auditor'])}"}
    email = f"findme-{uuid.uuid4().hex[:8]}@example.com"
    api.post("/requests", json={"type": "erasure", "email": email}).raise_for_status()
    api.post("/requests", json={"type": "access", "email": email}).raise_for_status()
    found = api.get("/staff/requests", params={"email": email.upper()}, headers=officer)
    assert found.status_code == 200, found.text
    assert [r["email"] for r in found.json()["requests"]] == [email, email]
    first = api.get("/staff/requests", params={"pageSize": 1}, headers=officer).json()
    assert len(first["requests"]) == 1
    assert first["continuation"]
    second = api.get("/staff/requests", params={"pageSize": 1, "continuation": first["continuation"]}, headers=officer)
    assert second.status_code == 200
    assert second.json()["requests"][0]["id"] != first["requests"][0]["id"]
    for bad in ({"status": "sold"}, {"type": "everything"}, {"dueBefore": "soon"}, {"pageSize": "0"}):
        refused = api.get("/staff/requests", params=bad, headers=officer)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["path"].startswith("query/")
    garbage = api.get("/staff/requests", params={"continuation": "not-a-token"}, headers=officer)
    assert garbage.status_code == 422
    trail = api.get("/staff/audit", params={"actor": searcher}, headers=auditor)
    assert trail.status_code == 200
    searches = [r for r in trail.json()["records"] if r["action"] == "requests.listed"]
    assert any(r["details"]["filters"] == ["email"] for r in searches)
    assert email not in trail.text  # which filters were used, never the address
    assert email.upper() not in trail.text


def test_every_staff_read_is_audited_and_auditors_read_the_trail(
    api: httpx.Client, identity: tuple[DevIdentityProvider, DevIdentityProvider]
) -> None:
    reader = f"dpo-{uuid.uuid4().hex[:6]}"
    staff = {"Authorization": f"Bearer {identity[1].token(reader, ['Privacy.Officer'])}"}
    assert api.get("/staff/request-steps/poison", headers=staff).status_code == 200
    assert api.get("/staff/requests", headers=staff).status_code == 200
    assert api.get("/staff/audit", headers=staff).status_code == 403  # an officer is not an auditor
    auditor = {"Authorization": f"Bearer {identity[1].token('auditor-1', ['Privacy.Auditor'])}"}
    trail = api.get("/staff/audit", params={"actor": reader}, headers=auditor)
    assert trail.status_code == 200, trail.text
    actions = [r["action"] for r in trail.json()["records"]]
    assert sorted(actions) == ["request-steps.poison-read", "requests.listed"]
    assert all(r["actor"] == reader for r in trail.json()["records"])
    later = api.get("/staff/audit", params={"actor": reader, "since": "2999-01-01T00:00:00Z"}, headers=auditor)
    assert later.json()["records"] == []
