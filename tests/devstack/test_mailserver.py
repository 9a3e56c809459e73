"""The local SendGrid-compatible mail server, driven over real HTTP as a subprocess."""

from __future__ import annotations

import gzip
import json
import re
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from python_http_client.exceptions import UnauthorizedError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Bcc, Category, Cc, CustomArg, From, Mail, To

from tests.devstack.mail_harness import (
    Server,
    assert_no_leak,
    errors_of,
    fields_of,
    get_json,
    http,
    post_json,
    send,
    start_server,
    stored,
    valid_payload,
)

MESSAGE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
THIRTY_MB = 30 * 1024 * 1024


# -- harness ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("mailserver")
    server = start_server(tmp / "server.log", "--data-dir", str(tmp / "data"))
    yield server
    assert server.stop() == 0


@pytest.fixture
def server(shared_server: Server) -> Server:
    """The module's server with an empty outbox."""
    status, _, _ = http("DELETE", shared_server.url + "/_mails")
    assert status == 200
    return shared_server


def sdk_mail(subject: str = "Your data export is ready") -> Mail:
    message = Mail(
        from_email=From("privacy@example.com", "Privacy Team"),
        to_emails=[To("alice@example.com", "Alice"), To("bob@example.org")],
        subject=subject,
        plain_text_content="Download it within 7 days.",
        html_content="<p>Download it within <b>7 days</b>.</p>",
    )
    message.add_cc(Cc("carol@example.com"))
    message.add_bcc(Bcc("audit@example.com"))
    message.add_category(Category("dsr-export"))
    message.add_custom_arg(CustomArg("request_id", "req-42"))
    return message


# -- accepted mail ---------------------------------------------------------------------------


def test_sdk_send_is_accepted_and_listed(server: Server) -> None:
    client = SendGridAPIClient(api_key="SG.test", host=server.url)
    response = client.send(sdk_mail())

    assert response.status_code == 202
    assert response.body == b""
    message_id = response.headers["X-Message-Id"]
    assert MESSAGE_ID_RE.match(message_id)

    [mail] = stored(server)
    assert mail["id"] == message_id
    assert mail["from"] == "privacy@example.com"
    assert mail["subject"] == "Your data export is ready"
    assert mail["to"] == ["alice@example.com", "bob@example.org"]
    assert mail["cc"] == ["carol@example.com"]
    assert mail["bcc"] == ["audit@example.com"]
    assert mail["content"] == [
        {"type": "text/plain", "value": "Download it within 7 days."},
        {"type": "text/html", "value": "<p>Download it within <b>7 days</b>.</p>"},
    ]
    assert mail["categories"] == ["dsr-export"]
    assert mail["custom_args"] == {"request_id": "req-42"}
    assert mail["personalizations"][0]["to"][0] == {"email": "alice@example.com", "name": "Alice"}
    assert mail["request"]["from"] == {"email": "privacy@example.com", "name": "Privacy Team"}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", mail["received_at"])

    assert get_json(f"{server.url}/_mails/{message_id}") == mail
    status, _, body = http("GET", f"{server.url}/_mails/no-such-id")
    assert status == 404
    assert errors_of(body)[0]["message"] == "not found"


def test_mails_are_listed_newest_last_and_filtered_by_recipient(server: Server) -> None:
    first, second = valid_payload(), valid_payload()
    second["personalizations"][0]["to"] = [{"email": "Bob@Example.org"}]
    ids = []
    for payload in (first, second):
        status, headers, _ = send(server, payload)
        assert status == 202
        ids.append(headers["X-Message-Id"])
    assert ids[0] != ids[1]

    assert [m["id"] for m in stored(server)] == ids
    assert [m["id"] for m in get_json(server.url + "/_mails?to=bob%40example.ORG")] == [ids[1]]
    assert [m["id"] for m in get_json(server.url + "/_mails?to=alice%40example.com")] == [ids[0]]
    assert get_json(server.url + "/_mails?to=nobody%40example.com") == []

    status, _, body = http("DELETE", server.url + "/_mails")
    assert (status, json.loads(body)) == (200, {"deleted": 2})
    assert stored(server) == []


