"""The mail server accepts exactly what SendGrid's Mail Send accepts.

The request schema is built from SendGrid's published OpenAPI document (``contracts/sendgrid/
tsg_mail_v3.json``, copied unchanged with its licence), ``$ref``s resolved, formats checked. Over a
broad corpus of requests:

- every request the schema rejects, the server rejects: 400 in SendGrid's error shape (the
  document's ``ErrorResponse``), naming the offending field, a container or a part of it, and
  never an address of the request. Most of these requests are made from the schema itself: every
  assertion it makes (type, required, minLength, maxLength, maxItems, uniqueItems, enum, format,
  maxProperties, additionalProperties) is broken, one at a time, at every place a request that
  uses every property meets it;
- every request the server accepts, the schema accepts;
- the rules SendGrid documents beyond the schema are enforced, on requests the schema accepts: at
  most 1,000 personalizations and 1,000 recipients, each address once per request, custom_args
  under 10,000 bytes with string values, send_at at most 72 hours ahead, 30 MB per request.

Where the document is wrong it is corrected here, each correction checked to be still needed:
the message-level ``custom_args`` is typed as a string, but SendGrid answers a string there with
"Invalid type. Expected: object, given: string." and every official SDK sends an object, so the
personalization-level definition is used; ``ErrorResponse`` marks ``field`` with OpenAPI 3.0's
``nullable`` (read as JSON Schema's null type) and types ``help`` as an object, where SendGrid's
answers carry a link or ``null``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sendgrid.helpers.mail import (
    Asm,
    Attachment,
    BatchId,
    BccSettings,
    BypassBounceManagement,
    BypassSpamManagement,
    BypassUnsubscribeManagement,
    Category,
    ClickTracking,
    Content,
    ContentId,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    FooterHtml,
    FooterSettings,
    FooterText,
    Ganalytics,
    GroupsToDisplay,
    Header,
    IpPoolName,
    Mail,
    MailSettings,
    OpenTracking,
    ReplyTo,
    SandBoxMode,
    SendAt,
    SubscriptionTracking,
    TrackingSettings,
)

from tests.devstack.mail_harness import Server, errors_of, post_json, send, start_server, valid_payload
from tests.devstack.openapi import (
    CONTRACTS,
    MISSING,
    Contract,
    addresses_in,
    dotted,
    load,
    related,
    with_changes,
)

SPEC = CONTRACTS / "tsg_mail_v3.json"
BODY_POINTER = "/components/requestBodies/PostMailSend/content/application~1json/schema"
THIRTY_MB = 30 * 1024 * 1024
# The mail server numbers unsubscribe groups from 1: the module's server makes this one first.
GROUP_ID = 1


# -- the contract ----------------------------------------------------------------------------


def load_spec() -> dict[str, Any]:
    spec = load(SPEC.name)
    body = spec["components"]["requestBodies"]["PostMailSend"]["content"]["application/json"]["schema"]
    message_args = body["properties"]["custom_args"]
    # If SendGrid fixes its document, this fails and the correction below can go.
    assert message_args["type"] == "string", "the spec now types custom_args differently: drop the correction"
    personalization_args = body["properties"]["personalizations"]["items"]["properties"]["custom_args"]
    body["properties"]["custom_args"] = {**personalization_args, "description": message_args["description"]}
    return spec


MAIL = Contract(load_spec(), "urn:sendgrid:tsg_mail_v3")
BODY = MAIL.validator(BODY_POINTER)
ERRORS = MAIL.errors()


# -- requests --------------------------------------------------------------------------------


def sdk_kitchen_sink() -> dict[str, Any]:
    """Every part of a mail the official SDK can build, as the SDK sends it."""
    message = Mail(
        from_email=("privacy@example.com", "Privacy Team"),
        to_emails=[("alice@example.com", "Alice"), "bob@example.org"],
        subject="Your data export is ready",
        plain_text_content="Download it within 7 days.",
        html_content="<p>Download it within 7 days.</p>",
    )
    message.add_content(Content("text/calendar", "BEGIN:VCALENDAR\r\nEND:VCALENDAR"))
    message.add_cc("carol@example.com")
    message.add_bcc("audit@example.com")
    message.reply_to = ReplyTo("help@example.com", "Help")
    message.attachment = Attachment(
        FileContent("eyJkYXRhIjogdHJ1ZX0="),
        FileName("export.json"),
        FileType("application/json"),
        Disposition("attachment"),
    )
    message.add_attachment(
        Attachment(
            FileContent("iVBORw0KGgo="),
            FileName("logo.png"),
            FileType("image/png"),
            Disposition("inline"),
            ContentId("logo"),
        )
    )
    message.add_header(Header("X-Request-Id", "req-42"))
    message.add_category(Category("dsr-export"))
    message.add_category(Category("privacy"))
    message.add_custom_arg(CustomArg("request_id", "req-42"))
    message.send_at = SendAt(int(time.time()) + 3600)
    message.batch_id = BatchId("HkJ5yLYULb7Rj8GKSx7u025ouWVlMgAi")
    message.asm = Asm(GROUP_ID, GroupsToDisplay([GROUP_ID, 43]))
    message.ip_pool_name = IpPoolName("transactional")
    message.mail_settings = MailSettings(
        bcc_settings=BccSettings(False),
        bypass_bounce_management=BypassBounceManagement(True),
        bypass_spam_management=BypassSpamManagement(True),
        bypass_unsubscribe_management=BypassUnsubscribeManagement(True),
        footer_settings=FooterSettings(True, FooterText("Privacy team"), FooterHtml("<p>Privacy team</p>")),
        sandbox_mode=SandBoxMode(False),
    )
    message.tracking_settings = TrackingSettings(
        click_tracking=ClickTracking(False, False),
        open_tracking=OpenTracking(False),
        subscription_tracking=SubscriptionTracking(False),
        ganalytics=Ganalytics(False),
    )
    body: dict[str, Any] = message.get()
    return body


def full_request() -> dict[str, Any]:
    """A valid request that uses every property the schema declares (reply_to here, reply_to_list below)."""
    now = int(time.time())
    return {
        "personalizations": [
            {
                "to": [{"email": "alice@example.com", "name": "Alice"}],
                "cc": [{"email": "carol@example.com", "name": "Carol"}],
                "bcc": [{"email": "audit@example.com", "name": "Audit"}],
                "from": {"email": "privacy@example.com", "name": "Privacy Team"},
                "subject": "Your data export is ready",
                "headers": {"X-Request-Id": "req-42"},
                "substitutions": {"-name-": "Alice"},
                "dynamic_template_data": {"name": "Alice", "items": [1, 2]},
                "custom_args": {"request_id": "req-42"},
                "send_at": now + 3600,
            }
        ],
        "from": {"email": "privacy@example.com", "name": "Privacy Team"},
        "reply_to": {"email": "help@example.com", "name": "Help"},
        "subject": "Your data export is ready",
        "content": [
            {"type": "text/plain", "value": "Download it within 7 days."},
            {"type": "text/html", "value": "<p>Download it within 7 days.</p>"},
        ],
        "attachments": [
            {
                "content": "eyJkYXRhIjogdHJ1ZX0=",
                "type": "application/json",
                "filename": "export.json",
                "disposition": "inline",
                "content_id": "export",
            }
        ],
        "template_id": "d-0123456789abcdef0123456789abcdef",
        "headers": {"X-Campaign": "privacy"},
        "categories": ["dsr-export"],
        "custom_args": {"tenant": "eu-1"},
        "send_at": now + 3600,
        "batch_id": "HkJ5yLYULb7Rj8GKSx7u025ouWVlMgAi",
        "asm": {"group_id": GROUP_ID, "groups_to_display": [GROUP_ID, 43]},
        "ip_pool_name": "transactional",
        "mail_settings": {
            "bypass_list_management": {"enable": True},
            "footer": {"enable": True, "text": "Privacy team", "html": "<p>Privacy team</p>"},
            "sandbox_mode": {"enable": False},
        },
        "tracking_settings": {
            "click_tracking": {"enable": False, "enable_text": False},
            "open_tracking": {"enable": False, "substitution_tag": "%open%"},
            "subscription_tracking": {
                "enable": False,
                "text": "Unsubscribe",
                "html": "<p>Unsubscribe</p>",
                "substitution_tag": "%unsubscribe%",
            },
            "ganalytics": {
                "enable": False,
                "utm_source": "mail",
                "utm_medium": "email",
                "utm_term": "privacy",
                "utm_content": "export",
                "utm_campaign": "dsr",
            },
        },
    }


def full_request_with_the_alternatives() -> dict[str, Any]:
    """The properties that may not appear beside those of ``full_request``."""
    body = full_request()
    del body["reply_to"]
    body["reply_to_list"] = [{"email": "help@example.com", "name": "Help"}, {"email": "dpo@example.com"}]
    body["mail_settings"] = {
        "bypass_spam_management": {"enable": True},
        "bypass_bounce_management": {"enable": True},
        "bypass_unsubscribe_management": {"enable": True},
    }
    return body


def personalizations(count: int) -> list[dict[str, Any]]:
    return [{"to": [{"email": f"user{i}@example.com"}]} for i in range(count)]


def recipients(prefix: str, count: int) -> list[dict[str, str]]:
    return [{"email": f"{prefix}{i}@example.com"} for i in range(count)]


def custom_args_of_size(size: int) -> dict[str, str]:
    """String arguments whose compact JSON is exactly ``size`` bytes, the measure the server applies."""
    args = {"pad": ""}
    args["pad"] = "x" * (size - len(json.dumps(args, separators=(",", ":")).encode()))
    return args


def request_of_size(size: int) -> bytes:
    """A valid request whose JSON body is exactly ``size`` bytes."""
    body = valid_payload()
    body["content"][0]["value"] = "x"
    raw = json.dumps(body, separators=(",", ":"))
    body["content"][0]["value"] = "x" * (size - len(raw.encode()) + 1)
    encoded = json.dumps(body, separators=(",", ":")).encode()
    assert len(encoded) == size
    return encoded


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    body: Any
    # valid: SendGrid takes it; documented: the schema takes it, SendGrid's documentation refuses it;
    # schema: made to break one keyword of the schema
    origin: str
    field: str | None = None  # what a rejection names (or a container or part of it); None: the body

    @property
    def accepted(self) -> bool:
        return self.origin == "valid"


def accepted_cases() -> list[Case]:
    now = int(time.time())
    templated = valid_payload()
    del templated["subject"], templated["content"]
    templated["template_id"] = "d-0123456789abcdef0123456789abcdef"
    per_personalization_subjects = valid_payload()
    del per_personalization_subjects["subject"]
    per_personalization_subjects["personalizations"] = [
        {"to": [{"email": "alice@example.com"}], "subject": "For Alice"},
        {"to": [{"email": "bob@example.com"}], "subject": "For Bob"},
    ]
    split = valid_payload()
    split["personalizations"] = [
        {"to": recipients("to", 500), "cc": recipients("cc", 300), "bcc": recipients("bcc", 200)},
    ]
    cases = [
        Case("minimal", valid_payload(), "valid"),
        Case("every-property", full_request(), "valid"),
        Case("every-property-with-the-alternatives", full_request_with_the_alternatives(), "valid"),
        Case("sdk-kitchen-sink", sdk_kitchen_sink(), "valid"),
        Case("template-without-subject-or-content", templated, "valid"),
        Case("subject-in-every-personalization", per_personalization_subjects, "valid"),
        Case("1000-personalizations", {**valid_payload(), "personalizations": personalizations(1000)}, "valid"),
        Case("1000-recipients-across-to-cc-bcc", split, "valid"),
        Case("custom-args-9999-bytes", {**valid_payload(), "custom_args": custom_args_of_size(9_999)}, "valid"),
        Case(
            "merged-custom-args-9999-bytes",
            with_changes(
                {**valid_payload(), "custom_args": {"a": "1"}},
                {("personalizations", 0, "custom_args"): custom_args_of_size(9_999 - len(',"a":"1"'))},
            ),
            "valid",
        ),
        Case("send-at-now", {**valid_payload(), "send_at": now}, "valid"),
        Case("send-at-71-hours-ahead", {**valid_payload(), "send_at": now + 71 * 3600}, "valid"),
        Case("ten-categories-of-255", {**valid_payload(), "categories": [f"{i}" * 255 for i in range(10)]}, "valid"),
        Case(
            "25-groups-to-display",
            {**valid_payload(), "asm": {"group_id": GROUP_ID, "groups_to_display": list(range(25))}},
            "valid",
        ),
        Case("ip-pool-name-2", {**valid_payload(), "ip_pool_name": "ab"}, "valid"),
        Case("ip-pool-name-64", {**valid_payload(), "ip_pool_name": "p" * 64}, "valid"),
        Case("unknown-mail-setting", {**valid_payload(), "mail_settings": {"bcc": {"enable": False}}}, "valid"),
        Case(
            "unicode-subject-and-idn-recipient",
            with_changes(
                {**valid_payload(), "subject": "Ihre Daten: Übersicht für Jürgen"},
                {("personalizations", 0, "to", 0, "email"): "leser@bücher.example"},
            ),
            "valid",
        ),
        Case("sandbox-mode", {**valid_payload(), "mail_settings": {"sandbox_mode": {"enable": True}}}, "valid"),
    ]
    return cases


def rejected_beyond_the_schema() -> list[Case]:
    """Requests the schema allows and SendGrid's documentation refuses."""
    now = int(time.time())
    base = valid_payload()
    return [
        Case(
            "1001-recipients-in-one-to",
            with_changes(base, {("personalizations", 0, "to"): recipients("to", 1001)}),
            "documented",
            "personalizations",
        ),
        Case(
            "1001-recipients-across-personalizations",
            {**base, "personalizations": [{"to": recipients("a", 501)}, {"to": recipients("b", 500)}]},
            "documented",
            "personalizations",
        ),
        Case(
            "duplicate-within-to",
            with_changes(
                base, {("personalizations", 0, "to"): [{"email": "dup@example.com"}, {"email": "DUP@Example.com"}]}
            ),
            "documented",
            "personalizations.0.to.1.email",
        ),
        Case(
            "duplicate-between-to-and-cc",
            with_changes(base, {("personalizations", 0, "cc"): [{"email": "Alice@example.com"}]}),
            "documented",
            "personalizations.0.cc.0.email",
        ),
        Case(
            "duplicate-across-personalizations",
            {
                **base,
                "personalizations": [
                    {"to": [{"email": "dup@example.com"}]},
                    {"to": [{"email": "x@example.com"}], "bcc": [{"email": "dup@EXAMPLE.com"}]},
                ],
            },
            "documented",
            "personalizations.1.bcc.0.email",
        ),
        Case(
            "custom-args-10000-bytes", {**base, "custom_args": custom_args_of_size(10_000)}, "documented", "custom_args"
        ),
        Case(
            "personalization-custom-args-10000-bytes",
            with_changes(base, {("personalizations", 0, "custom_args"): custom_args_of_size(10_000)}),
            "documented",
            "personalizations.0.custom_args",
        ),
        Case(
            "merged-custom-args-10000-bytes",
            with_changes(
                {**base, "custom_args": {"a": "1"}},
                {("personalizations", 0, "custom_args"): custom_args_of_size(10_000 - len(',"a":"1"'))},
            ),
            "documented",
            "personalizations.0.custom_args",
        ),
        *[
            Case(f"custom-args-{kind}-value", {**base, "custom_args": {"user_id": value}}, "documented", "custom_args")
            for kind, value in (("integer", 1234), ("boolean", True), ("null", None), ("object", {"a": "b"}))
        ],
        Case(
            "personalization-custom-args-integer-value",
            with_changes(base, {("personalizations", 0, "custom_args"): {"user_id": 1234}}),
            "documented",
            "personalizations.0.custom_args",
        ),
        Case("send-at-73-hours-ahead", {**base, "send_at": now + 73 * 3600}, "documented", "send_at"),
        Case(
            "personalization-send-at-73-hours-ahead",
            with_changes(base, {("personalizations", 0, "send_at"): now + 73 * 3600}),
            "documented",
            "personalizations.0.send_at",
        ),
        Case("send-at-negative", {**base, "send_at": -1}, "documented", "send_at"),
        Case("no-personalization", {**base, "personalizations": []}, "documented", "personalizations"),
        Case(
            "empty-to", with_changes(base, {("personalizations", 0, "to"): []}), "documented", "personalizations.0.to"
        ),
        Case("no-subject-no-template", with_changes(base, {("subject",): MISSING}), "documented", "subject"),
        Case("no-content-no-template", with_changes(base, {("content",): MISSING}), "documented", "content"),
        Case("empty-content", {**base, "content": []}, "documented", "content"),
        Case(
            "html-before-text",
            {**base, "content": [{"type": "text/html", "value": "<p>x</p>"}, {"type": "text/plain", "value": "x"}]},
            "documented",
            "content",
        ),
        Case(
            "reply-to-and-reply-to-list",
            {**base, "reply_to": {"email": "a@example.com"}, "reply_to_list": [{"email": "b@example.com"}]},
            "documented",
            "reply_to_list",
        ),
        Case(
            "bypass-list-management-with-another-bypass",
            {
                **base,
                "mail_settings": {
                    "bypass_list_management": {"enable": True},
                    "bypass_spam_management": {"enable": True},
                },
            },
            "documented",
            "mail_settings.bypass_list_management",
        ),
        Case("reserved-header", {**base, "headers": {"Reply-To": "x"}}, "documented", "headers"),
        Case("header-value-not-a-string", {**base, "headers": {"X-Count": 1}}, "documented", "headers"),
        Case(
            "attachment-not-base64",
            {**base, "attachments": [{"content": "not base64!", "filename": "a.txt"}]},
            "documented",
            "attachments.0.content",
        ),
        Case(
            "recipient-without-a-domain-dot",
            with_changes(base, {("personalizations", 0, "to", 0, "email"): "alice@localhost"}),
            "documented",
            "personalizations.0.to.0.email",
        ),
        Case(
            "recipient-name-with-a-comma",
            with_changes(base, {("personalizations", 0, "to", 0, "name"): "Lovelace, Ada"}),
            "documented",
            "personalizations.0.to.0.name",
        ),
        Case("unicode-sender", with_changes(base, {("from", "email"): "jörg@example.com"}), "documented", "from.email"),
        Case(
            "substitutions-over-10000-bytes",
            with_changes(base, {("personalizations", 0, "substitutions"): {"-x-": "x" * 10_000}}),
            "documented",
            "personalizations.0.substitutions",
        ),
        Case("empty-template-id", {**base, "template_id": ""}, "documented", "template_id"),
        Case("unknown-unsubscribe-group", {**base, "asm": {"group_id": GROUP_ID + 1}}, "documented", "asm.group_id"),
        Case("empty-batch-id", {**base, "batch_id": ""}, "documented", "batch_id"),
    ]


