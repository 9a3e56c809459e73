"""What a person does with a mail in their mailbox, simulated for tests and demos.

``POST /_people/unsubscribe`` (JSON) and the form on a mail's outbox page do what SendGrid does
when a recipient uses its unsubscribe link or reports a mail as spam: the address goes into the
group's suppressions (``group``), the global unsubscribe list (``global``) or the spam report list
(``spamreport``, which stops all mail to it, as SendGrid's does), and the matching event
(``group_unsubscribe`` with ``asm_group_id``, ``unsubscribe``, ``spamreport``) is posted, signed,
through the Event Webhook. With the mail that was clicked (``mailId``), the event names it and carries
its categories and custom args at the top level, and ``group`` defaults to the mail's group.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from aiohttp import web

from devstack.mailserver import pages
from devstack.mailserver.api import read_capped, read_json, sendgrid_error
from devstack.mailserver.events import EVENTS_KEY, Batch, engagement_event
from devstack.mailserver.store import STORE_KEY
from devstack.mailserver.suppressions import SUPPRESSIONS_KEY
from devstack.mailserver.validation import is_valid_email, iter_recipients

log = logging.getLogger("devstack.mailserver")

# kind -> the event SendGrid posts for it
EVENTS = {"group": "group_unsubscribe", "global": "unsubscribe", "spamreport": "spamreport"}
BODY_LIMIT = 16 * 1024


@dataclass(frozen=True)
class Action:
    email: str
    kind: str
    group_id: int | None = None
    mail_id: str | None = None


class Refused(Exception):
    def __init__(self, status: int, message: str, field: str | None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def parse_action(body: object) -> Action:
    if not isinstance(body, dict) or not set(body) <= {"email", "kind", "groupId", "mailId"}:
        raise Refused(400, "The body must be an object with email, kind and optionally groupId and mailId.", None)
    email, kind, group_id, mail_id = (body.get(k) for k in ("email", "kind", "groupId", "mailId"))
    if not is_valid_email(email):
        raise Refused(400, "The email is required and must be a valid address.", "email")
    if kind not in EVENTS:
        raise Refused(400, "The kind must be group, global or spamreport.", "kind")
    if group_id is not None and (kind != "group" or not isinstance(group_id, int) or isinstance(group_id, bool)):
        raise Refused(400, "The groupId must be an integer, and only for kind group.", "groupId")
    if mail_id is not None and (not isinstance(mail_id, str) or not mail_id):
        raise Refused(400, "The mailId must be the X-Message-Id of a mail.", "mailId")
    assert isinstance(email, str)
    assert isinstance(kind, str)
    return Action(email, kind, group_id, mail_id)


def perform(app: web.Application, action: Action) -> Batch:
    """Record what the person did and post its event; the batch posted is returned."""
    mail = None
    if action.mail_id is not None:
        mail = app[STORE_KEY].get(action.mail_id)
        if mail is None:
            raise Refused(404, "No mail has that id.", "mailId")
        if action.email.lower() not in {address.lower() for _, address in iter_recipients(mail.request)}:
            raise Refused(400, "The email is not a recipient of that mail.", "email")
    state = app[SUPPRESSIONS_KEY]
    now = int(time.time())
    fields: dict[str, Any] = {"event": EVENTS[action.kind]}
    if action.kind == "group":
        group_id = action.group_id if action.group_id is not None else mail.group_id() if mail else None
        if group_id is None:
            raise Refused(400, "A group unsubscribe needs a groupId, or a mailId of a mail sent in a group.", "groupId")
        group = state.groups.get(group_id)
        if group is None:
            raise Refused(404, "Unsubscribe group not found.", "groupId")
        group.members.add(action.email, now)
        fields["asm_group_id"] = group.id
    elif action.kind == "global":
        state.global_unsubscribes.add(action.email, now)
    else:
        state.spam_reports.add(action.email, now)
    batch = app[EVENTS_KEY].submit_events(
        mail.id if mail else None, [engagement_event(mail, action.email, now, fields)]
    )
    log.info("recorded %s (mail %s); event batch %s", fields["event"], mail.id if mail else "none", batch.id)
    return batch


async def unsubscribe(request: web.Request) -> web.Response:
    body, error = await read_json(request, BODY_LIMIT)
    if error is not None:
        return error
    try:
        batch = perform(request.app, parse_action(body))
    except Refused as refused:
        return sendgrid_error(refused.status, refused.message, refused.field)
    return web.json_response(batch.summary())


def _same_origin(request: web.Request) -> bool:
    """A browser's form post from the outbox itself (another site's page may not act for the person).

    Browsers say where a request comes from in Sec-Fetch-Site. Their Origin is "null" here, the pages
    sending no referrer, so it only counts for clients that do not send Sec-Fetch-Site.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"


async def mail_page_action(request: web.Request) -> web.Response:
    """The outbox page's form: a recipient of this mail unsubscribes or reports it, then the page again."""
    mail_id = request.match_info["id"]
    if not _same_origin(request):
        return pages.html(pages.render_refused("Only the outbox page itself can do this."), 403)
    if request.content_type != "application/x-www-form-urlencoded":
        return pages.html(pages.render_refused("Send the outbox page's form."), 415)
    raw = await read_capped(request, BODY_LIMIT)
    if raw is None:
        return pages.html(pages.render_refused("The form is too large."), 413)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", errors="replace")).items()}
    try:
        batch = perform(
            request.app, parse_action({"email": form.get("email"), "kind": form.get("kind"), "mailId": mail_id})
        )
    except Refused as refused:
        return pages.html(pages.render_refused(refused.message), refused.status)
    done = batch.events[0]["event"]
    raise web.HTTPSeeOther(f"/mails/{quote(mail_id, safe='')}?done={done}")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/_people/unsubscribe", unsubscribe)
    app.router.add_post("/mails/{id}/people", mail_page_action)