def test_template_or_per_personalization_subject_replaces_subject_and_content(server: Server) -> None:
    templated = valid_payload()
    del templated["subject"], templated["content"]
    templated["template_id"] = "d-0123456789abcdef"
    templated["personalizations"][0]["dynamic_template_data"] = {"name": "Alice"}
    assert send(server, templated)[0] == 202

    per_personalization = valid_payload()
    del per_personalization["subject"]
    per_personalization["personalizations"][0]["subject"] = "Personal subject"
    assert send(server, per_personalization)[0] == 202

    mails = stored(server)
    assert mails[0]["template_id"] == "d-0123456789abcdef"
    assert mails[0]["subject"] is None
    assert mails[1]["subject"] == "Personal subject"


def test_gzip_body_is_accepted(server: Server) -> None:
    body = gzip.compress(json.dumps(valid_payload()).encode())
    status, _, response = send(server, body, headers={"Content-Encoding": "gzip"})
    assert status == 202, response
    assert stored(server)[0]["subject"] == "Your data export is ready"


def test_sandbox_mode_validates_without_storing(server: Server) -> None:
    payload = valid_payload()
    payload["mail_settings"] = {"sandbox_mode": {"enable": True}}
    status, _, body = send(server, payload)
    assert (status, body) == (200, b"")
    assert stored(server) == []

    del payload["from"]
    assert send(server, payload)[0] == 400


def test_health_and_outbox_need_no_auth(server: Server) -> None:
    status, headers, body = http("GET", server.url + "/_health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert headers["Content-Type"].startswith("application/json")
    assert http("GET", server.url + "/")[0] == 200


# -- rejected mail ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "alice@localhost",
        "alice@@example.com",
        "alice @example.com",
        "al..ice@example.com",
        "alice@example..com",
        "alice@-example.com",
        "alice@example.com\r\nBcc: x@example.com",
        "",
    ],
)
def test_invalid_recipient_address_rejected(server: Server, address: str) -> None:
    payload = valid_payload()
    payload["personalizations"][0]["to"].append({"email": address})
    status, _, body = send(server, payload)
    assert status == 400
    assert fields_of(body) == {"personalizations.0.to.1.email"}
    if address:
        assert_no_leak(body, address, "alice@example.com")
    assert stored(server) == []


def test_invalid_sender_and_reply_to_rejected(server: Server) -> None:
    payload = valid_payload()
    payload["from"] = {"email": "privacy-at-example.com"}
    payload["reply_to"] = {"email": "help@"}
    status, _, body = send(server, payload)
    assert status == 400
    assert fields_of(body) == {"from.email", "reply_to.email"}
    assert_no_leak(body, "privacy-at-example.com", "help@")


def test_unicode_sender_rejected_but_idn_recipient_domain_accepted(server: Server) -> None:
    payload = valid_payload()
    payload["from"] = {"email": "jörg@example.com"}
    status, _, body = send(server, payload)
    assert status == 400
    assert fields_of(body) == {"from.email"}
    assert_no_leak(body, "jörg")

    payload = valid_payload()
    payload["personalizations"][0]["to"] = [{"email": "leser@bücher.example"}]
    assert send(server, payload)[0] == 202
    assert stored(server)[0]["to"] == ["leser@bücher.example"]


def test_spec_limits_on_other_fields_rejected(server: Server) -> None:
    payload = valid_payload()
    payload["categories"] = [f"c{i}" for i in range(11)]
    payload["headers"] = {"To": "someone@example.com"}
    payload["attachments"] = [{"content": "not base64!", "filename": "export.json"}]
    payload["reply_to"] = {"email": "help@example.com"}
    payload["reply_to_list"] = [{"email": "help@example.com"}]
    payload["send_at"] = int(time.time()) + 73 * 3600
    status, _, body = send(server, payload)
    assert status == 400
    assert fields_of(body) == {"categories", "headers", "attachments.0.content", "reply_to_list", "send_at"}
    assert_no_leak(body, "someone@example.com", "help@example.com")


