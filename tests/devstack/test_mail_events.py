"""The mail server's signed Event Webhook: what it posts for accepted mails, how it signs, retries and replays."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader
from sendgrid.helpers.mail import Bcc, Category, Cc, CustomArg, Mail, Personalization, To

from devstack.devkeys import ensure_event_webhook_key, event_webhook_public_key, load_event_webhook_key
from tests.devstack.mail_harness import (
    Post,
    Server,
    WebhookReceiver,
    get_json,
    http,
    post_json,
    send,
    valid_payload,
    wait_until,
)

ServerFactory = Callable[..., Server]
FAST_RETRIES = ("--event-retry-seconds", "0.05")


def verifies(public_key: str, post: Post) -> bool:
    """SendGrid's own verification helper, as a receiving app would call it."""
    return bool(
        EventWebhook(public_key).verify_signature(
            post.body.decode("utf-8"),
            post.headers[EventWebhookHeader.SIGNATURE.lower()],
            post.headers[EventWebhookHeader.TIMESTAMP.lower()],
        )
    )


def suppress(server: Server, *addresses: str) -> None:
    status, _, _ = post_json(server.url + "/v3/asm/suppressions/global", {"recipient_emails": list(addresses)})
    assert status == 201


def batches(server: Server, mail_id: str | None = None) -> list[dict[str, Any]]:
    query = f"?mail_id={mail_id}" if mail_id else ""
    return list(get_json(f"{server.url}/_events{query}"))


def settled(server: Server, mail_id: str) -> dict[str, Any]:
    """The mail's one batch, once it is delivered or given up."""
    found: dict[str, Any] = wait_until(
        lambda: next((b for b in batches(server, mail_id) if b["state"] in ("delivered", "failed")), None)
    )
    return found


def sent_id(server: Server, payload: dict[str, Any]) -> str:
    status, headers, body = send(server, payload)
    assert status == 202, body
    return headers["X-Message-Id"]


