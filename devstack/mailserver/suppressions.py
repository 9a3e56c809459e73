"""Unsubscribe groups, their suppressions, global unsubscribes and spam reports, in memory.

Shapes follow ``tsg_suppressions_v3.json`` (``tests/devstack/test_suppressions_contract.py`` holds
the endpoints to it). Group ids are 1, 2, 3, … in order of creation, and state lives for the life of
the process: a stack that makes its groups at start knows their ids before the server runs.

Which recipients of a mail SendGrid drops, and why, is decided here (``SuppressionState.drops``):
a spam report drops every mail unless it bypasses the spam report list; a global unsubscribe every
mail unless it bypasses the unsubscribe list; a group suppression the mails sent in that group.
``bypass_list_management`` bypasses them all; ``bypass_unsubscribe_management`` bypasses only the
global list, as the contract says ("will not bypass group unsubscribes").
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from devstack.mailserver.api import field_errors, read_json, sendgrid_error
from devstack.mailserver.validation import FieldError, is_valid_email, setting_enabled

log = logging.getLogger("devstack.mailserver")

# SendGrid's reasons on a dropped event.
UNSUBSCRIBED_ADDRESS = "Unsubscribed Address"
SPAM_REPORTING_ADDRESS = "Spam Reporting Address"

MAX_GROUPS = 200  # SendGrid's limit per account
MAX_GROUP_NAME = 30
MAX_GROUP_DESCRIPTION = 100
MAX_ROWS_PAGE = 500
SPAM_REPORT_IP = "127.0.0.1"  # the list records where the reported mail was sent from: here, this machine


@dataclass
class SuppressionList:
    """Addresses compared case-insensitively, each kept as first given with the Unix time it was added.

    Adding an address twice or removing one that is not there changes nothing.
    """

    _entries: dict[str, tuple[str, int]] = field(default_factory=dict)

    def add(self, email: str, now: int | None = None) -> None:
        self._entries.setdefault(email.lower(), (email, int(time.time()) if now is None else now))

    def remove(self, email: str) -> None:
        self._entries.pop(email.lower(), None)

    def get(self, email: str) -> tuple[str, int] | None:
        return self._entries.get(email.lower())

    def __contains__(self, email: object) -> bool:
        return isinstance(email, str) and email.lower() in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def rows(self) -> list[tuple[str, int]]:
        """``(address, created)`` in the order they were added."""
        return list(self._entries.values())


@dataclass
class Group:
    id: int
    name: str
    description: str
    is_default: bool
    members: SuppressionList = field(default_factory=SuppressionList)

    def created_view(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description, "is_default": self.is_default}

    def view(self) -> dict[str, Any]:
        return {**self.created_view(), "unsubscribes": len(self.members)}


@dataclass
class SuppressionState:
    global_unsubscribes: SuppressionList = field(default_factory=SuppressionList)
    spam_reports: SuppressionList = field(default_factory=SuppressionList)
    groups: dict[int, Group] = field(default_factory=dict)

    def create_group(self, name: str, description: str, is_default: bool) -> Group:
        if is_default:
            for other in self.groups.values():
                other.is_default = False  # an account has one default group
        group = Group(max(self.groups, default=0) + 1, name, description, is_default)
        self.groups[group.id] = group
        return group

    def drops(self, addresses: list[str], mail_settings: dict[str, Any], group_id: int | None) -> dict[str, str]:
        """The recipients SendGrid accepts a send for but drops, each with its reason."""
        if setting_enabled(mail_settings, "bypass_list_management"):
            return {}
        checks: list[tuple[SuppressionList, str]] = []
        if not setting_enabled(mail_settings, "bypass_spam_management"):
            checks.append((self.spam_reports, SPAM_REPORTING_ADDRESS))
        if not setting_enabled(mail_settings, "bypass_unsubscribe_management"):
            checks.append((self.global_unsubscribes, UNSUBSCRIBED_ADDRESS))
        if group_id is not None and group_id in self.groups:
            checks.append((self.groups[group_id].members, UNSUBSCRIBED_ADDRESS))
        drops: dict[str, str] = {}
        for address in addresses:
            reason = next((reason for listed, reason in checks if address in listed), None)
            if reason is not None:
                drops[address] = reason
        return drops


SUPPRESSIONS_KEY = web.AppKey("suppressions", SuppressionState)


def group_id_of(raw: str) -> int | None:
    """A path's group id as a number, or None when it cannot be one."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _group_not_found() -> web.Response:
    return sendgrid_error(404, "Unsubscribe group not found.", "group_id")


def _group_or_none(request: web.Request) -> Group | None:
    group_id = group_id_of(request.match_info["group_id"])
    return request.app[SUPPRESSIONS_KEY].groups.get(group_id) if group_id is not None else None