def test_gzip_body_that_inflates_past_30_mb_rejected_with_413(server: Server) -> None:
    # The limit itself is in the contract test; a small body that inflates past it is refused
    # too, without inflating it all.
    payload = valid_payload()
    payload["content"][0]["value"] = "x" * (THIRTY_MB + 1)
    bomb = gzip.compress(json.dumps(payload).encode(), 9)
    assert len(bomb) < 100_000
    status, _, body = send(server, bomb, headers={"Content-Encoding": "gzip"})
    assert status == 413
    assert errors_of(body)[0]["message"] == "content too large"
    assert stored(server) == []


def test_body_that_is_not_json_rejected(server: Server) -> None:
    body = json.dumps(valid_payload()).encode()
    status, _, response = send(server, body, headers={"Content-Type": "text/plain"})
    assert status == 415
    assert errors_of(response)[0]["field"] is None

    status, _, response = send(server, body, headers={"Content-Encoding": "br"})
    assert status == 415

    for bad in (b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'{"personalizations": NaN}'):
        status, _, response = send(server, bad)
        assert status == 400, bad
        errors_of(response)

    status, _, response = send(server, b"\x1f\x8b broken gzip", headers={"Content-Encoding": "gzip"})
    assert status == 400
    assert stored(server) == []


def test_unknown_route_and_method_use_sendgrid_error_shape(server: Server) -> None:
    status, _, body = http("GET", server.url + "/v3/mail/send", headers={"Authorization": "Bearer SG.test"})
    assert status == 405
    assert errors_of(body)[0]["message"] == "method not allowed"
    status, _, body = http("GET", server.url + "/v3/nope", headers={"Authorization": "Bearer SG.test"})
    assert status == 404
    assert errors_of(body)[0]["message"] == "not found"


# -- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "SG.test"}],
    ids=["none", "empty-bearer", "basic", "no-scheme"],
)
def test_missing_or_malformed_auth_rejected(server: Server, headers: dict[str, str]) -> None:
    status, _, body = send(server, valid_payload(), key=None, headers=headers)
    assert status == 401
    assert errors_of(body) == [{"message": "authorization required", "field": None, "help": None}]
    assert stored(server) == []


def test_configured_api_key_must_match(server_factory: Any) -> None:
    server = server_factory("--api-key", "SG.right-key")

    with pytest.raises(UnauthorizedError) as caught:
        SendGridAPIClient(api_key="SG.wrong-key", host=server.url).send(sdk_mail())
    assert caught.value.status_code == 401
    assert errors_of(caught.value.body)[0]["field"] is None
    assert_no_leak(caught.value.body, "alice@example.com", "SG.right-key")

    assert send(server, valid_payload(), key=None)[0] == 401
    assert stored(server) == []

    response = SendGridAPIClient(api_key="SG.right-key", host=server.url).send(sdk_mail())
    assert response.status_code == 202
    assert [m["id"] for m in stored(server)] == [response.headers["X-Message-Id"]]


# -- persistence and process lifecycle -------------------------------------------------------


