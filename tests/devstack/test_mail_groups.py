"""Unsubscribe groups and spam reports in the mail server: who is dropped from a send, and what a person does.

A mail sent in a group (``asm.group_id``) is dropped for that group's suppressions only; spam
reports and global unsubscribes drop every mail; each list is bypassed as the Mail Send contract
says. ``POST /_people/unsubscribe`` and the outbox page's form stand in for a person using the
unsubscribe link or the spam button: the suppression is recorded and the signed event posted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.client import HTTPConnection, HTTPResponse
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import pytest

from tests.devstack.mail_harness import (
    Server,
    WebhookReceiver,
    errors_of,
    get_json,
    http,
    post_json,
    send,
    stored,
    valid_payload,
)
from tests.devstack.test_mail_events import batches, sent_id, settled, verifies

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ServerFactory = Callable[..., Server]
AUTH = {"Authorization": "Bearer SG.test"}


def new_group(server: Server, name: str) -> int:
    status, _, body = post_json(server.url + "/v3/asm/groups", {"name": name, "description": f"{name} mail"})
    assert status == 201, body
    return int(json.loads(body)["id"])


def suppress_in(server: Server, group_id: int, *addresses: str) -> None:
    url = f"{server.url}/v3/asm/groups/{group_id}/suppressions"
    status, _, body = post_json(url, {"recipient_emails": list(addresses)})
    assert status == 201, body


def group_members(server: Server, group_id: int) -> list[str]:
    status, _, body = http("GET", f"{server.url}/v3/asm/groups/{group_id}/suppressions", headers=AUTH)
    assert status == 200
    return list(json.loads(body))


def outcomes(server: Server, mail_id: str) -> dict[str, dict[str, Any]]:
    """Each recipient's last event (its outcome) in the mail's batch."""
    [batch] = batches(server, mail_id)
    return {event["email"]: event for event in batch["events"]}


def to_everyone(*addresses: str, **extra: Any) -> dict[str, Any]:
    return {**valid_payload(), "personalizations": [{"to": [{"email": a} for a in addresses]}], **extra}


def person(server: Server, body: dict[str, Any]) -> tuple[int, Any]:
    status, _, answer = post_json(server.url + "/_people/unsubscribe", body, key=None)
    return status, json.loads(answer)


# -- who is dropped --------------------------------------------------------------------------


def test_a_mail_in_a_group_is_dropped_for_that_groups_suppressions_only(server_factory: ServerFactory) -> None:
    server = server_factory()
    news, offers = new_group(server, "News"), new_group(server, "Offers")
    suppress_in(server, news, "Ada@example.com")
    suppress_in(server, offers, "bob@example.com")

    in_news = sent_id(server, to_everyone("ada@example.com", "bob@example.com", asm={"group_id": news}))
    events = outcomes(server, in_news)
    assert events["ada@example.com"]["event"] == "dropped"
    assert (events["ada@example.com"]["reason"], events["ada@example.com"]["status"]) == (
        "Unsubscribed Address",
        "5.0.0",
    )
    assert events["bob@example.com"]["event"] == "delivered"
    assert {e["asm_group_id"] for e in batches(server, in_news)[0]["events"]} == {news}
    mail = get_json(f"{server.url}/_mails/{in_news}")
    assert mail["suppressed"] == ["ada@example.com"]
    assert mail["drops"] == {"ada@example.com": "Unsubscribed Address"}
    page = http("GET", f"{server.url}/mails/{in_news}")[2].decode()
    assert f"<dt>Unsubscribe group</dt><dd>{news}</dd>" in page
    assert "<dt>Dropped</dt><dd>ada@example.com (Unsubscribed Address)</dd>" in page

    # A mail without a group, or in another group, is not stopped by a group's suppressions.
    no_group = sent_id(server, to_everyone("ada@example.com"))
    assert outcomes(server, no_group)["ada@example.com"]["event"] == "delivered"
    assert "asm_group_id" not in outcomes(server, no_group)["ada@example.com"]
    in_offers = sent_id(server, to_everyone("ada@example.com", asm={"group_id": offers}))
    assert outcomes(server, in_offers)["ada@example.com"]["event"] == "delivered"


@pytest.mark.parametrize(
    ("mail_settings", "outcome"),
    [
        ({}, "dropped"),
        ({"bypass_list_management": {"enable": True}}, "delivered"),
        # The contract: bypass_unsubscribe_management "will not bypass group unsubscribes".
        ({"bypass_unsubscribe_management": {"enable": True}}, "dropped"),
        ({"bypass_spam_management": {"enable": True}}, "dropped"),
    ],
    ids=["no-bypass", "bypass-all-lists", "bypass-global-unsubscribes", "bypass-spam-reports"],
)
def test_only_bypassing_all_lists_reaches_a_group_suppression(
    server_factory: ServerFactory, mail_settings: dict[str, Any], outcome: str
) -> None:
    server = server_factory()
    group = new_group(server, "News")
    suppress_in(server, group, "alice@example.com")
    mail_id = sent_id(server, {**valid_payload(), "asm": {"group_id": group}, "mail_settings": mail_settings})
    assert outcomes(server, mail_id)["alice@example.com"]["event"] == outcome


@pytest.mark.parametrize(
    ("mail_settings", "outcome"),
    [
        ({}, "dropped"),
        ({"bypass_unsubscribe_management": {"enable": True}}, "dropped"),
        ({"bypass_spam_management": {"enable": True}}, "delivered"),
        ({"bypass_list_management": {"enable": True}}, "delivered"),
    ],
    ids=["no-bypass", "bypass-unsubscribes", "bypass-spam-reports", "bypass-all-lists"],
)
def test_a_spam_report_drops_every_mail_unless_the_spam_list_is_bypassed(
    server_factory: ServerFactory, mail_settings: dict[str, Any], outcome: str
) -> None:
    server = server_factory()
    assert person(server, {"email": "alice@example.com", "kind": "spamreport"})[0] == 200
    mail_id = sent_id(server, {**valid_payload(), "mail_settings": mail_settings})
    event = outcomes(server, mail_id)["alice@example.com"]
    assert event["event"] == outcome
    if outcome == "dropped":
        assert event["reason"] == "Spam Reporting Address"


@pytest.mark.parametrize("sandbox", [False, True])
def test_a_mail_in_a_group_that_does_not_exist_is_refused(server_factory: ServerFactory, sandbox: bool) -> None:
    server = server_factory()
    group = new_group(server, "News")
    payload = {**valid_payload(), "asm": {"group_id": group + 1}}
    if sandbox:
        payload["mail_settings"] = {"sandbox_mode": {"enable": True}}
    status, _, body = send(server, payload)
    assert status == 400
    assert [e["field"] for e in errors_of(body)] == ["asm.group_id"]
    assert stored(server) == []
    assert batches(server) == []


def test_list_unsubscribe_headers_of_a_personalization_are_kept(server_factory: ServerFactory) -> None:
    server = server_factory()
    headers = {
        "List-Unsubscribe": "<https://example.com/unsubscribe/t0k3n>, <mailto:unsubscribe@example.com>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    payload = valid_payload()
    payload["personalizations"][0]["headers"] = headers
    mail_id = sent_id(server, payload)
    assert get_json(f"{server.url}/_mails/{mail_id}")["personalizations"][0]["headers"] == headers
    page = http("GET", f"{server.url}/mails/{mail_id}")[2].decode()
    assert "List-Unsubscribe=One-Click" in page
    for value in ("t0k3n", "One-Click"):
        assert value not in server.logs()


def test_drops_and_their_reasons_survive_a_restart(server_factory: ServerFactory, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # A mail kept before drops had reasons: it was dropped for a global unsubscribe.
    old = {"id": "B" * 22, "received_at": "2026-01-01T00:00:00.000Z", "request": valid_payload()}
    old["suppressed"] = ["alice@example.com"]
    (data / "mails.jsonl").write_text(json.dumps(old) + "\n")
    first = server_factory("--data-dir", str(data))
    assert person(first, {"email": "alice@example.com", "kind": "spamreport"})[0] == 200
    mail_id = sent_id(first, valid_payload())
    assert first.stop() == 0

    again = server_factory("--data-dir", str(data), log_name="again.log")
    kept = {m["id"]: m["drops"] for m in stored(again)}
    assert kept == {
        "B" * 22: {"alice@example.com": "Unsubscribed Address"},
        mail_id: {"alice@example.com": "Spam Reporting Address"},
    }


# -- what a person does ----------------------------------------------------------------------


def test_a_group_unsubscribe_from_a_mail_is_recorded_and_posted_signed(
    server_factory: ServerFactory, receiver: WebhookReceiver
) -> None:
    server = server_factory("--event-webhook-url", receiver.url)
    public_key = get_json(server.url + "/_events/webhook")["public_key"]
    news = new_group(server, "News")
    payload = {
        **valid_payload(),
        "personalizations": [
            {"to": [{"email": "bob@example.com"}]},
            {"to": [{"email": "Ada@Example.com"}], "custom_args": {"user": "u-7"}},
        ],
        "asm": {"group_id": news},
        "categories": ["newsletter"],
        "custom_args": {"campaign": "c-1", "user": "none"},
    }
    mail_id = sent_id(server, payload)
    processed = {e["email"]: e for e in settled(server, mail_id)["events"] if e["event"] == "processed"}

    status, batch = person(server, {"email": "ada@example.com", "kind": "group", "mailId": mail_id})
    assert status == 200
    assert (batch["mail_id"], batch["state"]) == (mail_id, "pending")
    [post] = receiver.wait_for(2)[1:]
    assert verifies(public_key, post)
    [event] = post.events()
    assert event == batch["events"][0]
    assert event["event"] == "group_unsubscribe"
    assert event["asm_group_id"] == news
    assert event["email"] == "Ada@Example.com"  # the recipient as the mail named them
    assert event["sg_message_id"] == processed["Ada@Example.com"]["sg_message_id"]
    assert event["smtp-id"] == f"<{mail_id}@ismtpd-local>"
    assert event["category"] == ["newsletter"]
    assert (event["campaign"], event["user"]) == ("c-1", "u-7")  # the clicked mail's custom args, its own winning
    assert event["sg_event_id"] not in {e["sg_event_id"] for e in processed.values()}

    assert group_members(server, news) == ["ada@example.com"]
    again = sent_id(server, to_everyone("ada@example.com", "bob@example.com", asm={"group_id": news}))
    assert {e: o["event"] for e, o in outcomes(server, again).items()} == {
        "ada@example.com": "dropped",
        "bob@example.com": "delivered",
    }
    logs = server.logs()
    assert "recorded group_unsubscribe (mail " in logs
    assert "example.com" not in logs.lower()


def test_an_unsubscribe_from_all_mail_without_a_mail(server_factory: ServerFactory, receiver: WebhookReceiver) -> None:
    server = server_factory("--event-webhook-url", receiver.url)
    status, batch = person(server, {"email": "carol@example.com", "kind": "global"})
    assert status == 200
    assert batch["mail_id"] is None
    [post] = receiver.wait_for(1)
    [event] = post.events()
    assert set(event) == {"email", "timestamp", "sg_event_id", "event"}
    assert (event["email"], event["event"]) == ("carol@example.com", "unsubscribe")

    status, _, body = http("GET", f"{server.url}/v3/asm/suppressions/global/carol%40example.com", headers=AUTH)
    assert json.loads(body) == {"recipient_email": "carol@example.com"}
    mail_id = sent_id(server, to_everyone("carol@example.com"))
    assert outcomes(server, mail_id)["carol@example.com"]["reason"] == "Unsubscribed Address"


def test_a_spam_report_of_a_mail_is_listed_and_posted(server_factory: ServerFactory, receiver: WebhookReceiver) -> None:
    server = server_factory("--event-webhook-url", receiver.url)
    mail_id = sent_id(server, {**valid_payload(), "custom_args": {"notice_id": "n-1"}})
    status, batch = person(server, {"email": "alice@example.com", "kind": "spamreport", "mailId": mail_id})
    assert status == 200
    [event] = batch["events"]
    assert (event["event"], event["notice_id"], event["sg_message_id"].split(".")[0]) == ("spamreport", "n-1", mail_id)
    assert receiver.wait_for(2)[1].events() == [event]

    status, _, body = http("GET", f"{server.url}/v3/suppression/spam_reports/alice%40example.com", headers=AUTH)
    [report] = json.loads(body)
    assert (report["email"], report["ip"]) == ("alice@example.com", "127.0.0.1")
    assert report["created"] >= event["timestamp"] - 1


def test_a_group_unsubscribe_by_group_id_alone(server_factory: ServerFactory) -> None:
    server = server_factory()
    news = new_group(server, "News")
    status, batch = person(server, {"email": "dave@example.com", "kind": "group", "groupId": news})
    assert status == 200
    [event] = batch["events"]
    assert (event["event"], event["asm_group_id"]) == ("group_unsubscribe", news)
    assert "sg_message_id" not in event
    assert batch["state"] == "off"  # pointed nowhere: kept in /_events, not posted
    assert group_members(server, news) == ["dave@example.com"]
    # Twice is the same suppression (and a second event, as a second click would make).
    assert person(server, {"email": "Dave@example.com", "kind": "group", "groupId": news})[0] == 200
    assert group_members(server, news) == ["dave@example.com"]
    assert len(batches(server)) == 2


def test_what_a_person_cannot_do_is_refused_and_changes_nothing(server_factory: ServerFactory) -> None:
    server = server_factory()
    news = new_group(server, "News")
    plain = sent_id(server, to_everyone("alice@example.com"))
    refusals: list[tuple[Any, int, str | None]] = [
        ({"email": "alice@example.com", "kind": "group", "mailId": "no-such-mail"}, 404, "mailId"),
        ({"email": "zed@example.com", "kind": "global", "mailId": plain}, 400, "email"),
        ({"email": "alice@example.com", "kind": "group", "mailId": plain}, 400, "groupId"),  # a mail of no group
        ({"email": "alice@example.com", "kind": "group"}, 400, "groupId"),
        ({"email": "alice@example.com", "kind": "group", "groupId": news + 1}, 404, "groupId"),
        ({"email": "alice@example.com", "kind": "group", "groupId": "1"}, 400, "groupId"),
        ({"email": "alice@example.com", "kind": "global", "groupId": news}, 400, "groupId"),
        ({"email": "alice@example.com", "kind": "everything"}, 400, "kind"),
        ({"email": "not-an-address", "kind": "global"}, 400, "email"),
        ({"email": "alice@example.com", "kind": "global", "mailId": 7}, 400, "mailId"),
        ({"email": "alice@example.com", "kind": "global", "extra": True}, 400, None),
        (["alice@example.com"], 400, None),
    ]
    before = batches(server)
    for body, expected, field in refusals:
        status, _, answer = post_json(server.url + "/_people/unsubscribe", body, key=None)
        assert status == expected, body
        assert [e["field"] for e in errors_of(answer)] == [field], body
        assert "alice@example.com" not in answer.decode()
    assert batches(server) == before
    assert group_members(server, news) == []
    for path in ("/v3/suppression/unsubscribes", "/v3/suppression/spam_reports"):
        assert json.loads(http("GET", server.url + path, headers=AUTH)[2]) == []


# -- the outbox page's form ------------------------------------------------------------------


def form_post(server: Server, path: str, fields: dict[str, str], headers: dict[str, str]) -> HTTPResponse:
    """A browser's form post, its answer as sent (a redirect is not followed)."""
    address = urlsplit(server.url)
    connection = HTTPConnection(address.hostname or "", address.port, timeout=10)
    body = urlencode(fields)
    connection.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded", **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_the_outbox_page_lets_a_recipient_unsubscribe(server_factory: ServerFactory) -> None:
    server = server_factory()
    news = new_group(server, "News")
    in_news = sent_id(server, to_everyone("ada@example.com", "bob@example.com", asm={"group_id": news}))
    plain = sent_id(server, to_everyone("ada@example.com"))

    status, headers, page = http("GET", f"{server.url}/mails/{in_news}")
    html = page.decode()
    assert status == 200
    assert "form-action 'self'" in headers["Content-Security-Policy"]
    assert f'<form method="post" action="/mails/{in_news}/people">' in html
    assert "<option>ada@example.com</option><option>bob@example.com</option>" in html
    assert '<option value="group">' in html
    assert '<option value="global">' in html
    assert '<option value="spamreport">' in html
    assert '<option value="group">' not in http("GET", f"{server.url}/mails/{plain}")[2].decode()

    answer = form_post(
        server,
        f"/mails/{in_news}/people",
        {"email": "bob@example.com", "kind": "group"},
        {"Sec-Fetch-Site": "same-origin"},
    )
    assert answer.status == 303
    assert answer.headers["Location"] == f"/mails/{in_news}?done=group_unsubscribe"
    assert "Recorded the group unsubscribe." in http("GET", server.url + answer.headers["Location"])[2].decode()
    assert group_members(server, news) == ["bob@example.com"]
    [action] = [b for b in batches(server, in_news) if b["events"][0]["event"] != "processed"]
    [event] = action["events"]
    assert (event["event"], event["email"], event["asm_group_id"]) == ("group_unsubscribe", "bob@example.com", news)


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://elsewhere.example"}],
    ids=["cross-site", "other-origin"],
)
def test_another_site_cannot_act_for_a_recipient(server_factory: ServerFactory, headers: dict[str, str]) -> None:
    server = server_factory()
    mail_id = sent_id(server, to_everyone("ada@example.com"))
    answer = form_post(
        server, f"/mails/{quote(mail_id)}/people", {"email": "ada@example.com", "kind": "global"}, headers
    )
    assert answer.status == 403
    assert json.loads(http("GET", server.url + "/v3/suppression/unsubscribes", headers=AUTH)[2]) == []
    assert len(batches(server)) == 1  # the mail's own