def test_each_recipient_gets_processed_then_its_outcome_signed_as_sendgrid_signs(
    server_factory: ServerFactory, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    key_file = ensure_event_webhook_key(tmp_path / "keys")
    public_key = event_webhook_public_key(load_event_webhook_key(key_file))
    server = server_factory("--event-webhook-url", receiver.url, "--event-signing-key", str(key_file))
    assert get_json(server.url + "/_events/webhook") == {"url": receiver.url, "enabled": True, "public_key": public_key}
    suppress(server, "Gone@Example.com")

    message = Mail(
        from_email="privacy@example.com",
        subject="Your data export is ready",
        plain_text_content="Download it within 7 days.",
    )
    first = Personalization()
    first.add_to(To("ada@example.com"))
    first.add_cc(Cc("nobody@bounces.example.com"))
    first.add_custom_arg(CustomArg("request_id", "req-1"))
    message.add_personalization(first, 0)
    second = Personalization()
    second.add_to(To("gone@example.com"))
    second.add_bcc(Bcc("audit@example.com"))
    message.add_personalization(second, 1)  # the SDK puts a personalization first by default
    message.add_category(Category("dsr-export"))
    message.add_custom_arg(CustomArg("request_id", "req-0"))
    message.add_custom_arg(CustomArg("tenant", "eu-1"))
    before = int(time.time())
    response = SendGridAPIClient(api_key="SG.test", host=server.url).send(message)
    assert response.status_code == 202
    message_id = response.headers["X-Message-Id"]

    [post] = receiver.wait_for(1)
    assert post.path == "/hooks/sendgrid"
    assert post.headers["content-type"] == "application/json"
    assert verifies(public_key, post)
    timestamp = post.headers[EventWebhookHeader.TIMESTAMP.lower()]
    assert timestamp.isdigit()
    assert before <= int(timestamp) <= time.time() + 1
    # The signature covers the timestamp and every byte of the body.
    assert not verifies(public_key, Post(post.path, post.headers, post.body + b" ", post.at))
    tampered_time = {**post.headers, EventWebhookHeader.TIMESTAMP.lower(): str(int(timestamp) + 1)}
    assert not verifies(public_key, Post(post.path, tampered_time, post.body, post.at))

    events = post.events()
    assert [(e["email"], e["event"]) for e in events] == [
        ("ada@example.com", "processed"),
        ("ada@example.com", "delivered"),
        ("nobody@bounces.example.com", "processed"),
        ("nobody@bounces.example.com", "bounce"),
        ("gone@example.com", "processed"),
        ("gone@example.com", "dropped"),
        ("audit@example.com", "processed"),
        ("audit@example.com", "delivered"),
    ]
    for event in events:
        assert before <= event["timestamp"] <= time.time() + 1
        assert event["smtp-id"] == f"<{message_id}@ismtpd-local>"
        assert event["sg_message_id"].split(".")[0] == message_id
        assert event["category"] == ["dsr-export"]
        assert event["tenant"] == "eu-1"  # the mail's custom_args, at the top level
    assert [e["request_id"] for e in events] == ["req-1"] * 4 + ["req-0"] * 4  # a personalization's win
    assert len({e["sg_event_id"] for e in events}) == len(events)
    per_recipient = {e["email"]: e["sg_message_id"] for e in events}
    assert len(set(per_recipient.values())) == 4
    assert all(e["sg_message_id"] == per_recipient[e["email"]] for e in events)

    bounce, dropped, delivered = events[3], events[5], events[1]
    assert (bounce["type"], bounce["status"]) == ("bounce", "5.1.1")
    assert bounce["reason"]
    assert dropped["reason"] == "Unsubscribed Address"
    assert delivered["response"] == "250 OK"

    [batch] = batches(server)
    assert batch["mail_id"] == message_id
    assert batch["state"] == "delivered"
    assert batch["url"] == receiver.url
    assert [a["status"] for a in batch["attempts"]] == [200]
    assert batch["events"] == events

    logs = server.logs()
    assert f"(mail {message_id}): 8 event(s) delivered, attempt 1, HTTP 200" in logs
    for secret in ("example.com", "/hooks/sendgrid", timestamp, post.headers[EventWebhookHeader.SIGNATURE.lower()]):
        assert secret not in logs, secret


@pytest.mark.parametrize(
    ("mail_settings", "outcome"),
    [
        ({}, "dropped"),
        ({"bypass_unsubscribe_management": {"enable": True}}, "delivered"),
        ({"bypass_list_management": {"enable": True}}, "delivered"),
        ({"bypass_unsubscribe_management": {"enable": False}}, "dropped"),
        ({"bypass_spam_management": {"enable": True}, "bypass_bounce_management": {"enable": True}}, "dropped"),
    ],
    ids=["no-bypass", "bypass-unsubscribes", "bypass-all-lists", "bypass-off", "other-bypasses"],
)
def test_a_globally_unsubscribed_address_is_dropped_unless_that_list_is_bypassed(
    server_factory: ServerFactory, receiver: WebhookReceiver, mail_settings: dict[str, Any], outcome: str
) -> None:
    server = server_factory("--event-webhook-url", receiver.url)
    suppress(server, "alice@example.com")
    message_id = sent_id(server, {**valid_payload(), "mail_settings": mail_settings})
    events = settled(server, message_id)["events"]
    assert [e["event"] for e in events] == ["processed", outcome]


def test_events_go_out_after_the_send_is_answered(server_factory: ServerFactory) -> None:
    release = threading.Event()
    slow = WebhookReceiver(hold=release)
    try:
        server = server_factory("--event-webhook-url", slow.url)
        started = time.monotonic()
        message_id = sent_id(server, valid_payload())  # answered while the webhook is still held
        assert time.monotonic() - started < 5
        slow.wait_for(1)
        assert batches(server, message_id)[0]["state"] == "pending"
        release.set()
        assert settled(server, message_id)["state"] == "delivered"
    finally:
        slow.close()


def test_a_failing_webhook_is_retried_with_growing_delays_then_given_up(server_factory: ServerFactory) -> None:
    failing = WebhookReceiver(statuses=[500] * 5)
    try:
        server = server_factory("--event-webhook-url", failing.url, *FAST_RETRIES)
        public_key = get_json(server.url + "/_events/webhook")["public_key"]
        message_id = sent_id(server, valid_payload())

        batch = settled(server, message_id)
        assert batch["state"] == "failed"
        assert [a["status"] for a in batch["attempts"]] == [500] * 5
        posts = failing.wait_for(5)
        assert len(posts) == 5
        assert all(p.body == posts[0].body for p in posts)  # the same events, so the same sg_event_ids
        assert all(verifies(public_key, p) for p in posts)  # each attempt signed afresh
        gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(posts)]
        for gap, scheduled in zip(gaps, (0.05, 0.1, 0.2, 0.4), strict=True):
            assert gap >= scheduled * 0.9
        time.sleep(0.5)
        assert len(failing.posts) == 5  # and then no more
        logs = server.logs()
        assert "gave up on 2 event(s) after 5 attempts (last: HTTP 500)" in logs
        assert "example.com" not in logs
    finally:
        failing.close()


