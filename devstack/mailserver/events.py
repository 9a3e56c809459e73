"""The signed Event Webhook: what SendGrid would report about each accepted mail, posted as SendGrid posts it.

For every to, cc and bcc recipient of every personalization, in order: ``processed``, then
``dropped`` for an address SendGrid would drop (with its reason, decided when the mail was accepted:
see ``suppressions.SuppressionState.drops``), else ``bounce`` for an address at the reserved test
domain ``bounces.example.com``, else ``delivered``. Each event carries the mail's categories, its
unsubscribe group and its custom_args (a personalization's override the mail's) at the top level,
as SendGrid's do. What a recipient does afterwards (``engagement_event``: unsubscribing, reporting
spam) is posted the same way, one batch per action.

One JSON array per accepted mail is posted to the configured URL once the send has been answered,
signed like SendGrid's Signed Event Webhook: ECDSA P-256 with SHA-256 over the timestamp header's
value followed by the raw body, base64 DER in ``X-Twilio-Email-Event-Webhook-Signature``. A non-2xx
answer, or none, is retried ``MAX_ATTEMPTS - 1`` times with doubling delays, then given up (SendGrid
keeps trying for 24 hours). Logs carry batch ids, mail ids, counts and statuses, never an address,
a body, a header value or the URL.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from yarl import URL

from devstack.devkeys import event_webhook_public_key
from devstack.mailserver.api import read_json, sendgrid_error
from devstack.mailserver.store import StoredMail
from devstack.mailserver.validation import iter_personalization_recipients

log = logging.getLogger("devstack.mailserver")

BOUNCE_TEST_DOMAIN = "bounces.example.com"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
USER_AGENT = "SendGrid Event API"

MAX_ATTEMPTS = 5  # the first post and four retries
DEFAULT_RETRY_SECONDS = 1.0  # first retry after this, then doubling: 1, 2, 4, 8 s
POST_TIMEOUT_SECONDS = 10.0
KEPT_BATCHES = 1000  # /_events remembers this many, oldest forgotten first

BOUNCE_FIELDS = {
    "type": "bounce",
    "status": "5.1.1",
    "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
    "bounce_classification": "Invalid Address",
}
DROPPED_STATUS = "5.0.0"
DELIVERED_FIELDS = {"response": "250 OK"}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_bounce_test_address(address: str) -> bool:
    return address.rpartition("@")[2].lower() == BOUNCE_TEST_DOMAIN


@dataclass(frozen=True)
class _Recipient:
    address: str
    message_id: str  # sg_message_id
    custom_args: dict[str, Any]  # the mail's, overridden by the recipient's personalization's


def _recipients(mail: StoredMail) -> Iterator[_Recipient]:
    message_args = mail.request.get("custom_args")
    message_args = message_args if isinstance(message_args, dict) else {}
    for number, (personalization, _, address) in enumerate(iter_personalization_recipients(mail.request)):
        custom_args = {**message_args, **(personalization.get("custom_args") or {})}
        # SendGrid's sg_message_id is the send's X-Message-Id, a dot, then a per-recipient suffix.
        yield _Recipient(address, f"{mail.id}.filterdrecv-local-{number}.0", custom_args)


def _event(mail: StoredMail, recipient: _Recipient, timestamp: int, fields: dict[str, Any]) -> dict[str, Any]:
    """One event about one recipient of a mail, with the mail's categories, group and custom args."""
    request = mail.request
    shared: dict[str, Any] = {}
    if request.get("categories"):
        # Sent as an array, so SendGrid reports an array (a single category sent as a string stays a string).
        shared["category"] = list(request["categories"])
    group_id = mail.group_id()
    if group_id is not None:
        shared["asm_group_id"] = group_id
    event: dict[str, Any] = {
        "email": recipient.address,
        "timestamp": timestamp,
        "smtp-id": f"<{mail.id}@ismtpd-local>",
        **shared,
        "sg_event_id": secrets.token_urlsafe(16),
        "sg_message_id": recipient.message_id,
        **fields,
    }
    for name, value in recipient.custom_args.items():
        event.setdefault(name, value)  # a custom arg named like an event field never replaces it
    return event