def test_restart_with_same_data_dir_keeps_mails(server_factory: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = server_factory("--data-dir", str(data_dir))
    response = SendGridAPIClient(api_key="SG.test", host=first.url).send(sdk_mail())
    before = stored(first)
    assert first.stop() == 0

    mails_file = data_dir / "mails.jsonl"
    assert stat.S_IMODE(mails_file.stat().st_mode) == 0o600
    [line] = mails_file.read_text().splitlines()
    assert json.loads(line)["id"] == response.headers["X-Message-Id"]

    second = server_factory("--data-dir", str(data_dir))
    assert stored(second) == before
    assert send(second, valid_payload())[0] == 202
    assert len(stored(second)) == 2
    status, _, body = http("DELETE", second.url + "/_mails")
    assert (status, json.loads(body)) == (200, {"deleted": 2})
    assert second.stop() == 0

    third = server_factory("--data-dir", str(data_dir))
    assert stored(third) == []


def test_partial_last_line_is_skipped_on_load(server_factory: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    good = {"id": "AAAAAAAAAAAAAAAAAAAAAA", "received_at": "2026-01-01T00:00:00.000Z", "request": valid_payload()}
    (data_dir / "mails.jsonl").write_text(json.dumps(good) + "\n" + '{"id": "half', encoding="utf-8")

    server = server_factory("--data-dir", str(data_dir))
    assert [m["id"] for m in stored(server)] == [good["id"]]
    assert send(server, valid_payload())[0] == 202
    assert server.stop() == 0

    again = server_factory("--data-dir", str(data_dir))
    assert len(stored(again)) == 2


def test_sigint_stops_cleanly(server_factory: Any) -> None:
    server = server_factory()
    assert get_json(server.url + "/_health") == {"status": "ok"}
    assert server.stop(signal.SIGINT) == 0


# -- browser outbox --------------------------------------------------------------------------


def test_outbox_escapes_everything_and_sandboxes_html(server: Server) -> None:
    payload = valid_payload()
    payload["subject"] = "<script>alert('subject')</script> & more"
    payload["from"]["name"] = "<img src=x onerror=alert(1)>"
    payload["content"] = [
        {"type": "text/plain", "value": "<script>alert('text')</script>"},
        {"type": "text/html", "value": '<p>Hi</p><script>alert("html")</script>'},
    ]
    status, headers, _ = send(server, payload)
    assert status == 202
    message_id = headers["X-Message-Id"]

    status, page_headers, page = http("GET", server.url + "/")
    assert status == 200
    assert page_headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page_headers["Content-Security-Policy"]
    html = page.decode()
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt; &amp; more" in html
    assert f'href="/mails/{message_id}"' in html

    status, _, detail = http("GET", f"{server.url}/mails/{message_id}")
    assert status == 200
    html = detail.decode()
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#x27;text&#x27;)&lt;/script&gt;" in html
    [iframe] = re.findall(r"<iframe[^>]*>", html)
    assert 'sandbox=""' in iframe
    assert 'srcdoc="&lt;p&gt;Hi&lt;/p&gt;&lt;script&gt;alert(&quot;html&quot;)&lt;/script&gt;"' in iframe

    assert http("GET", server.url + "/mails/unknown")[0] == 404


def test_outbox_lists_newest_first(server: Server) -> None:
    for subject in ("older mail", "newer mail"):
        payload = valid_payload()
        payload["subject"] = subject
        assert send(server, payload)[0] == 202
    html = http("GET", server.url + "/")[2].decode()
    assert html.index("newer mail") < html.index("older mail")


# -- logging ---------------------------------------------------------------------------------


def test_logs_hold_ids_and_counts_but_no_personal_data(server: Server) -> None:
    response = SendGridAPIClient(api_key="SG.test", host=server.url).send(sdk_mail("Secret subject line"))
    bad = valid_payload()
    bad["personalizations"][0]["to"].append({"email": "broken@@example.com"})
    assert send(server, bad)[0] == 400
    get_json(server.url + "/_mails?to=alice%40example.com")
    http("GET", server.url + "/v3/asm/suppressions/global/alice%40example.com", headers={"Authorization": "Bearer k"})

    logs = server.logs()
    assert response.headers["X-Message-Id"] in logs
    for secret in ("example.com", "example.org", "Secret subject line", "Download it", "%40"):
        assert secret not in logs


# -- contacts and suppressions ---------------------------------------------------------------


def test_global_suppressions_round_trip_and_mark_mails(server: Server) -> None:
    auth = {"Authorization": "Bearer SG.test"}
    url = server.url + "/v3/asm/suppressions/global"
    status, _, body = post_json(url, {"recipient_emails": ["Alice@example.com"]})
    assert (status, json.loads(body)) == (201, {"recipient_emails": ["Alice@example.com"]})

    status, _, body = http("GET", url + "/alice%40example.com", headers=auth)
    assert json.loads(body) == {"recipient_email": "Alice@example.com"}
    [row] = json.loads(http("GET", server.url + "/v3/suppression/unsubscribes", headers=auth)[2])
    assert row["email"] == "Alice@example.com"
    assert isinstance(row["created"], int)

    assert send(server, valid_payload())[0] == 202
    assert stored(server)[0]["suppressed"] == ["alice@example.com"]

    status, _, body = post_json(url, {"recipient_emails": ["nope"]})
    assert status == 400
    assert fields_of(body) == {"recipient_emails.0"}

    assert http("DELETE", url + "/alice%40example.com", headers=auth)[0] == 204
    assert json.loads(http("GET", url + "/alice%40example.com", headers=auth)[2]) == {}
    assert json.loads(http("GET", server.url + "/v3/suppression/unsubscribes", headers=auth)[2]) == []


def test_marketing_contacts_upsert_search_and_delete(server: Server) -> None:
    auth = {"Authorization": "Bearer SG.test", "Content-Type": "application/json"}
    contacts_url = server.url + "/v3/marketing/contacts"
    upsert = {"contacts": [{"email": "Dana@example.com", "first_name": "Dana"}]}
    # The contract uses PUT for add-or-update; POST is not a route.
    assert http("POST", contacts_url, json.dumps(upsert).encode(), auth)[0] == 405
    status, _, body = http("PUT", contacts_url, json.dumps(upsert).encode(), auth)
    assert status == 202
    assert "job_id" in json.loads(body)

    search_url = contacts_url + "/search/emails"
    status, _, body = post_json(search_url, {"emails": ["dana@example.com", "erin@example.com"]})
    assert status == 200
    result = json.loads(body)["result"]
    contact = result["dana@example.com"]["contact"]
    assert (contact["email"], contact["first_name"]) == ("dana@example.com", "Dana")
    assert result["erin@example.com"] == {"error": "contact not found"}

    status, _, body = http("PUT", contacts_url, json.dumps({"contacts": [{"email": "bad"}]}).encode(), auth)
    assert status == 400
    assert fields_of(body) == {"contacts.0.email"}

    status, _, _ = http("DELETE", f"{contacts_url}?ids={contact['id']}", headers=auth)
    assert status == 202
    status, _, body = post_json(search_url, {"emails": ["dana@example.com"]})
    assert status == 404
    assert_no_leak(body, "dana@example.com")
    assert http("DELETE", contacts_url, headers=auth)[0] == 400


def test_a_deleted_contact_is_found_until_the_deletion_delay_has_passed_and_each_deletion_is_counted(
    server: Server,
) -> None:
    auth = {"Authorization": "Bearer SG.test", "Content-Type": "application/json"}
    contacts_url = server.url + "/v3/marketing/contacts"
    upsert = {"contacts": [{"email": "gale@example.com"}]}
    assert http("PUT", contacts_url, json.dumps(upsert).encode(), auth)[0] == 202
    settings = server.url + "/_marketing/settings"
    assert http("PUT", settings, json.dumps({"deletionDelaySeconds": 600}).encode(), auth)[0] == 200
    search_url = contacts_url + "/search/emails"
    deletions = server.url + "/_marketing/deletions"
    calls_before = json.loads(http("GET", deletions)[2])["calls"]  # the server is shared by the module's tests

    def found() -> dict[str, Any] | None:
        status, _, body = post_json(search_url, {"emails": ["gale@example.com"]})
        return json.loads(body)["result"]["gale@example.com"]["contact"] if status == 200 else None

    for _ in range(2):  # as at SendGrid, a caller that asks again finds it and deletes it again
        contact = found()
        assert contact is not None
        assert http("DELETE", f"{contacts_url}?ids={contact['id']}", headers=auth)[0] == 202
    counted = json.loads(http("GET", deletions)[2])
    assert (counted["calls"] - calls_before, counted["byEmail"]["gale@example.com"]) == (2, 2)
    assert http("PUT", settings, json.dumps({"deletionDelaySeconds": 0}).encode(), auth)[0] == 200
    assert found() is None  # no delay any more: the deletions under way are done
    assert http("PUT", settings, json.dumps({"deletionDelaySeconds": -1}).encode(), auth)[0] == 400