def test_a_webhook_that_recovers_gets_the_batch_on_a_retry(server_factory: ServerFactory) -> None:
    flaky = WebhookReceiver(statuses=[503, 302])
    try:
        server = server_factory("--event-webhook-url", flaky.url, *FAST_RETRIES)
        batch = settled(server, sent_id(server, valid_payload()))
        assert batch["state"] == "delivered"
        assert [a["status"] for a in batch["attempts"]] == [503, 302, 200]  # a redirect is not followed
        assert len(flaky.posts) == 3
    finally:
        flaky.close()


def test_an_unreachable_webhook_is_given_up_after_the_same_attempts(server_factory: ServerFactory) -> None:
    gone = WebhookReceiver()
    gone.close()  # nothing listens on its port any more
    server = server_factory("--event-webhook-url", gone.url, *FAST_RETRIES)
    batch = settled(server, sent_id(server, valid_payload()))
    assert batch["state"] == "failed"
    assert [a["status"] for a in batch["attempts"]] == [None] * 5
    assert "(last: no answer)" in server.logs()


def test_tests_can_turn_posting_off_and_point_it_elsewhere(
    server_factory: ServerFactory, receiver: WebhookReceiver
) -> None:
    server = server_factory()  # pointed nowhere: events are kept, not posted
    webhook = server.url + "/_events/webhook"
    assert get_json(webhook)["url"] is None
    quiet = sent_id(server, valid_payload())
    [batch] = batches(server, quiet)
    assert (batch["state"], batch["url"], batch["attempts"]) == ("off", None, [])

    status, _, body = http(
        "PUT", webhook, json.dumps({"url": receiver.url}).encode(), {"Content-Type": "application/json"}
    )
    assert status == 200
    assert json.loads(body)["url"] == receiver.url
    posted = sent_id(server, valid_payload())
    [post] = receiver.wait_for(1)
    assert {e["sg_message_id"].split(".")[0] for e in post.events()} == {posted}

    status, _, _ = http("PUT", webhook, json.dumps({"enabled": False}).encode(), {"Content-Type": "application/json"})
    assert status == 200
    off = sent_id(server, valid_payload())
    assert batches(server, off)[0]["state"] == "off"
    assert [b["mail_id"] for b in batches(server)] == [quiet, posted, off]

    refused: list[Any] = [{"url": "ftp://example.com/"}, {"url": "/relative"}, {"enabled": "yes"}, {"other": 1}, []]
    for bad in refused:
        status, _, body = http("PUT", webhook, json.dumps(bad).encode(), {"Content-Type": "application/json"})
        assert status == 400, bad
        assert set(json.loads(body)) == {"errors"}
    assert get_json(webhook)["enabled"] is False

    status, _, body = http("DELETE", server.url + "/_events")
    assert (status, json.loads(body)) == (200, {"deleted": 3})
    assert batches(server) == []


def test_sandbox_mode_and_rejected_mails_post_nothing(server_factory: ServerFactory, receiver: WebhookReceiver) -> None:
    server = server_factory("--event-webhook-url", receiver.url)
    assert send(server, {**valid_payload(), "mail_settings": {"sandbox_mode": {"enable": True}}})[0] == 200
    assert send(server, {**valid_payload(), "from": {"email": "nope"}})[0] == 400
    posted = sent_id(server, valid_payload())
    receiver.wait_for(1)
    assert [b["mail_id"] for b in batches(server)] == [posted]
    assert len(receiver.posts) == 1


def test_the_last_batch_can_be_replayed_byte_for_byte(server_factory: ServerFactory, receiver: WebhookReceiver) -> None:
    server = server_factory("--event-webhook-url", receiver.url)
    status, _, body = http("POST", server.url + "/_events/replay")
    assert status == 404
    assert set(json.loads(body)) == {"errors"}

    sent_id(server, valid_payload())
    last = sent_id(server, valid_payload())
    settled(server, last)
    original = receiver.wait_for(2)[-1]

    status, _, body = http("POST", server.url + "/_events/replay")
    assert status == 200
    assert json.loads(body) == {"batch_id": batches(server, last)[0]["id"], "status": 200}
    replayed = receiver.wait_for(3)[-1]
    assert replayed.body == original.body
    for header in (EventWebhookHeader.SIGNATURE, EventWebhookHeader.TIMESTAMP):
        assert replayed.headers[header.lower()] == original.headers[header.lower()]


def test_a_signing_key_that_is_not_p256_is_refused_at_start(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    argv = [sys.executable, "-m", "devstack.mailserver", "--port", "0", "--event-signing-key", str(wrong)]
    refused = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0
    assert "--event-signing-key" in refused.stderr
