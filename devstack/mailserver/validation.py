"""Validation of SendGrid v3 Mail Send request bodies.

Rules follow SendGrid's OpenAPI contract (a copy is ``tests/devstack/contracts/sendgrid/
tsg_mail_v3.json``; ``tests/devstack/test_mail_send_contract.py`` checks this module against it)
plus the limitations SendGrid documents for Mail Send (total recipients, unique addresses,
custom_args size and string values, send_at, no unicode in ``from``, no ``;``/``,`` in recipient
names). Error messages never contain submitted values:
only a fixed message and the JSON path of the offending field, because error bodies end up in
application logs and must not leak personal data.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_PERSONALIZATIONS = 1000
MAX_TOTAL_RECIPIENTS = 1000
MAX_RECIPIENTS_PER_LIST = 1000
MAX_REPLY_TO_LIST = 1000
MAX_CATEGORIES = 10
MAX_CATEGORY_LENGTH = 255
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_SUBSTITUTIONS_BYTES = 10_000
MAX_GROUPS_TO_DISPLAY = 25
MAX_SEND_AT_AHEAD_SECONDS = 72 * 3600

# The typed properties of the settings the contract declares, beyond "enable" (checked for every setting).
SETTING_PROPERTIES: dict[str, dict[str, dict[str, type]]] = {
    "mail_settings": {"footer": {"text": str, "html": str}},
    "tracking_settings": {
        "click_tracking": {"enable_text": bool},
        "open_tracking": {"substitution_tag": str},
        "subscription_tracking": {"text": str, "html": str, "substitution_tag": str},
        "ganalytics": {f"utm_{part}": str for part in ("source", "medium", "term", "content", "campaign")},
    },
}

CUSTOM_ARGS_TOO_LARGE = f"The total length of custom arguments must be less than {MAX_CUSTOM_ARGS_BYTES} bytes."
SUBSTITUTIONS_TOO_LARGE = f"Substitutions may not exceed {MAX_SUBSTITUTIONS_BYTES} bytes per personalization."
GROUPS_TO_DISPLAY_INVALID = f"The groups_to_display must be an array of at most {MAX_GROUPS_TO_DISPLAY} integers."

# Headers the contract says may not be overridden (compared case-insensitively).
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "Content-Type",
        "Content-Transfer-Encoding",
        "To",
        "From",
        "Subject",
        "Reply-To",
        "CC",
        "BCC",
    )
)

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL_PART_RE = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*\Z")
_DOMAIN_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
_MIME_TYPE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\Z")


@dataclass(frozen=True)
class FieldError:
    message: str
    field: str | None

    def as_json(self) -> dict[str, Any]:
        return {"message": self.message, "field": self.field, "help": None}


def is_valid_email(address: object) -> bool:
    """Syntactic check of a bare address (no display name, no quoted local part).

    Deliberately stricter than RFC 5322 and close to what mail APIs accept in practice: a
    dot-atom local part and a host name with at least two labels. Internationalised domains are
    accepted when they convert to IDNA.
    """
    if not isinstance(address, str) or len(address) > 254:
        return False
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or len(local) > 64:
        return False
    if not _LOCAL_PART_RE.match(local):
        return False
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return False
    labels = domain.split(".")
    if len(labels) < 2 or len(domain) > 253:
        return False
    if not all(_DOMAIN_LABEL_RE.match(label) for label in labels):
        return False
    # A numeric top-level label means an IP address, which SendGrid does not deliver to.
    return not labels[-1].isdigit()


def json_size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _is_int(value: object) -> bool:
    # bool is a subclass of int, but JSON true/false is not an integer.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_nonempty_str(value: object) -> bool:
    return isinstance(value, str) and value != ""


class _Validator:
    def __init__(self, body: dict[str, Any], now: float) -> None:
        self.body = body
        self.now = now
        self.errors: list[FieldError] = []

    def error(self, field: str | None, message: str) -> None:
        self.errors.append(FieldError(message=message, field=field))

    # -- building blocks ------------------------------------------------------------------

    def address_object(self, value: object, path: str, *, what: str, ascii_only: bool = False) -> str | None:
        """Validate an ``{"email", "name"}`` object; return the address when it is valid."""
        if not isinstance(value, dict):
            self.error(path, f"The {what} must be an object with an email property.")
            return None
        email = value.get("email")
        valid: str | None = None
        if email is None:
            self.error(f"{path}.email", f"The {what} requires an email property.")
        elif ascii_only and isinstance(email, str) and not email.isascii():
            # Documented limitation of the from field (no SMTPUTF8 or IDN senders).
            self.error(f"{path}.email", "Unicode is not supported in the from address.")
        elif not is_valid_email(email):
            self.error(f"{path}.email", "Does not contain a valid address.")
        else:
            valid = str(email)
        if "name" in value and not isinstance(value["name"], str):
            self.error(f"{path}.name", "The name must be a string.")
        return valid

    def recipient_list(self, value: object, path: str, *, required: bool, max_items: int) -> list[tuple[str, str]]:
        """Validate to/cc/bcc; return ``(path, address)`` pairs for the valid entries."""
        found: list[tuple[str, str]] = []
        if not isinstance(value, list) or (required and not value):
            self.error(
                path,
                "The to array is required for all personalization objects, and must have at least "
                "one email object with a valid email address."
                if required
                else "Recipients must be given as an array of email objects.",
            )
            return found
        if len(value) > max_items:
            self.error(path, f"A recipient array may contain at most {max_items} recipients.")
        for index, item in enumerate(value):
            item_path = f"{path}.{index}"
            email = self.address_object(item, item_path, what="recipient")
            if isinstance(item, dict):
                name = item.get("name")
                # Documented limitation: these characters would split the rendered header.
                if isinstance(name, str) and (";" in name or "," in name):
                    self.error(
                        f"{item_path}.name",
                        "The to.name, cc.name, and bcc.name personalizations cannot include "
                        "either the ; or , characters.",
                    )
            if email is not None:
                found.append((f"{item_path}.email", email))
        return found

    def string_object(self, value: object, path: str, *, what: str) -> bool:
        if not isinstance(value, dict):
            self.error(path, f"The {what} must be an object.")
            return False
        return True

    def headers(self, value: object, path: str) -> None:
        if not self.string_object(value, path, what="headers property"):
            return
        assert isinstance(value, dict)
        for name, header_value in value.items():
            if not isinstance(header_value, str):
                self.error(path, "Header values must be strings.")
            # Keys are submitted data; report the container path only.
            if name.lower() in RESERVED_HEADERS:
                self.error(
                    path,
                    "The headers object may not override reserved headers such as To, From, "
                    "Subject, Reply-To, CC, BCC, Content-Type or DKIM-Signature.",
                )
            elif not name or any(c in name for c in ":\r\n ") or not name.isascii():
                self.error(path, "Header names must be non-empty ASCII without spaces or colons.")

    def custom_args(self, value: object, path: str) -> bool:
        # The contract types the message-level custom_args as a string, but the live API and the
        # official SDKs send a JSON object of string pairs; accept what the SDKs send.
        if not isinstance(value, dict):
            self.error(path, "The custom_args property must be an object of key/value pairs.")
            return False
        # Documented: values must be strings (SendGrid answers 400 to a number). Keys are data: path only.
        if not all(isinstance(v, str) for v in value.values()):
            self.error(path, "Custom argument values must be strings.")
            return False
        if json_size(value) >= MAX_CUSTOM_ARGS_BYTES:
            self.error(path, CUSTOM_ARGS_TOO_LARGE)
            return False
        return True

    def send_at(self, value: object, path: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.error(path, "The send_at parameter must be a unix timestamp (a non-negative integer).")
            return
        if value > self.now + MAX_SEND_AT_AHEAD_SECONDS:
            self.error(path, "A send cannot be scheduled more than 72 hours in advance.")

    # -- sections -------------------------------------------------------------------------

    def personalizations(self) -> list[tuple[str, str]]:
        value = self.body.get("personalizations")
        if value is None or not isinstance(value, list) or not value:
            self.error(
                "personalizations",
                "The personalizations field is required and must have at least one personalization.",
            )
            return []
        if len(value) > MAX_PERSONALIZATIONS:
            self.error(
                "personalizations",
                f"The personalizations field must contain at most {MAX_PERSONALIZATIONS} personalizations.",
            )
        recipients: list[tuple[str, str]] = []
        top_custom_args = self.body.get("custom_args")
        for index, item in enumerate(value):
            path = f"personalizations.{index}"
            if not isinstance(item, dict):
                self.error(path, "Each personalization must be an object.")
                continue
            recipients += self.recipient_list(
                item.get("to"), f"{path}.to", required=True, max_items=MAX_RECIPIENTS_PER_LIST
            )
            for kind in ("cc", "bcc"):
                if kind in item:
                    recipients += self.recipient_list(
                        item[kind], f"{path}.{kind}", required=False, max_items=MAX_RECIPIENTS_PER_LIST
                    )
            if "from" in item:
                self.address_object(item["from"], f"{path}.from", what="from object", ascii_only=True)
            if "subject" in item and not _is_nonempty_str(item["subject"]):
                self.error(f"{path}.subject", "The subject must be a string at least one character in length.")
            if "headers" in item:
                self.headers(item["headers"], f"{path}.headers")
            if "substitutions" in item:
                subs = item["substitutions"]
                if self.string_object(subs, f"{path}.substitutions", what="substitutions property"):
                    assert isinstance(subs, dict)
                    if not all(isinstance(v, str) for v in subs.values()):
                        self.error(f"{path}.substitutions", "Substitution values must be strings.")
                    if json_size(subs) > MAX_SUBSTITUTIONS_BYTES:
                        self.error(
                            f"{path}.substitutions",
                            SUBSTITUTIONS_TOO_LARGE,
                        )
            if "dynamic_template_data" in item:
                self.string_object(
                    item["dynamic_template_data"],
                    f"{path}.dynamic_template_data",
                    what="dynamic_template_data",
                )
            if "custom_args" in item and self.custom_args(item["custom_args"], f"{path}.custom_args"):
                # Documented limit applies to the arguments a message ends up carrying.
                merged = dict(top_custom_args) if isinstance(top_custom_args, dict) else {}
                merged.update(item["custom_args"])
                if json_size(merged) >= MAX_CUSTOM_ARGS_BYTES:
                    self.error(
                        f"{path}.custom_args",
                        CUSTOM_ARGS_TOO_LARGE,
                    )
            if "send_at" in item:
                self.send_at(item["send_at"], f"{path}.send_at")
        return recipients

    def recipients_across_request(self, recipients: list[tuple[str, str]]) -> None:
        if len(recipients) > MAX_TOTAL_RECIPIENTS:
            self.error(
                "personalizations",
                f"The total number of recipients (to, cc and bcc across all personalizations) must be "
                f"no more than {MAX_TOTAL_RECIPIENTS}.",
            )
        seen: set[str] = set()
        for path, address in recipients:
            key = address.lower()
            if key in seen:
                self.error(
                    path,
                    "Each email address in the personalization block should be unique between to, "
                    "cc, and bcc. This field repeats an address used earlier in the request.",
                )
            seen.add(key)

    def sender_and_reply(self) -> None:
        if "from" not in self.body:
            self.error(
                "from.email",
                "The from object must be provided for every email send. It is an object that "
                "requires the email parameter, but may also contain a name parameter.",
            )
        else:
            self.address_object(self.body["from"], "from", what="from object", ascii_only=True)
        if "reply_to" in self.body and "reply_to_list" in self.body:
            self.error("reply_to_list", "The reply_to and reply_to_list properties are mutually exclusive.")
        if "reply_to" in self.body:
            self.address_object(self.body["reply_to"], "reply_to", what="reply_to object")
        if "reply_to_list" in self.body:
            value = self.body["reply_to_list"]
            if not isinstance(value, list) or not value:
                self.error("reply_to_list", "The reply_to_list must be an array with at least one email object.")
                return
            if len(value) > MAX_REPLY_TO_LIST:
                self.error("reply_to_list", f"The reply_to_list may contain at most {MAX_REPLY_TO_LIST} items.")
            seen: set[str] = set()
            for index, item in enumerate(value):
                email = self.address_object(item, f"reply_to_list.{index}", what="reply_to_list item")
                if email is not None:
                    if email.lower() in seen:
                        self.error(f"reply_to_list.{index}.email", "The reply_to_list items must be unique.")
                    seen.add(email.lower())

    def subject_and_content(self) -> None:
        template_id = self.body.get("template_id")
        if "template_id" in self.body and not _is_nonempty_str(template_id):
            self.error("template_id", "The template_id must be a non-empty string.")
        has_template = _is_nonempty_str(template_id)

        personalizations = self.body.get("personalizations")
        every_personalization_has_subject = (
            isinstance(personalizations, list)
            and bool(personalizations)
            and all(isinstance(p, dict) and _is_nonempty_str(p.get("subject")) for p in personalizations)
        )
        if "subject" in self.body:
            if not _is_nonempty_str(self.body["subject"]):
                self.error("subject", "The subject must be a string at least one character in length.")
        elif not (has_template or every_personalization_has_subject):
            self.error(
                "subject",
                "The subject is required. You can get around this requirement if you use a template "
                "with a subject defined or if every personalization has a subject defined.",
            )

        if "content" not in self.body:
            if not has_template:
                self.error(
                    "content",
                    "Unless a valid template_id is provided, the content parameter is required. There "
                    "must be at least one defined content block.",
                )
            return
        content = self.body["content"]
        if not isinstance(content, list) or not content:
            self.error("content", "The content parameter must be an array with at least one content block.")
            return
        types: list[str] = []
        for index, item in enumerate(content):
            path = f"content.{index}"
            if not isinstance(item, dict):
                self.error(path, "Each content block must be an object with type and value.")
                continue
            mime = item.get("type")
            if not _is_nonempty_str(mime):
                self.error(f"{path}.type", "The content type must be a string at least one character in length.")
            elif not _MIME_TYPE_RE.match(str(mime)):
                self.error(f"{path}.type", "Content types must be MIME types and cannot contain ';' or CRLF.")
            else:
                types.append(str(mime).lower())
            if not _is_nonempty_str(item.get("value")):
                self.error(f"{path}.value", "The content value must be a string at least one character in length.")
        # SendGrid builds multipart/alternative from these, so text/plain and text/html must lead.
        expected_prefix = [t for t in ("text/plain", "text/html") if t in types]
        if types[: len(expected_prefix)] != expected_prefix or any(types.count(t) > 1 for t in expected_prefix):
            self.error(
                "content",
                "If present, text/plain and text/html may only occur once each, in that order, and "
                "must come before any other content type.",
            )

    def attachments(self) -> None:
        if "attachments" not in self.body:
            return
        value = self.body["attachments"]
        if not isinstance(value, list):
            self.error("attachments", "The attachments property must be an array.")
            return
        for index, item in enumerate(value):
            path = f"attachments.{index}"
            if not isinstance(item, dict):
                self.error(path, "Each attachment must be an object.")
                continue
            content = item.get("content")
            if not _is_nonempty_str(content):
                self.error(f"{path}.content", "The attachment content is required and must be a non-empty string.")
            else:
                try:
                    base64.b64decode(str(content), validate=True)
                except (binascii.Error, ValueError):
                    self.error(f"{path}.content", "The attachment content must be base64 encoded.")
            if not _is_nonempty_str(item.get("filename")):
                self.error(f"{path}.filename", "The attachment filename is required.")
            if "type" in item and not _is_nonempty_str(item["type"]):
                self.error(f"{path}.type", "The attachment type must be a non-empty string.")
            if "disposition" in item and item["disposition"] not in ("inline", "attachment"):
                self.error(f"{path}.disposition", "The disposition must be either inline or attachment.")
            if "content_id" in item and not isinstance(item["content_id"], str):
                self.error(f"{path}.content_id", "The content_id must be a string.")

    def message_settings(self) -> None:
        body = self.body
        if "headers" in body:
            self.headers(body["headers"], "headers")
        if "categories" in body:
            categories = body["categories"]
            if not isinstance(categories, list):
                self.error("categories", "The categories property must be an array of strings.")
            else:
                if len(categories) > MAX_CATEGORIES:
                    self.error("categories", f"You may not have more than {MAX_CATEGORIES} categories per request.")
                if not all(isinstance(c, str) for c in categories):
                    self.error("categories", "Categories must be strings.")
                elif len(set(categories)) != len(categories):
                    self.error("categories", "The categories must be unique.")
                for index, category in enumerate(categories):
                    if isinstance(category, str) and len(category) > MAX_CATEGORY_LENGTH:
                        self.error(
                            f"categories.{index}",
                            f"A category name cannot exceed {MAX_CATEGORY_LENGTH} characters.",
                        )
        if "custom_args" in body:
            self.custom_args(body["custom_args"], "custom_args")
        if "send_at" in body:
            self.send_at(body["send_at"], "send_at")
        if "batch_id" in body and not _is_nonempty_str(body["batch_id"]):
            self.error("batch_id", "The batch_id must be a non-empty string.")
        if "asm" in body:
            asm = body["asm"]
            if not isinstance(asm, dict):
                self.error("asm", "The asm property must be an object.")
            else:
                if not _is_int(asm.get("group_id")):
                    self.error("asm.group_id", "The asm.group_id is required and must be an integer.")
                groups = asm.get("groups_to_display")
                if "groups_to_display" in asm and (
                    not isinstance(groups, list)
                    or len(groups) > MAX_GROUPS_TO_DISPLAY
                    or not all(_is_int(g) for g in groups)
                ):
                    self.error(
                        "asm.groups_to_display",
                        GROUPS_TO_DISPLAY_INVALID,
                    )
        if "ip_pool_name" in body:
            pool = body["ip_pool_name"]
            if not isinstance(pool, str) or not 2 <= len(pool) <= 64:
                self.error("ip_pool_name", "The ip_pool_name must be a string of 2 to 64 characters.")
        for section in ("mail_settings", "tracking_settings"):
            if section in body:
                self.settings_section(body[section], section)
        self.bypass_filters()

    def settings_section(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            self.error(path, f"The {path} property must be an object.")
            return
        for name, setting in value.items():
            # Setting names are fixed vocabulary, not personal data, so they may appear in paths.
            setting_path = f"{path}.{name}" if re.fullmatch(r"[a-z_]{1,64}", str(name)) else path
            if not isinstance(setting, dict):
                self.error(setting_path, "Each setting must be an object.")
                continue
            typed = {"enable": bool, **SETTING_PROPERTIES[path].get(str(name), {})}
            for prop, kind in typed.items():
                if prop in setting and not isinstance(setting[prop], kind):
                    what = "a boolean" if kind is bool else "a string"
                    self.error(f"{setting_path}.{prop}", f"The {prop} property must be {what}.")

    def bypass_filters(self) -> None:
        settings = self.body.get("mail_settings")
        if not isinstance(settings, dict):
            return
        if not setting_enabled(settings, "bypass_list_management"):
            return
        others = ("bypass_spam_management", "bypass_bounce_management", "bypass_unsubscribe_management")
        if any(setting_enabled(settings, name) for name in others):
            self.error(
                "mail_settings.bypass_list_management",
                "The bypass_list_management filter cannot be combined with any other bypass filter.",
            )

    def run(self) -> list[FieldError]:
        recipients = self.personalizations()
        self.recipients_across_request(recipients)
        self.sender_and_reply()
        self.subject_and_content()
        self.attachments()
        self.message_settings()
        return self.errors


def setting_enabled(settings: dict[str, Any], name: str) -> bool:
    setting = settings.get(name)
    return isinstance(setting, dict) and setting.get("enable") is True


def asm_group_id(body: dict[str, Any]) -> int | None:
    """The unsubscribe group a request is sent in (``asm.group_id``), if any."""
    asm = body.get("asm")
    group_id = asm.get("group_id") if isinstance(asm, dict) else None
    return group_id if _is_int(group_id) else None


def validate_mail_send(body: object, *, now: float | None = None) -> list[FieldError]:
    """Return every problem with a Mail Send body; an empty list means SendGrid would accept it."""
    if not isinstance(body, dict):
        return [FieldError("The request body must be a JSON object.", None)]
    return _Validator(body, time.time() if now is None else now).run()


def iter_personalization_recipients(body: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Yield ``(personalization, kind, address)`` for every to/cc/bcc recipient of an accepted request, in order."""
    for personalization in body.get("personalizations") or []:
        if not isinstance(personalization, dict):
            continue
        for kind in ("to", "cc", "bcc"):
            for recipient in personalization.get(kind) or []:
                if isinstance(recipient, dict) and isinstance(recipient.get("email"), str):
                    yield personalization, kind, recipient["email"]


def iter_recipients(body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(kind, address)`` for every to/cc/bcc recipient of an accepted request."""
    for _, kind, address in iter_personalization_recipients(body):
        yield kind, address