# -- requests made from the schema -----------------------------------------------------------


def schema_made_cases() -> list[Case]:
    root = MAIL.resolved({"$ref": f"#{BODY_POINTER}"})
    cases: dict[str, Case] = {}
    for base in (full_request(), full_request_with_the_alternatives()):
        for keyword, path, new in MAIL.mutations(root, base):
            field = dotted(path)
            shown = "missing" if new is MISSING else type(new).__name__
            name = f"{field or 'body'}:{keyword}:{shown}"
            cases.setdefault(name, Case(name, with_changes(base, {path: new}), "schema", field))
    return list(cases.values())


ALL_CASES = [*accepted_cases(), *rejected_beyond_the_schema(), *schema_made_cases()]


# -- the checks ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_server(tmp_path_factory.mktemp("contract") / "server.log")
    group = {"name": "Newsletter", "description": "News from us"}
    status, _, body = post_json(started.url + "/v3/asm/groups", group)
    assert (status, json.loads(body)["id"]) == (201, GROUP_ID)
    yield started
    assert started.stop() == 0


def test_the_schema_made_requests_break_every_assertion_the_schema_makes() -> None:
    made = {case.name.split(":")[1] for case in schema_made_cases()}
    assert MAIL.assertions_in(MAIL.resolved({"$ref": f"#{BODY_POINTER}"})) <= made
    assert len(schema_made_cases()) > 300


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_the_server_agrees_with_the_contract(server: Server, case: Case) -> None:
    schema_errors = [e.message for e in BODY.iter_errors(case.body)]
    if case.origin == "schema":
        assert schema_errors, "a request made to break the schema should break it"
    else:
        assert not schema_errors, schema_errors

    status, _, answer = send(server, json.dumps(case.body).encode())

    if case.accepted:
        assert status in (200, 202), answer
        return
    assert status == 400, answer
    errors = errors_of(answer)
    ERRORS.validate(json.loads(answer))
    assert any(related(e["field"], case.field) for e in errors), (case.field, errors)
    text = answer.decode("utf-8").lower()
    for address in addresses_in(case.body):
        assert address.lower() not in text, "an error repeats an address of the request"


def test_30_mb_is_accepted_and_one_byte_more_refused(server: Server) -> None:
    status, headers, _ = send(server, request_of_size(THIRTY_MB))
    assert status == 202
    assert headers["X-Message-Id"]

    status, _, answer = send(server, request_of_size(THIRTY_MB + 1))
    assert status == 413
    ERRORS.validate(json.loads(answer))
    assert errors_of(answer) == [{"message": "content too large", "field": None, "help": None}]