async def _recipient_emails(request: web.Request) -> tuple[list[str], web.Response | None]:
    """The ``recipient_emails`` of a SuppressionsRequest body, or a 400 (415, 413) answer."""
    body, error = await read_json(request)
    if error is not None:
        return [], error
    if not isinstance(body, dict):
        return [], sendgrid_error(400, "The request body must be a JSON object.")
    emails = body.get("recipient_emails")
    if not isinstance(emails, list) or not emails:
        return [], sendgrid_error(400, "The recipient_emails array is required.", "recipient_emails")
    errors = [
        FieldError("Does not contain a valid address.", f"recipient_emails.{index}")
        for index, email in enumerate(emails)
        if not is_valid_email(email)
    ]
    return emails, field_errors(400, errors) if errors else None


# -- unsubscribe groups ----------------------------------------------------------------------


def _group_fields(body: object, state: SuppressionState) -> list[FieldError]:
    if not isinstance(body, dict):
        return [FieldError("The request body must be a JSON object.", None)]
    errors: list[FieldError] = []
    for name, limit in (("name", MAX_GROUP_NAME), ("description", MAX_GROUP_DESCRIPTION)):
        value = body.get(name)
        if not isinstance(value, str) or not value:
            errors.append(FieldError(f"The {name} is required and must be a string.", name))
        elif len(value) > limit:
            errors.append(FieldError(f"The {name} may be at most {limit} characters.", name))
    if "is_default" in body and not isinstance(body["is_default"], bool):
        errors.append(FieldError("The is_default property must be a boolean.", "is_default"))
    if not errors and any(g.name == body["name"] for g in state.groups.values()):
        errors.append(FieldError("Each unsubscribe group must have a unique name.", "name"))
    if not errors and len(state.groups) >= MAX_GROUPS:
        errors.append(FieldError(f"An account may have at most {MAX_GROUPS} unsubscribe groups.", None))
    return errors


async def create_group(request: web.Request) -> web.Response:
    body, error = await read_json(request)
    if error is not None:
        return error
    state = request.app[SUPPRESSIONS_KEY]
    errors = _group_fields(body, state)
    if errors:
        return field_errors(400, errors)
    group = state.create_group(body["name"], body["description"], body.get("is_default") is True)
    log.info("created unsubscribe group %d", group.id)
    return web.json_response(group.created_view(), status=201)


async def list_groups(request: web.Request) -> web.Response:
    state = request.app[SUPPRESSIONS_KEY]
    wanted: set[int] = set()
    for raw in request.query.getall("id", []):
        group_id = group_id_of(raw)
        if group_id is None:
            return sendgrid_error(400, "Each id must be an integer.", "id")
        wanted.add(group_id)
    groups = [g for g in state.groups.values() if not wanted or g.id in wanted]
    return web.json_response([g.view() for g in groups])


async def get_group(request: web.Request) -> web.Response:
    group = _group_or_none(request)
    return web.json_response(group.view()) if group is not None else _group_not_found()


async def add_group_suppressions(request: web.Request) -> web.Response:
    group_id = group_id_of(request.match_info["group_id"])
    if group_id is None:
        return _group_not_found()
    emails, error = await _recipient_emails(request)
    if error is not None:
        return error
    state = request.app[SUPPRESSIONS_KEY]
    group = state.groups.get(group_id)
    # The contract: suppressions for a group that does not exist are added to the global list.
    target = group.members if group is not None else state.global_unsubscribes
    now = int(time.time())
    for email in emails:
        target.add(email, now)
    if group is not None:
        log.info("added %d suppression(s) to unsubscribe group %d", len(emails), group.id)
    else:
        log.info("added %d suppression(s) for a group that does not exist: to the global list", len(emails))
    return web.json_response({"recipient_emails": emails}, status=201)


async def list_group_suppressions(request: web.Request) -> web.Response:
    group = _group_or_none(request)
    if group is None:
        return _group_not_found()
    return web.json_response([email for email, _ in group.members.rows()])


async def delete_group_suppression(request: web.Request) -> web.Response:
    group = _group_or_none(request)
    if group is None:
        return _group_not_found()
    group.members.remove(request.match_info["email"])
    return web.Response(status=204)


async def search_group_suppressions(request: web.Request) -> web.Response:
    group = _group_or_none(request)
    if group is None:
        return _group_not_found()
    emails, error = await _recipient_emails(request)
    if error is not None:
        return error
    found = [entry[0] for entry in (group.members.get(email) for email in emails) if entry is not None]
    return web.json_response(list(dict.fromkeys(found)))