def test_the_form_refuses_what_the_api_refuses(server_factory: ServerFactory) -> None:
    server = server_factory()
    mail_id = sent_id(server, to_everyone("ada@example.com"))
    answer = form_post(server, f"/mails/{mail_id}/people", {"email": "zed@example.com", "kind": "spamreport"}, {})
    assert answer.status == 400
    assert form_post(server, "/mails/unknown/people", {"email": "ada@example.com", "kind": "global"}, {}).status == 404
    assert json.loads(http("GET", server.url + "/v3/suppression/spam_reports", headers=AUTH)[2]) == []


@pytest.mark.browser
def test_a_recipient_reports_spam_from_the_outbox_page_in_a_browser(
    server_factory: ServerFactory, browser: Browser
) -> None:
    from playwright.sync_api import expect

    server = server_factory()
    mail_id = sent_id(server, to_everyone("ada@example.com", "bob@example.com"))
    page = browser.new_page()
    try:
        page.goto(f"{server.url}/mails/{mail_id}")
        page.select_option("select[name=email]", "bob@example.com")
        page.select_option("select[name=kind]", "spamreport")
        page.click("button[type=submit]")
        expect(page.locator("p.done")).to_have_text("Recorded the spam report.")
        assert page.url == f"{server.url}/mails/{mail_id}?done=spamreport"
    finally:
        page.close()
    [report] = json.loads(http("GET", server.url + "/v3/suppression/spam_reports", headers=AUTH)[2])
    assert report["email"] == "bob@example.com"
