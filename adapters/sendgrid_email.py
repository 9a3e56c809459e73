"""Mailer and MarketingContacts on SendGrid through the official ``sendgrid`` SDK.

Locally the host is the project's mail server (``devstack/mailserver``), which speaks the same v3 API.
Addresses travel in request bodies, query strings and, for global suppressions, the path; none of
them ends up in a log line or an exception message raised here.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from typing import Any
from urllib.error import URLError
from urllib.parse import quote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from python_http_client.exceptions import HTTPError, NotFoundError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    BypassUnsubscribeManagement,
    Category,
    ClickTracking,
    Ganalytics,
    Mail,
    MailSettings,
    OpenTracking,
    TrackingSettings,
)

from adapters.export_format import iso_times
from core.ports import Confirmation, MailRejected, MailUnavailable
from core.settings import SETTINGS_BY_NAME, Settings, SettingsError
from functions.fanout.ports import BulkMail, BulkRecipient, BulkRejected, BulkThrottled
from functions.inventory.ports import ContactNotDeleted

# The HTTP client under the SDK logs URLs, payloads and response bodies at DEBUG: all carry addresses.
logging.getLogger("python_http_client").setLevel(logging.INFO)
log = logging.getLogger("privacy.sendgrid")

DEFAULT_FROM_ADDRESS = "privacy@softwareengineeringconcepts.com"
MAIL_FROM = "MAIL_FROM"
DEFAULT_TIMEOUT_SECONDS = 30.0
UNSUBSCRIBES_PAGE = 500  # the endpoint's maximum page size
SUPPRESSION_TIME_FIELDS = frozenset({"created", "created_at"})  # Unix seconds in suppression entries


class SendGridError(RuntimeError):
    """SendGrid answered in a way the adapter cannot use; the message never holds an address."""


def _credentials(settings: Settings) -> tuple[str, str]:
    api_key = settings.get("SENDGRID_API_KEY")
    if not api_key:
        raise SettingsError("app setting SENDGRID_API_KEY is required to reach SendGrid")
    return api_key, settings.get("SENDGRID_API_HOST")


class SendGridMailer:
    """Privacy mails: one category each, no click, open or Google Analytics tracking.

    ``bypass_global_unsubscribes`` (on by default): SendGrid silently drops mail to globally
    suppressed addresses. Privacy mails answer the person's own request (verification link, result,
    denial, extension) and must arrive even when the address opted out of all mail, and an erasure
    itself suppresses the address just before its confirmation is sent. Group unsubscribes still
    apply. Turn it off for any mail that is not owed to the person.
    """

    def __init__(
        self,
        api_key: str,
        host: str = "https://api.sendgrid.com",
        from_address: str = DEFAULT_FROM_ADDRESS,
        *,
        bypass_global_unsubscribes: bool = True,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._sendgrid = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self._from = from_address
        self._bypass = bypass_global_unsubscribes
        self._timeout = timeout

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        from_address: str | None = None,
        *,
        bypass_global_unsubscribes: bool = True,
    ) -> SendGridMailer:
        """``from_address`` defaults to the ``MAIL_FROM`` setting where it is declared, else the privacy address."""
        api_key, host = _credentials(settings)
        if from_address is None:
            from_address = settings.get(MAIL_FROM) if MAIL_FROM in SETTINGS_BY_NAME else DEFAULT_FROM_ADDRESS
        return cls(api_key, host, from_address, bypass_global_unsubscribes=bypass_global_unsubscribes)

    def send(self, to: str, subject: str, text: str, category: str) -> str:
        message = Mail(from_email=self._from, to_emails=to, subject=subject, plain_text_content=text)
        message.category = Category(category)
        message.tracking_settings = TrackingSettings(
            click_tracking=ClickTracking(False, False),
            open_tracking=OpenTracking(False),
            ganalytics=Ganalytics(False),
        )
        if self._bypass:
            message.mail_settings = MailSettings(bypass_unsubscribe_management=BypassUnsubscribeManagement(True))
        try:
            response = self._sendgrid.client.mail.send.post(request_body=message.get(), timeout=self._timeout)
        except HTTPError as exc:
            raise _not_sent(exc.status_code) from None  # its body may quote the address: not chained
        except (URLError, TimeoutError, OSError):
            raise MailUnavailable() from None
        message_id = response.headers.get("X-Message-Id")
        if not message_id:
            raise SendGridError(f"SendGrid accepted the mail (HTTP {response.status_code}) without a message id")
        return str(message_id)


class SendGridMarketingContacts:
    """The address's marketing contact and suppressions: exported, deleted, suppressed."""

    def __init__(
        self, api_key: str, host: str = "https://api.sendgrid.com", *, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self._sendgrid = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> SendGridMarketingContacts:
        api_key, host = _credentials(settings)
        return cls(api_key, host)

    def export_contact(self, email: str) -> dict[str, Any]:
        address = email.strip()
        if not address:  # no address, nothing held under it
            return {"contact": None, "globalSuppression": None, "unsubscribes": []}
        exported = {
            "contact": self._find_contact(address),
            "globalSuppression": self._global_suppression(address),
            "unsubscribes": self._unsubscribes(address),
        }
        return dict(iso_times(exported, SUPPRESSION_TIME_FIELDS))

    def delete_contact(self, email: str) -> Confirmation | None:
        """Deletes the contact found by the address; None when there is none.

        SendGrid deletes asynchronously: until its job has ended the contact is still found, and a
        second call would delete it again; callers that may repeat keep a mark of their own (the
        retention purge does, on the profile). ContactNotDeleted when surely nothing was deleted
        (SendGrid unreachable before the deletion was sent, or refusing it); a TimeoutError while
        waiting for its answer leaves that open.
        """
        address = email.strip()
        try:
            contact = self._find_contact(address) if address else None
        except (HTTPError, URLError, OSError):  # TimeoutError included: nothing was asked to change yet
            raise ContactNotDeleted() from None
        if contact is None:
            return None
        contact_id = contact.get("id")
        if not isinstance(contact_id, str) or not contact_id:
            raise SendGridError("SendGrid returned a contact without an id")
        try:
            response = self._sendgrid.client.marketing.contacts.delete(
                query_params={"ids": contact_id}, timeout=self._timeout
            )
        except HTTPError:  # SendGrid answered, with an error: no deletion job (its body may quote data)
            raise ContactNotDeleted() from None
        except URLError:  # raised while connecting or sending, before any answer
            raise ContactNotDeleted() from None
        except OSError:  # no answer in time: SendGrid may have started the job
            raise TimeoutError("SendGrid did not answer the contact deletion") from None
        job_id = _json(response).get("job_id")
        if not job_id:
            raise SendGridError(f"SendGrid accepted the deletion (HTTP {response.status_code}) without a job id")
        return Confirmation("sendgrid", "contact.deleted", str(job_id))

    def suppress(self, email: str) -> Confirmation:
        """Adds the address to the global suppressions (adding it again changes nothing)."""
        address = email.strip()
        if not address:
            raise ValueError("an address is required to suppress it")
        self._sendgrid.client.asm.suppressions._("global").post(
            request_body={"recipient_emails": [address]}, timeout=self._timeout
        )
        return Confirmation("sendgrid", "suppression.added", "asm-global")

    def _find_contact(self, address: str) -> dict[str, Any] | None:
        try:
            response = self._sendgrid.client.marketing.contacts.search.emails.post(
                request_body={"emails": [address]}, timeout=self._timeout
            )
        except NotFoundError:  # none of the searched addresses is a contact
            return None
        result = _json(response).get("result")
        if not isinstance(result, dict):
            return None
        wanted = address.lower()
        for entry in result.values():
            contact = entry.get("contact") if isinstance(entry, dict) else None
            if isinstance(contact, dict) and str(contact.get("email", "")).lower() == wanted:
                return {k: v for k, v in contact.items() if k != "_metadata"}  # _metadata: API links only
        return None

    def _global_suppression(self, address: str) -> dict[str, Any] | None:
        # The address is a path segment here: encode everything but "@" ("+" and "/" are legal in addresses).
        response = (
            self._sendgrid.client.asm.suppressions._("global")._(quote(address, safe="@")).get(timeout=self._timeout)
        )
        body = _json(response)
        return body or None  # SendGrid answers an address that is not suppressed with {}

    def _unsubscribes(self, address: str) -> list[dict[str, Any]]:
        # The email filter matches prefixes (and % is a wildcard): keep exact matches only.
        wanted = address.lower()
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            response = self._sendgrid.client.suppression.unsubscribes.get(
                query_params={"email": address, "limit": UNSUBSCRIBES_PAGE, "offset": offset}, timeout=self._timeout
            )
            page = _json_list(response)
            rows.extend(row for row in page if str(row.get("email", "")).lower() == wanted)
            if len(page) < UNSUBSCRIBES_PAGE:
                return rows
            offset += len(page)


def _not_sent(status: int) -> MailRejected | MailUnavailable:
    """SendGrid's answer as the domain sees it: refused for good, or worth trying again later."""
    if status in (401, 403):
        # The API key is wrong or lacks mail.send: ops must fix it; the mail itself is fine.
        log.error("sendgrid refused the API key status=%d", status)
        return MailUnavailable()
    if status == 429 or status >= 500:
        return MailUnavailable()
    log.warning("sendgrid refused a mail status=%d", status)
    return MailRejected()


def _json(response: Any) -> dict[str, Any]:
    body = response.to_dict
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise SendGridError(f"SendGrid answered HTTP {response.status_code} with an unexpected body")
    return body


def _json_list(response: Any) -> list[dict[str, Any]]:
    body = response.to_dict
    if body is None:
        return []
    if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
        raise SendGridError(f"SendGrid answered HTTP {response.status_code} with an unexpected body")
    return body


class SendGridBulkMailer:
    """Mail to many people through the v3 mail send API: one request per batch, one personalization
    per recipient. Transactional mail (breach, transfer, disclosure notices) is sent in no unsubscribe
    group, so group unsubscribes never hold it back, and bypasses the global unsubscribe list, while
    bounces and spam reports still apply (SendGrid's ``bypass_unsubscribe_management``). Marketing
    mail goes in its unsubscribe group with one-click unsubscribe headers."""

    def __init__(self, api_key: str, host: str, from_address: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._sendgrid = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self._from = from_address
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> SendGridBulkMailer:
        api_key, host = _credentials(settings)
        return cls(api_key, host, settings.get(MAIL_FROM))

    def send_batch(self, mail: BulkMail) -> str:
        body: dict[str, Any] = {
            "personalizations": [_personalization(recipient) for recipient in mail.recipients],
            "from": {"email": self._from},
            "subject": mail.subject,
            "content": [{"type": "text/plain", "value": mail.text}, {"type": "text/html", "value": mail.html}],
            "categories": [mail.category],
            "custom_args": dict(mail.custom_args),
            "tracking_settings": {
                "click_tracking": {"enable": False, "enable_text": False},
                "open_tracking": {"enable": False},
                "ganalytics": {"enable": False},
            },
        }
        if mail.transactional:  # owed to the person: unsubscribe groups never hold it back
            body["mail_settings"] = {"bypass_unsubscribe_management": {"enable": True}}
        elif mail.unsubscribe_group is not None:
            body["asm"] = {"group_id": mail.unsubscribe_group}
        try:
            response = self._sendgrid.client.mail.send.post(request_body=body, timeout=self._timeout)
        except HTTPError as exc:
            raise _bulk_failure(exc) from None  # its body may quote addresses: not chained
        except (URLError, TimeoutError, OSError):
            raise MailUnavailable() from None
        message_id = response.headers.get("X-Message-Id")
        if not message_id:
            raise SendGridError(f"SendGrid accepted the batch (HTTP {response.status_code}) without a message id")
        return str(message_id)


def _personalization(recipient: BulkRecipient) -> dict[str, Any]:
    personalization: dict[str, Any] = {"to": [{"email": recipient.email}]}
    if recipient.unsubscribe_url:  # RFC 8058 one-click: a POST to this URL unsubscribes, no login
        personalization["headers"] = {
            "List-Unsubscribe": f"<{recipient.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return personalization


def _bulk_failure(exc: HTTPError) -> BulkRejected | BulkThrottled | MailUnavailable:
    status = int(exc.status_code)
    if status == 429:
        return BulkThrottled(_retry_after(exc.headers))
    if status >= 500 or status in (401, 403):
        if status in (401, 403):
            log.error("sendgrid refused the API key status=%d", status)
        return MailUnavailable()
    return BulkRejected(status, _error_messages(exc.body))


def _retry_after(headers: Any) -> int:
    """Seconds to wait: ``Retry-After``, else until ``X-RateLimit-Reset`` (Unix seconds), else a minute."""
    values = {str(k).lower(): str(v) for k, v in (headers.items() if hasattr(headers, "items") else [])}
    if values.get("retry-after", "").isdigit():
        return max(1, int(values["retry-after"]))
    if values.get("x-ratelimit-reset", "").isdigit():
        return max(1, int(values["x-ratelimit-reset"]) - int(time.time()))
    return 60


def _error_messages(body: Any) -> str:
    """SendGrid's error messages and fields, without any word that could be an address."""
    try:
        errors = json.loads(body).get("errors", [])
    except (ValueError, TypeError, AttributeError):
        return "unreadable error body"
    parts = []
    for error in errors[:5] if isinstance(errors, list) else []:
        if isinstance(error, dict):
            text = f"{error.get('field') or ''}: {error.get('message') or ''}"
            parts.append(" ".join(word for word in text.split() if "@" not in word))
    return "; ".join(parts)[:500] or "no error message"


class SendGridEventSignatures:
    """Checks the ECDSA (P-256, SHA-256) signature SendGrid puts on each Event Webhook request, with
    the verification key from its Mail Settings (base64 DER)."""

    def __init__(self, public_key_base64: str) -> None:
        self._key: ec.EllipticCurvePublicKey | None = None
        if public_key_base64.strip():
            key = serialization.load_der_public_key(base64.b64decode(public_key_base64))
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise SettingsError("app setting SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY must be an ECDSA public key")
            self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> SendGridEventSignatures:
        try:
            return cls(settings.get("SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY"))
        except (ValueError, binascii.Error):
            raise SettingsError("app setting SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY must be base64 DER") from None

    def valid(self, body: bytes, signature: str, timestamp: str) -> bool:
        if self._key is None:  # no key configured: nothing can be trusted
            return False
        try:
            self._key.verify(
                base64.b64decode(signature, validate=True), timestamp.encode() + body, ec.ECDSA(hashes.SHA256())
            )
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True


class SendGridSuppressionGroups:
    """The marketing unsubscribe group (ASM): marketing mail sent with it skips its addresses."""

    def __init__(self, api_key: str, host: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._sendgrid = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> SendGridSuppressionGroups:
        api_key, host = _credentials(settings)
        return cls(api_key, host)

    def add(self, group_id: int, emails: list[str]) -> None:
        if not emails:
            return
        self._call(
            lambda: self._sendgrid.client.asm.groups._(str(group_id)).suppressions.post(
                request_body={"recipient_emails": emails}, timeout=self._timeout
            )
        )

    def remove(self, group_id: int, email: str) -> None:
        self._call(
            lambda: (
                self._sendgrid.client.asm.groups._(str(group_id))
                .suppressions._(quote(email, safe="@"))
                .delete(timeout=self._timeout)
            ),
            missing_is_done=True,  # not in the group: nothing to take out
        )

    def _call(self, request: Any, missing_is_done: bool = False) -> None:
        try:
            request()
        except NotFoundError:
            if not missing_is_done:
                raise MailUnavailable() from None  # the group is gone: ops must fix the setting
        except HTTPError as exc:
            raise _not_sent(int(getattr(exc, "status_code", 0) or 0)) from None  # its body may quote addresses
        except (URLError, TimeoutError, OSError):
            raise MailUnavailable() from None
