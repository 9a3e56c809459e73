"""The aiohttp application: SendGrid Mail Send, the Event Webhook, the test API and the browser outbox."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from devstack.mailserver import events, marketing, pages, people, suppressions
from devstack.mailserver.api import (
    CONFIG_KEY,
    MAX_MESSAGE_BYTES,
    ServerConfig,
    check_auth,
    field_errors,
    read_json,
    sendgrid_error,
)
from devstack.mailserver.store import STORE_KEY, MailStore, StoredMail
from devstack.mailserver.validation import (
    FieldError,
    asm_group_id,
    iter_recipients,
    setting_enabled,
    validate_mail_send,
)

log = logging.getLogger("devstack.mailserver")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _is_api_path(path: str) -> bool:
    return path.startswith(("/v3/", "/_mails", "/_events", "/_people", "/_marketing", "/_health"))


@web.middleware
async def sendgrid_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate ``/v3`` calls and give API errors SendGrid's JSON error shape."""
    if request.path.startswith("/v3/"):
        denied = check_auth(request)
        if denied is not None:
            return denied
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not _is_api_path(request.path):
            raise
        message = {404: "not found", 405: "method not allowed"}.get(exc.status, exc.reason.lower())
        return sendgrid_error(exc.status, message)
    except Exception as exc:
        # Only the exception type: its message might quote request data.
        log.error("unhandled %s in %s %s", type(exc).__name__, request.method, _route_of(request))
        return web.json_response({"errors": [{"message": "internal server error"}]}, status=500)


def _route_of(request: BaseRequest) -> str:
    """The matched route template (``/v3/asm/suppressions/global/{email}``), never the raw path,
    which may carry an address."""
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None)
    canonical = getattr(resource, "canonical", None)
    return canonical if isinstance(canonical, str) else "<unmatched>"


class RouteAccessLogger(AbstractAccessLogger):
    """Access log without query strings or path parameters (``?to=`` holds addresses)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %d %.1fms", request.method, _route_of(request), response.status, time * 1000)


def _new_message_id() -> str:
    # Same alphabet and length as SendGrid's X-Message-Id values (22 URL-safe characters).
    return secrets.token_urlsafe(16)


async def mail_send(request: web.Request) -> web.StreamResponse:
    body, error = await read_json(request, MAX_MESSAGE_BYTES)
    if error is not None:
        log.info("mail send rejected: %d", error.status)
        return error
    errors = validate_mail_send(body)
    if errors:
        # Field paths are structural (personalizations.0.to.1.email), never submitted values.
        log.info("mail send rejected: 400 (%s)", ", ".join(sorted({str(e.field) for e in errors})))
        return field_errors(400, errors)
    assert isinstance(body, dict)
    mail_settings = body.get("mail_settings")
    mail_settings = mail_settings if isinstance(mail_settings, dict) else {}
    state = request.app[suppressions.SUPPRESSIONS_KEY]
    group_id = asm_group_id(body)
    if group_id is not None and group_id not in state.groups:
        log.info("mail send rejected: 400 (asm.group_id)")
        return field_errors(
            400, [FieldError("The asm.group_id must be an existing unsubscribe group.", "asm.group_id")]
        )

    if setting_enabled(mail_settings, "sandbox_mode"):
        # Sandbox mode validates without sending: SendGrid answers 200 with no body.
        log.info("mail send validated in sandbox mode, not stored")
        return web.Response(status=200)

    recipients = [address for _, address in iter_recipients(body)]
    drops = state.drops(recipients, mail_settings, group_id)

    mail = StoredMail(
        id=_new_message_id(),
        received_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        request=body,
        drops=drops,
    )
    store = request.app[STORE_KEY]
    await store.add(mail)
    log.info(
        "accepted mail %s: %d personalization(s), %d recipient(s), %d suppressed; %d stored",
        mail.id,
        len(body["personalizations"]),
        len(recipients),
        len(drops),
        len(store),
    )
    response = web.Response(status=202, headers={"X-Message-Id": mail.id})
    # The answer goes out first: SendGrid reports events only after it has accepted the send.
    await response.prepare(request)
    await response.write_eof()
    request.app[events.EVENTS_KEY].submit(mail)
    return response


async def list_mails(request: web.Request) -> web.Response:
    mails = request.app[STORE_KEY].all()
    wanted = request.query.get("to")
    if wanted is not None:
        wanted = wanted.strip().lower()
        mails = [m for m in mails if any(a.lower() == wanted for a in m.recipients("to"))]
    return web.json_response([m.summary() for m in mails])


async def get_mail(request: web.Request) -> web.Response:
    mail = request.app[STORE_KEY].get(request.match_info["id"])
    if mail is None:
        return sendgrid_error(404, "not found", "id")
    return web.json_response(mail.summary())


async def clear_mails(request: web.Request) -> web.Response:
    removed = await request.app[STORE_KEY].clear()
    log.info("cleared %d mail(s)", removed)
    return web.json_response({"deleted": removed})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def outbox_page(request: web.Request) -> web.Response:
    return pages.html(pages.render_index(request.app[STORE_KEY].all()))


async def mail_page(request: web.Request) -> web.Response:
    mail = request.app[STORE_KEY].get(request.match_info["id"])
    if mail is None:
        return pages.html(pages.render_not_found(), status=404)
    return pages.html(pages.render_mail(mail, done=request.query.get("done")))


def create_app(
    data_dir: Path | None, api_key: str | None = None, event_settings: events.EventSettings | None = None
) -> web.Application:
    """Build the mail server application.

    ``data_dir``: where ``mails.jsonl`` is kept (loaded now, appended on every accepted mail);
    None keeps mails in memory only. ``api_key``: when given, ``/v3`` calls must present exactly
    this bearer token; otherwise any non-empty token is accepted. ``event_settings``: where the
    Event Webhook posts and with which key it signs (default: nowhere yet, a key of its own).
    """
    if api_key is not None and not api_key.strip():
        raise ValueError("api_key must be non-empty when given")
    # Bodies are read by the handlers with their own cap, so the framework limit only has to let
    # a maximal mail through; it is checked again after gzip decoding.
    app = web.Application(middlewares=[sendgrid_middleware], client_max_size=MAX_MESSAGE_BYTES + 1)
    app[CONFIG_KEY] = ServerConfig(api_key=api_key)
    store = MailStore(data_dir)
    loaded = store.load()
    if data_dir is not None:
        log.info("loaded %d stored mail(s)", loaded)
    app[STORE_KEY] = store

    app.router.add_post("/v3/mail/send", mail_send)
    marketing.add_routes(app)
    suppressions.add_routes(app)
    events.add_routes(app, event_settings or events.EventSettings())
    people.add_routes(app)
    app.router.add_get("/_mails", list_mails)
    app.router.add_delete("/_mails", clear_mails)
    app.router.add_get("/_mails/{id}", get_mail)
    app.router.add_get("/_health", health)
    app.router.add_get("/", outbox_page)
    app.router.add_get("/mails/{id}", mail_page)
    return app