def build_events(mail: StoredMail, timestamp: int) -> list[dict[str, Any]]:
    """The events SendGrid would post for an accepted mail, two per recipient."""
    drops = {address.lower(): reason for address, reason in mail.drops.items()}
    events: list[dict[str, Any]] = []
    for recipient in _recipients(mail):
        reason = drops.get(recipient.address.lower())
        # A suppressed address is dropped before any delivery is tried, so before it could bounce.
        if reason is not None:
            outcome: dict[str, Any] = {"event": "dropped", "reason": reason, "status": DROPPED_STATUS}
        elif _is_bounce_test_address(recipient.address):
            outcome = {"event": "bounce", **BOUNCE_FIELDS}
        else:
            outcome = {"event": "delivered", **DELIVERED_FIELDS}
        events.extend(_event(mail, recipient, timestamp, fields) for fields in ({"event": "processed"}, outcome))
    return events


def engagement_event(mail: StoredMail | None, address: str, timestamp: int, fields: dict[str, Any]) -> dict[str, Any]:
    """An event of something a recipient did (``unsubscribe``, ``group_unsubscribe``, ``spamreport``).

    About a mail they received, it names that mail and carries its categories and custom args at the
    top level, as SendGrid's do; without one, only the address and the event.
    """
    wanted = address.lower()
    recipient = next((r for r in _recipients(mail) if r.address.lower() == wanted), None) if mail else None
    if mail is not None and recipient is not None:
        return _event(mail, recipient, timestamp, fields)
    return {"email": address, "timestamp": timestamp, "sg_event_id": secrets.token_urlsafe(16), **fields}


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    """SendGrid's Event Webhook signature: base64 of the DER ECDSA signature over timestamp + body."""
    return base64.b64encode(key.sign(timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))).decode("ascii")


@dataclass(frozen=True)
class Attempt:
    at: str
    status: int | None  # None: no HTTP answer (refused, reset, timed out)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "status": self.status}


@dataclass
class Batch:
    """One POST's worth of events, and how its delivery went."""

    id: str
    mail_id: str | None  # None: events of no mail (a person's action outside any mail)
    created_at: str
    url: str | None
    events: list[dict[str, Any]]
    # pending (being posted or waiting for a retry), delivered (a 2xx), failed (gave up), off (not posted)
    state: str
    attempts: list[Attempt] = field(default_factory=list)
    last_headers: dict[str, str] | None = None

    def body(self) -> bytes:
        # Serialized when posted rather than kept: the same events give the same bytes every time.
        return json.dumps(self.events, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mail_id": self.mail_id,
            "created_at": self.created_at,
            "url": self.url,
            "state": self.state,
            "attempts": [a.to_json() for a in self.attempts],
            "events": self.events,
        }


@dataclass
class EventSettings:
    """Where events go and how they are signed; ``url`` None or ``enabled`` False posts nothing."""

    url: str | None = None
    enabled: bool = True
    # None: a key made at start-up, readable at GET /_events/webhook (the stack passes its own).
    signing_key: ec.EllipticCurvePrivateKey | None = None
    retry_seconds: float = DEFAULT_RETRY_SECONDS


