"""Notices and opt-outs end to end: over HTTP through the local host, its queues, the mail server's
unsubscribe groups and signed Event Webhook, and Cosmos DB."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from azure.storage.queue import QueueClient

from bootstrap import Services
from core.containers import PROFILES
from core.pseudonyms import keyed_hash
from devstack.devkeys import DevIdentityProvider
from devstack.stack import LocalStack
from functions.fanout.lifecycle import EVENTS_QUEUE
from functions.proof.receipts import RECEIPT_TYPE
from functions.proof.trust import PublishedKeys, verify_document

pytestmark = pytest.mark.e2e
MARKETING = "marketing-email"


@pytest.fixture(scope="module")
def mail(local_stack: LocalStack, app_settings: dict[str, str]) -> Iterator[httpx.Client]:
    auth = {"Authorization": f"Bearer {app_settings['SENDGRID_API_KEY']}"}
    with httpx.Client(base_url=local_stack.mail_url, timeout=30, headers=auth) as client:
        yield client


@pytest.fixture(scope="module")
def group_id(app_settings: dict[str, str]) -> int:
    return int(app_settings["SENDGRID_MARKETING_GROUP_ID"])


@pytest.fixture
def person(stack_services: Services, app_settings: dict[str, str]) -> Callable[[], tuple[str, str]]:
    """A user with a profile (as the product writes it): their id and address."""

    def make() -> tuple[str, str]:
        user_id = f"notices-{uuid.uuid4().hex[:12]}"
        email = f"{user_id}@example.com"
        profile = {"id": user_id, "userId": user_id, "email": email}
        stack_services.documents.upsert(
            PROFILES, {**profile, "emailHash": keyed_hash(app_settings["SUBJECT_HASH_PEPPER"], email)}
        )
        return user_id, email

    return make


def user(identity: tuple[DevIdentityProvider, DevIdentityProvider], user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity[0].token(user_id)}"}


def staff(identity: tuple[DevIdentityProvider, DevIdentityProvider], who: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity[1].token(who, [role])}"}


def decide(api: httpx.Client, headers: dict[str, str], granted: bool) -> None:
    version = api.get("/catalog").json()["currentVersion"]["version"]
    answer = api.post(
        "/me/consents", json={"decisions": {MARKETING: granted}, "policyVersion": version}, headers=headers
    )
    assert answer.status_code == 201, answer.text


def marketing(api: httpx.Client, headers: dict[str, str]) -> dict[str, Any] | None:
    purposes: dict[str, Any] = api.get("/me/consents", headers=headers).json()["purposes"]
    return purposes.get(MARKETING)


def in_group(mail: httpx.Client, group: int, email: str) -> bool:
    return email in mail.get(f"/v3/asm/groups/{group}/suppressions").json()


def eventually(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def ledger_events(api: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.get("/me/consents/proof", headers=headers).json()["events"]
    return events


def test_a_dashboard_withdrawal_reaches_the_group_and_a_later_grant_lifts_only_the_group(
    api: httpx.Client, mail: httpx.Client, group_id: int, person: Any, identity: Any
) -> None:
    user_id, email = person()
    headers = user(identity, user_id)
    decide(api, headers, False)
    eventually(lambda: in_group(mail, group_id, email), "the withdrawal never reached the unsubscribe group")
    # An erased person's address stays on the global list; a grant must never take it off.
    assert mail.post("/v3/asm/suppressions/global", json={"recipient_emails": [email]}).status_code == 201
    decide(api, headers, True)
    eventually(lambda: not in_group(mail, group_id, email), "the grant never lifted the group suppression")
    assert mail.get(f"/v3/asm/suppressions/global/{email}").json() == {"recipient_email": email}


def test_a_one_click_unsubscribe_works_without_cookies_and_a_second_click_changes_nothing(
    api: httpx.Client, mail: httpx.Client, group_id: int, person: Any, identity: Any, local_stack: LocalStack
) -> None:
    user_id, email = person()
    headers = user(identity, user_id)
    decide(api, headers, True)
    key = {"x-functions-key": local_stack.function_key}
    listed = []
    continuation = None
    while True:  # the product builds its list from the export, with each person's link
        page = api.get(
            "/consents/allowed",
            params={"purpose": MARKETING, "pageSize": 1000, **({"continuation": continuation} if continuation else {})},
            headers=key,
        ).json()
        listed += [s for s in page["subjects"] if s["subjectId"] == f"user:{user_id}"]
        continuation = page["continuation"]
        if continuation is None:
            break
    assert [s["email"] for s in listed] == [email]
    link = listed[0]["unsubscribeUrl"]
    assert email not in link
    assert user_id not in link
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        shown = browser.get(link)  # a mail scanner following the link unsubscribes nobody
        assert shown.status_code == 200
        assert "<form method=post" in shown.text
        assert marketing(api, headers)["granted"] is True  # type: ignore[index]
    with httpx.Client(timeout=30, follow_redirects=False) as mail_client:  # no cookie jar of ours at all
        clicked = mail_client.post(
            link, content=b"List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert clicked.status_code == 200
        assert "set-cookie" not in clicked.headers
        again = mail_client.post(
            link, content=b"List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert again.status_code == 200
        assert "already" in again.text
    decision = marketing(api, headers)
    assert decision is not None
    assert (decision["granted"], decision["source"]) == (False, "unsubscribe-link")
    assert [e["source"] for e in ledger_events(api, headers)].count("unsubscribe-link") == 1
    eventually(lambda: in_group(mail, group_id, email), "the link's withdrawal never reached the group")
    bad = httpx.post(link.replace("token=", "token=x"), content=b"List-Unsubscribe=One-Click")
    assert bad.status_code == 400
    assert email not in bad.text


def test_a_sendgrid_group_unsubscribe_is_a_withdrawal_and_its_replay_changes_nothing(
    api: httpx.Client, mail: httpx.Client, group_id: int, person: Any, identity: Any, app_settings: dict[str, str]
) -> None:
    user_id, email = person()
    headers = user(identity, user_id)
    decide(api, headers, True)
    acted = mail.post("/_people/unsubscribe", json={"email": email, "kind": "group", "groupId": group_id})
    assert acted.status_code == 200, acted.text

    def withdrawn() -> bool:
        decision = marketing(api, headers)
        return decision is not None and decision["granted"] is False

    eventually(withdrawn, "SendGrid's unsubscribe event never became a withdrawal")
    assert marketing(api, headers)["source"] == "sendgrid"  # type: ignore[index]
    count = len(ledger_events(api, headers))
    replayed = mail.post("/_events/replay")
    assert replayed.json()["status"] == 200  # our webhook took it (signed, in the window) and queued it
    events_queue = QueueClient.from_connection_string(app_settings["AzureWebJobsStorage"], EVENTS_QUEUE)
    eventually(
        lambda: events_queue.get_queue_properties().approximate_message_count == 0,
        "the replayed event was never applied",
    )
    assert len(ledger_events(api, headers)) == count


def test_a_spam_report_is_a_withdrawal_too(api: httpx.Client, mail: httpx.Client, person: Any, identity: Any) -> None:
    user_id, email = person()
    headers = user(identity, user_id)
    decide(api, headers, True)
    assert mail.post("/_people/unsubscribe", json={"email": email, "kind": "spamreport"}).status_code == 200
    eventually(lambda: (marketing(api, headers) or {}).get("granted") is False, "the spam report was not a withdrawal")


def test_staff_record_an_emailed_opt_out_and_push_tokens_follow(
    api: httpx.Client, person: Any, identity: Any, stack_services: Services, local_stack: LocalStack
) -> None:
    user_id, _ = person()
    for n in range(2):
        stack_services.documents.upsert(
            "devices", {"id": f"{user_id}-d{n}", "userId": user_id, "pushToken": f"tok-{user_id}-{n}"}
        )
    officer = staff(identity, "agent-7", "Privacy.Officer")
    body = {"purpose": "push-notifications", "reason": "Ticket 4711: asked by email"}
    recorded = api.post(
        f"/staff/subjects/user:{user_id}/opt-outs", json=body, headers={**officer, "Idempotency-Key": "ticket-4711"}
    )
    assert recorded.status_code == 201, recorded.text
    # The withdrawal answers its signed receipt, as every recorded decision does.
    keys = PublishedKeys.from_jwks(api.get("/proof/jwks.json").json())
    receipt = verify_document(recorded.json()["receipt"]["jws"], keys, RECEIPT_TYPE).claims
    assert receipt == recorded.json()["receipt"]["claims"]
    assert (receipt["piiPrincipalId"], receipt["collectionMethod"]) == (f"user:{user_id}", "staff")
    assert [(p["purposeId"], p["consentStatus"]) for p in receipt["purposes"]] == [("push-notifications", "refused")]
    repeated = api.post(
        f"/staff/subjects/user:{user_id}/opt-outs", json=body, headers={**officer, "Idempotency-Key": "ticket-4711"}
    )
    assert (repeated.status_code, repeated.json()["withdrawn"], repeated.json()["receipt"]) == (200, False, None)
    event = ledger_events(api, user(identity, user_id))[-1]
    assert (event["source"], event["actor"]) == ("staff", "agent-7")
    devices = list(
        stack_services.documents.query("devices", user_id, "SELECT * FROM c WHERE c.userId = @u", {"@u": user_id})
    )
    assert [d.get("pushDisabled") for d in devices] == [True, True]
    key = {"x-functions-key": local_stack.function_key}
    check = api.get(
        "/consents/check", params={"subject": f"user:{user_id}", "purpose": "push-notifications"}, headers=key
    )
    assert check.json()["allowed"] is False
    gone = api.post("/devices/invalid-tokens", json={"userId": user_id, "tokens": [f"tok-{user_id}-0"]}, headers=key)
    assert gone.json() == {"deleted": 1}
    assert api.post("/devices/push-opt-out", json={"userId": user_id}, headers=key).json()["withdrawn"] is False


def test_a_business_transfer_to_2500_people_is_three_requests_and_reaches_the_unsubscribed(
    api: httpx.Client,
    mail: httpx.Client,
    group_id: int,
    identity: Any,
    stack_services: Services,
    app_settings: dict[str, str],
) -> None:
    store, pepper = stack_services.documents, app_settings["SUBJECT_HASH_PEPPER"]
    existing = list(store.query_across_partitions(PROFILES, "SELECT c.userId FROM c WHERE IS_STRING(c.email)", {}))
    assert len(existing) < 2500, "other tests left too many profiles for this count"
    tag = uuid.uuid4().hex[:6]
    seeded = []
    for n in range(2500 - len(existing)):
        user_id = f"transfer-{tag}-{n:05d}"
        email = f"{user_id}@example.com"
        store.upsert(
            PROFILES, {"id": user_id, "userId": user_id, "email": email, "emailHash": keyed_hash(pepper, email)}
        )
        seeded.append((user_id, email))
    try:
        unsubscribed = seeded[0][1]
        assert (
            mail.post(
                "/_people/unsubscribe", json={"email": unsubscribed, "kind": "group", "groupId": group_id}
            ).status_code
            == 200
        )
        assert mail.post("/_people/unsubscribe", json={"email": seeded[1][1], "kind": "global"}).status_code == 200
        publisher = staff(identity, "publisher-1", "Privacy.Publisher")
        body = {
            "kind": "business-transfer",
            "title": "We are joining Example Corp",
            "text": f"Example Corp is buying our company ({tag}). Your data stays under our privacy policy.",
            "link": "https://example.com/transfer",
        }
        published = api.post("/staff/notices", json=body, headers=publisher)
        assert published.status_code == 201, published.text
        assert api.post("/staff/notices", json=body, headers=publisher).status_code == 200  # clicked twice
        notice_id = published.json()["id"]
        active = api.get("/notices/active")
        assert notice_id in [n["id"] for n in active.json()["notices"]]
        assert active.headers["cache-control"].startswith("public")
        eventually(
            lambda: api.get(f"/staff/notices/{notice_id}", headers=publisher).json()["mailing"] == "sent",
            "the notice was never mailed",
            seconds=180,
        )
        sent = [m for m in mail.get("/_mails").json() if m["custom_args"].get("mailing_id") == notice_id]
        assert sorted(len(m["personalizations"]) for m in sent) == [500, 1000, 1000]
        addresses = [p["to"][0]["email"] for m in sent for p in m["personalizations"]]
        assert len(addresses) == len(set(addresses)) == 2500
        assert {unsubscribed, seeded[1][1]} <= set(addresses)  # owed to them: the unsubscribe does not hold it
        assert all(m["request"]["mail_settings"]["bypass_unsubscribe_management"]["enable"] for m in sent)
        assert api.get(f"/staff/notices/{notice_id}", headers=publisher).json()["recipients"] == 2500
        retired = api.post(f"/staff/notices/{notice_id}/retire", headers=publisher)
        assert retired.json()["status"] == "retired"
    finally:
        for user_id, _ in seeded:  # later tests mail everyone too: leave the stack as it was
            store.delete(PROFILES, user_id, user_id)


def test_a_gagged_disclosure_notifies_nobody_until_the_gag_ends_then_each_person_once(
    api: httpx.Client, mail: httpx.Client, person: Any, identity: Any, local_stack: LocalStack
) -> None:
    people = [person() for _ in range(3)]
    legal = staff(identity, "counsel-1", "Privacy.Legal")
    ends = datetime.now(UTC) + timedelta(seconds=20)
    body = {
        "authority": "District Court",
        "instrument": "court-order",
        "legalBasis": "Case 12-345",
        "categories": ["personal-information"],
        "subjects": [u for u, _ in people],
        "disclosed": "Account email and sign-in times.",
        "disclosedAt": datetime.now(UTC).isoformat(),
        "outcome": "disclosed",
        "approvedBy": "General Counsel",
        "gagUntil": ends.isoformat(),
        "gagReason": "The order forbids telling the account holders for now.",
    }
    recorded = api.post(
        "/staff/disclosures", json=body, headers={**legal, "Idempotency-Key": f"case-{uuid.uuid4().hex}"}
    )
    assert recorded.status_code == 201, recorded.text
    entry = recorded.json()
    assert (entry["noticeId"], entry["people"]) == (None, 3)
    assert sorted(entry["subjects"]) == sorted(u for u, _ in people)
    admin = httpx.Client(base_url=local_stack.functions_url.rsplit("/api", 1)[0], timeout=30)
    master = {"x-functions-key": local_stack.master_key}

    def watch() -> None:
        assert admin.post("/admin/functions/disclosure_watch", json={}, headers=master).status_code == 202

    watch()
    time.sleep(2)
    assert api.get(f"/staff/disclosures/{entry['id']}", headers=legal).json()["noticeId"] is None
    assert api.get("/me/notices", headers=user(identity, people[0][0])).json()["notices"] == []
    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 1)
    watch()
    watch()  # two watches: one notice
    eventually(
        lambda: api.get(f"/staff/disclosures/{entry['id']}", headers=legal).json()["noticeId"] is not None,
        "never notified",
    )
    notice_id = api.get(f"/staff/disclosures/{entry['id']}", headers=legal).json()["noticeId"]

    def mailed() -> list[str]:
        sent = [m for m in mail.get("/_mails").json() if m["custom_args"].get("mailing_id") == notice_id]
        return sorted(p["to"][0]["email"] for m in sent for p in m["personalizations"])

    eventually(lambda: len(mailed()) == 3, "the disclosure notice was not mailed to each person")
    time.sleep(2)
    assert mailed() == sorted(e for _, e in people)
    mine = api.get("/me/notices", headers=user(identity, people[0][0])).json()["notices"]
    assert [n["kind"] for n in mine] == ["legal-disclosure"]
    assert notice_id not in [n["id"] for n in api.get("/notices/active").json()["notices"]]
    seen = api.post(f"/me/notices/{notice_id}/seen", headers=user(identity, people[0][0]))
    assert seen.status_code == 204
    assert api.get("/me/notices", headers=user(identity, people[0][0])).json()["notices"] == []


def test_the_transparency_report_counts_ended_half_years_and_bands_small_counts(
    api: httpx.Client, identity: Any
) -> None:
    legal = staff(identity, "counsel-2", "Privacy.Legal")
    tag = uuid.uuid4().hex[:8]

    def record(n: int, instrument: str, outcome: str) -> None:
        body = {
            "authority": f"Agency {tag}",
            "instrument": instrument,
            "legalBasis": f"Request {tag}-{n}",
            "categories": ["personal-information"],
            "subjects": [f"report-{tag}-{n}"],
            "disclosed": "Nothing beyond the account email.",
            "disclosedAt": "2025-02-03T10:00:00Z",
            "outcome": outcome,
            "approvedBy": "General Counsel",
        }
        assert api.post("/staff/disclosures", json=body, headers=legal).status_code == 201

    for n in range(6):
        record(n, "subpoena", "partly-disclosed")
    for n in range(6, 8):
        record(n, "government-request", "refused")
    report = api.get("/transparency-report")
    assert report.headers["cache-control"].startswith("public")
    cells = {(c["halfYear"], c["instrument"], c["outcome"]): c for c in report.json()["periods"]}
    many = cells[("2025-H1", "subpoena", "partly-disclosed")]
    assert many["count"] >= 6
    assert many["band"] is None
    few = cells[("2025-H1", "government-request", "refused")]
    assert (few["count"], few["band"]) == (None, "1-4")
    assert tag not in report.text  # counts only: no authority, basis or person


def test_times_without_an_offset_are_refused_not_guessed(api: httpx.Client, identity: Any) -> None:
    legal = staff(identity, "counsel-3", "Privacy.Legal")
    body = {
        "authority": "District Court",
        "instrument": "court-order",
        "legalBasis": "Case 1",
        "categories": ["personal-information"],
        "subjects": ["someone"],
        "disclosed": "Email.",
        "disclosedAt": "2026-11-30T10:00:00",
        "outcome": "disclosed",
        "approvedBy": "General Counsel",
    }
    refused = api.post("/staff/disclosures", json=body, headers=legal)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    incident = {
        "title": "Backup copied",
        "awareAt": "2026-11-30T10:00:00",
        "description": "An outsider copied a backup.",
        "contactPoint": "dpo@example.com",
    }
    assert (
        api.post("/staff/incidents", json=incident, headers=staff(identity, "sec-9", "Privacy.Incident")).status_code
        == 422
    )


def test_the_public_facts_hold_every_sub_processor_the_policy_names(api: httpx.Client) -> None:
    facts = api.get("/privacy-facts")
    assert facts.status_code == 200
    names = [s["name"] for s in facts.json()["subprocessors"]]
    for named in ("Stripe", "SendGrid", "Microsoft Azure", "Google Analytics", "WordPress"):
        assert any(named in n for n in names), named
    assert {r["location"] for r in facts.json()["retention"]} >= {"profiles", "consent-ledger"}
    assert {p["id"] for p in facts.json()["purposes"]} >= {"marketing-email", "push-notifications"}
    page = api.get("/privacy-facts/page")
    assert page.headers["content-type"].startswith("text/html")
    assert "Transfer mechanism" in page.text