async def groups_of_address(request: web.Request) -> web.Response:
    email = request.match_info["email"]
    groups = request.app[SUPPRESSIONS_KEY].groups.values()
    # Every group, each saying whether the address is suppressed in it (the contract's example).
    return web.json_response(
        {
            "suppressions": [
                {
                    "description": g.description,
                    "id": g.id,
                    "is_default": g.is_default,
                    "name": g.name,
                    "suppressed": email in g.members,
                }
                for g in groups
            ]
        }
    )


# -- global unsubscribes and spam reports ----------------------------------------------------


async def add_global_suppressions(request: web.Request) -> web.Response:
    emails, error = await _recipient_emails(request)
    if error is not None:
        return error
    state = request.app[SUPPRESSIONS_KEY]
    now = int(time.time())
    for email in emails:
        state.global_unsubscribes.add(email, now)
    log.info("added %d global suppression(s)", len(emails))
    return web.json_response({"recipient_emails": emails}, status=201)


async def get_global_suppression(request: web.Request) -> web.Response:
    entry = request.app[SUPPRESSIONS_KEY].global_unsubscribes.get(request.match_info["email"])
    # SendGrid answers an address that is not suppressed with an empty object, not a 404.
    return web.json_response({"recipient_email": entry[0]} if entry else {})


async def delete_global_suppression(request: web.Request) -> web.Response:
    request.app[SUPPRESSIONS_KEY].global_unsubscribes.remove(request.match_info["email"])
    return web.Response(status=204)


class _BadParam(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _int_param(request: web.Request, name: str, minimum: int, maximum: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _BadParam(name) from None
    if value < minimum or (maximum is not None and value > maximum):
        raise _BadParam(name)
    return value


def _listed(request: web.Request, listed: SuppressionList, extra: dict[str, Any]) -> web.Response:
    """A list endpoint's rows ``{"created", "email", **extra}``, filtered and paged by the query."""
    try:
        start = _int_param(request, "start_time", 0, None)
        end = _int_param(request, "end_time", 0, None)
        limit = _int_param(request, "limit", 1, MAX_ROWS_PAGE)
        offset = _int_param(request, "offset", 0, None) or 0
    except _BadParam as exc:
        return sendgrid_error(400, "The query parameter must be a non-negative integer in range.", exc.name)
    wanted = request.query.get("email")
    rows = [
        {"created": created, "email": email, **extra}
        for email, created in listed.rows()
        if (wanted is None or email.lower() == wanted.lower())
        and (start is None or created >= start)
        and (end is None or created <= end)
    ]
    rows = rows[offset:]
    if limit is not None:
        rows = rows[:limit]
    return web.json_response(rows)


async def list_unsubscribes(request: web.Request) -> web.Response:
    return _listed(request, request.app[SUPPRESSIONS_KEY].global_unsubscribes, {})


async def list_spam_reports(request: web.Request) -> web.Response:
    return _listed(request, request.app[SUPPRESSIONS_KEY].spam_reports, {"ip": SPAM_REPORT_IP})


async def get_spam_report(request: web.Request) -> web.Response:
    entry = request.app[SUPPRESSIONS_KEY].spam_reports.get(request.match_info["email"])
    # An array, empty when the address never reported spam.
    return web.json_response([{"created": entry[1], "email": entry[0], "ip": SPAM_REPORT_IP}] if entry else [])


async def delete_spam_report(request: web.Request) -> web.Response:
    request.app[SUPPRESSIONS_KEY].spam_reports.remove(request.match_info["email"])
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app[SUPPRESSIONS_KEY] = SuppressionState()
    app.router.add_post("/v3/asm/groups", create_group)
    app.router.add_get("/v3/asm/groups", list_groups)
    app.router.add_get("/v3/asm/groups/{group_id}", get_group)
    app.router.add_post("/v3/asm/groups/{group_id}/suppressions", add_group_suppressions)
    app.router.add_get("/v3/asm/groups/{group_id}/suppressions", list_group_suppressions)
    app.router.add_post("/v3/asm/groups/{group_id}/suppressions/search", search_group_suppressions)
    app.router.add_delete("/v3/asm/groups/{group_id}/suppressions/{email}", delete_group_suppression)
    app.router.add_post("/v3/asm/suppressions/global", add_global_suppressions)
    app.router.add_get("/v3/asm/suppressions/global/{email}", get_global_suppression)
    app.router.add_delete("/v3/asm/suppressions/global/{email}", delete_global_suppression)
    app.router.add_get("/v3/asm/suppressions/{email}", groups_of_address)
    app.router.add_get("/v3/suppression/unsubscribes", list_unsubscribes)
    app.router.add_get("/v3/suppression/spam_reports", list_spam_reports)
    app.router.add_get("/v3/suppression/spam_reports/{email}", get_spam_report)
    app.router.add_delete("/v3/suppression/spam_reports/{email}", delete_spam_report)