class EventWebhook:
    """Builds, signs, posts and remembers event batches."""

    def __init__(self, settings: EventSettings) -> None:
        self.url = settings.url
        self.enabled = settings.enabled
        self.retry_seconds = settings.retry_seconds
        self._key = settings.signing_key or ec.generate_private_key(ec.SECP256R1())
        self.public_key = event_webhook_public_key(self._key)
        self._batches: deque[Batch] = deque(maxlen=KEPT_BATCHES)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    @property
    def posting(self) -> bool:
        return self.enabled and self.url is not None

    def batches(self, mail_id: str | None = None) -> list[Batch]:
        return [b for b in self._batches if mail_id is None or b.mail_id == mail_id]

    def clear(self) -> int:
        count = len(self._batches)
        self._batches.clear()
        return count

    def submit(self, mail: StoredMail) -> Batch:
        """Record the mail's events and, when posting, start delivering them in the background."""
        return self.submit_events(mail.id, build_events(mail, int(time.time())))

    def submit_events(self, mail_id: str | None, events: list[dict[str, Any]]) -> Batch:
        """Record a batch of events (about the mail ``mail_id``) and, when posting, start delivering it."""
        batch = Batch(
            id=secrets.token_urlsafe(9),
            mail_id=mail_id,
            created_at=_now_iso(),
            url=self.url if self.posting else None,
            events=events,
            state="pending" if self.posting else "off",
        )
        self._batches.append(batch)
        if batch.url is not None:
            task = asyncio.get_running_loop().create_task(self._deliver(batch, batch.url))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return batch

    def _signed_headers(self) -> dict[str, str]:
        # Signed at each attempt: a retry carries a fresh timestamp, so a receiver's age check still passes.
        return {"Content-Type": "application/json", "User-Agent": USER_AGENT, TIMESTAMP_HEADER: str(int(time.time()))}

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int | None:
        assert self._session is not None, "the event webhook runs inside the application"
        try:
            async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError, OSError):
            return None

    async def _deliver(self, batch: Batch, url: str) -> None:
        status: int | None = None
        body = batch.body()
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                await asyncio.sleep(self.retry_seconds * 2 ** (attempt - 1))
            headers = self._signed_headers()
            headers[SIGNATURE_HEADER] = sign(self._key, headers[TIMESTAMP_HEADER], body)
            status = await self._post(url, body, headers)
            batch.attempts.append(Attempt(at=_now_iso(), status=status))
            batch.last_headers = headers
            if status is not None and 200 <= status < 300:
                batch.state = "delivered"
                log.info(
                    "event batch %s (mail %s): %d event(s) delivered, attempt %d, HTTP %d",
                    batch.id,
                    batch.mail_id or "none",
                    len(batch.events),
                    attempt + 1,
                    status,
                )
                return
            log.info("event batch %s: attempt %d failed (%s)", batch.id, attempt + 1, _describe(status))
        batch.state = "failed"
        log.warning(
            "event batch %s (mail %s): gave up on %d event(s) after %d attempts (last: %s)",
            batch.id,
            batch.mail_id or "none",
            len(batch.events),
            MAX_ATTEMPTS,
            _describe(status),
        )

    async def replay(self) -> tuple[Batch, int | None] | None:
        """Post the most recently posted batch again, byte for byte with its last headers, as a replay would."""
        for batch in reversed(self._batches):
            if batch.url is not None and batch.last_headers is not None:
                status = await self._post(batch.url, batch.body(), batch.last_headers)
                log.info("event batch %s replayed (%s)", batch.id, _describe(status))
                return batch, status
        return None

    async def lifetime(self, app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: one client session for all posts; pending deliveries stop with the server."""
        timeout = aiohttp.ClientTimeout(total=POST_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
            self._session = session
            yield
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._session = None


def _describe(status: int | None) -> str:
    return "no answer" if status is None else f"HTTP {status}"


EVENTS_KEY = web.AppKey("events", EventWebhook)


async def list_events(request: web.Request) -> web.Response:
    batches = request.app[EVENTS_KEY].batches(request.query.get("mail_id"))
    return web.json_response([b.summary() for b in batches])


async def clear_events(request: web.Request) -> web.Response:
    removed = request.app[EVENTS_KEY].clear()
    log.info("cleared %d event batch(es)", removed)
    return web.json_response({"deleted": removed})


def _webhook_view(webhook: EventWebhook) -> dict[str, Any]:
    return {"url": webhook.url, "enabled": webhook.enabled, "public_key": webhook.public_key}


async def get_webhook(request: web.Request) -> web.Response:
    return web.json_response(_webhook_view(request.app[EVENTS_KEY]))


def is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.absolute and url.scheme in ("http", "https") and bool(url.host)


async def put_webhook(request: web.Request) -> web.Response:
    body, error = await read_json(request, limit=64 * 1024)
    if error is not None:
        return error
    if not isinstance(body, dict) or not set(body) <= {"url", "enabled"}:
        return sendgrid_error(400, "The body must be an object with url and/or enabled.")
    if "url" in body and body["url"] is not None and not is_http_url(body["url"]):
        return sendgrid_error(400, "The url must be an absolute http or https URL, or null.", "url")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        return sendgrid_error(400, "The enabled property must be a boolean.", "enabled")
    webhook = request.app[EVENTS_KEY]
    if "url" in body:
        webhook.url = body["url"]
    if "enabled" in body:
        webhook.enabled = body["enabled"]
    log.info("event webhook %s", "posting" if webhook.posting else "not posting")
    return web.json_response(_webhook_view(webhook))


async def replay_events(request: web.Request) -> web.Response:
    replayed = await request.app[EVENTS_KEY].replay()
    if replayed is None:
        return sendgrid_error(404, "No event batch has been posted yet.")
    batch, status = replayed
    return web.json_response({"batch_id": batch.id, "status": status})


def add_routes(app: web.Application, settings: EventSettings) -> None:
    webhook = EventWebhook(settings)
    app[EVENTS_KEY] = webhook
    app.cleanup_ctx.append(webhook.lifetime)
    app.router.add_get("/_events", list_events)
    app.router.add_delete("/_events", clear_events)
    app.router.add_get("/_events/webhook", get_webhook)
    app.router.add_put("/_events/webhook", put_webhook)
    app.router.add_post("/_events/replay", replay_events)
