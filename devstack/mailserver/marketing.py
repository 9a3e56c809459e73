"""In-memory Marketing Contacts endpoints.

Shapes follow ``tsg_mc_contacts_v3.json``. SendGrid processes
contact upserts and deletes as asynchronous jobs; here they take effect before the 202 is sent,
which is what most tests want. A test of what callers do while SendGrid still shows a deleted contact
sets a delay (``PUT /_marketing/settings``): deleted contacts are then found, and may be deleted again,
until it has passed. ``GET /_marketing/deletions`` counts the deletion calls that named each contact.
State lives for the life of the process only.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from devstack.mailserver.api import field_errors, read_json, sendgrid_error
from devstack.mailserver.validation import FieldError, is_valid_email

log = logging.getLogger("devstack.mailserver")

MAX_CONTACTS_PER_UPSERT = 30_000
MAX_SEARCH_EMAILS = 100
MAX_ALTERNATE_EMAILS = 5
DEFAULT_CONTACTS_PAGE = 50

# Writable contact fields and their maximum lengths from the contract (None: no limit given).
CONTACT_STRING_FIELDS: dict[str, int | None] = {
    "address_line_1": 100,
    "address_line_2": 100,
    "city": 60,
    "country": 50,
    "first_name": 50,
    "last_name": 50,
    "postal_code": None,
    "state_province_region": 50,
    "phone_number_id": None,
    "external_id": 254,
    "anonymous_id": 254,
}
# Read-only fields every returned contact carries, empty unless set.
CONTACT_DEFAULTS: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "unique_name": "",
    "alternate_emails": [],
    "address_line_1": "",
    "address_line_2": "",
    "city": "",
    "state_province_region": "",
    "country": "",
    "postal_code": "",
    "phone_number": "",
    "whatsapp": "",
    "line": "",
    "facebook": "",
    "list_ids": [],
    "segment_ids": [],
    "custom_fields": {},
}


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class MarketingState:
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> contact
    deletion_delay: float = 0.0  # seconds a deleted contact is still found, as at SendGrid
    deleting: dict[str, float] = field(default_factory=dict)  # id -> when its deletion takes effect
    deletions: Counter[str] = field(default_factory=Counter)  # address -> deletion calls naming its contact

    def settle(self) -> None:
        """Deletions whose time has come take effect."""
        now = time.monotonic()
        for contact_id, due in list(self.deleting.items()):
            if due <= now:
                self.contacts.pop(contact_id, None)
                del self.deleting[contact_id]

    def delete(self, contact_id: str) -> bool:
        contact = self.contacts.get(contact_id)
        if contact is None:
            return False
        self.deletions[contact["email"]] += 1
        self.deleting.setdefault(contact_id, time.monotonic() + self.deletion_delay)
        self.settle()
        return True

    def contact_by_email(self, email: str) -> dict[str, Any] | None:
        self.settle()
        wanted = email.lower()
        for contact in self.contacts.values():
            if contact["email"] == wanted:
                return contact
        return None


MARKETING_KEY = web.AppKey("marketing", MarketingState)


def _validate_contact(item: object, path: str, errors: list[FieldError]) -> None:
    if not isinstance(item, dict):
        errors.append(FieldError("Each contact must be an object.", path))
        return
    if not is_valid_email(item.get("email")):
        errors.append(FieldError("The contact's primary email is required and must be a valid email.", f"{path}.email"))
    for name, max_length in CONTACT_STRING_FIELDS.items():
        if name not in item:
            continue
        value = item[name]
        if not isinstance(value, str):
            errors.append(FieldError(f"The {name} must be a string.", f"{path}.{name}"))
        elif max_length is not None and len(value) > max_length:
            errors.append(FieldError(f"The {name} may be at most {max_length} characters.", f"{path}.{name}"))
    if "alternate_emails" in item:
        alternates = item["alternate_emails"]
        if not isinstance(alternates, list) or len(alternates) > MAX_ALTERNATE_EMAILS:
            errors.append(
                FieldError(
                    f"The alternate_emails must be an array of at most {MAX_ALTERNATE_EMAILS} emails.",
                    f"{path}.alternate_emails",
                )
            )
        else:
            for index, alternate in enumerate(alternates):
                if not is_valid_email(alternate):
                    errors.append(FieldError("Does not contain a valid address.", f"{path}.alternate_emails.{index}"))
    if "custom_fields" in item and not isinstance(item["custom_fields"], dict):
        errors.append(FieldError("The custom_fields must be an object.", f"{path}.custom_fields"))


async def put_contacts(request: web.Request) -> web.Response:
    body, error = await read_json(request)
    if error is not None:
        return error
    errors: list[FieldError] = []
    if not isinstance(body, dict):
        return sendgrid_error(400, "The request body must be a JSON object.")
    list_ids = body.get("list_ids", [])
    if not isinstance(list_ids, list) or not all(isinstance(i, str) for i in list_ids):
        errors.append(FieldError("The list_ids must be an array of strings.", "list_ids"))
    contacts = body.get("contacts")
    if not isinstance(contacts, list) or not 1 <= len(contacts) <= MAX_CONTACTS_PER_UPSERT:
        errors.append(
            FieldError(
                f"The contacts array is required and must hold 1 to {MAX_CONTACTS_PER_UPSERT} contacts.",
                "contacts",
            )
        )
    else:
        for index, item in enumerate(contacts):
            _validate_contact(item, f"contacts.{index}", errors)
    if errors:
        return field_errors(400, errors)
    assert isinstance(contacts, list)

    state = request.app[MARKETING_KEY]
    now = _now_iso()
    for item in contacts:
        existing = state.contact_by_email(item["email"])
        if existing is None:
            existing = {"id": str(uuid.uuid4()), **copy.deepcopy(CONTACT_DEFAULTS), "created_at": now}
            state.contacts[existing["id"]] = existing
        existing["email"] = item["email"].lower()
        for name in CONTACT_STRING_FIELDS:
            if name in item:
                existing[name] = item[name]
        if "alternate_emails" in item:
            existing["alternate_emails"] = [a.lower() for a in item["alternate_emails"]]
        if "custom_fields" in item:
            existing["custom_fields"].update(item["custom_fields"])
        existing["list_ids"] = sorted(set(existing["list_ids"]) | set(list_ids))
        existing["updated_at"] = now
    job_id = str(uuid.uuid4())
    log.info("contacts upsert job %s: %d contact(s)", job_id, len(contacts))
    return web.json_response({"job_id": job_id}, status=202)


def _contact_view(request: web.Request, contact: dict[str, Any]) -> dict[str, Any]:
    return {
        **contact,
        "_metadata": {"self": f"{request.scheme}://{request.host}/v3/marketing/contacts/{contact['id']}"},
    }


async def get_contacts(request: web.Request) -> web.Response:
    state = request.app[MARKETING_KEY]
    state.settle()
    contacts = list(state.contacts.values())
    # The contract returns a sample of recent contacts rather than a full listing.
    recent = contacts[-DEFAULT_CONTACTS_PAGE:]
    return web.json_response(
        {
            "result": [_contact_view(request, c) for c in reversed(recent)],
            "_metadata": {"self": f"{request.scheme}://{request.host}/v3/marketing/contacts"},
            "contact_count": len(contacts),
        }
    )


async def get_contact(request: web.Request) -> web.Response:
    state = request.app[MARKETING_KEY]
    state.settle()
    contact = state.contacts.get(request.match_info["id"])
    if contact is None:
        return sendgrid_error(404, "Contact not found", "id")
    return web.json_response(_contact_view(request, contact))


async def delete_contacts(request: web.Request) -> web.Response:
    ids_param = request.query.get("ids")
    delete_all = request.query.get("delete_all_contacts")
    if (ids_param is None) == (delete_all is None):
        return sendgrid_error(400, "Exactly one of the ids or delete_all_contacts query parameters is required.", None)
    state = request.app[MARKETING_KEY]
    if delete_all is not None:
        if delete_all.lower() != "true":
            return sendgrid_error(400, "The delete_all_contacts parameter must be true.", "delete_all_contacts")
        removed = sum(state.delete(i) for i in list(state.contacts))
    else:
        assert ids_param is not None
        ids = [i.strip() for i in ids_param.split(",") if i.strip()]
        if not ids:
            return sendgrid_error(400, "The ids parameter must list at least one contact id.", "ids")
        removed = sum(state.delete(i) for i in ids)
    job_id = str(uuid.uuid4())
    log.info("contacts delete job %s: %d contact(s) removed", job_id, removed)
    return web.json_response({"job_id": job_id}, status=202)


async def search_contacts_by_email(request: web.Request) -> web.Response:
    body, error = await read_json(request)
    if error is not None:
        return error
    emails = body.get("emails") if isinstance(body, dict) else None
    if not isinstance(emails, list) or not emails or len(emails) > MAX_SEARCH_EMAILS:
        return sendgrid_error(
            400, f"The emails array is required and may hold 1 to {MAX_SEARCH_EMAILS} emails.", "emails"
        )
    if not all(isinstance(e, str) for e in emails):
        return sendgrid_error(400, "The emails must be strings.", "emails")
    state = request.app[MARKETING_KEY]
    result: dict[str, dict[str, Any]] = {}
    found = 0
    for email in emails:
        contact = state.contact_by_email(email)
        if contact is None:
            result[email] = {"error": "contact not found"}
        else:
            result[email] = {"contact": _contact_view(request, contact)}
            found += 1
    if not found:
        return sendgrid_error(404, "No contacts found for the given emails.", "emails")
    return web.json_response({"result": result})


async def get_deletions(request: web.Request) -> web.Response:
    state = request.app[MARKETING_KEY]
    return web.json_response({"calls": sum(state.deletions.values()), "byEmail": dict(state.deletions)})


async def put_settings(request: web.Request) -> web.Response:
    body, error = await read_json(request)
    if error is not None:
        return error
    delay = body.get("deletionDelaySeconds") if isinstance(body, dict) else None
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 3600:
        return sendgrid_error(400, "The deletionDelaySeconds must be a number from 0 to 3600.", "deletionDelaySeconds")
    state = request.app[MARKETING_KEY]
    state.deletion_delay = float(delay)
    if not delay:  # no delay any more: deletions under way are done
        state.deleting = dict.fromkeys(state.deleting, 0.0)
        state.settle()
    return web.json_response({"deletionDelaySeconds": state.deletion_delay})


def add_routes(app: web.Application) -> None:
    app[MARKETING_KEY] = MarketingState()
    app.router.add_get("/_marketing/deletions", get_deletions)
    app.router.add_put("/_marketing/settings", put_settings)
    app.router.add_put("/v3/marketing/contacts", put_contacts)
    app.router.add_get("/v3/marketing/contacts", get_contacts)
    app.router.add_delete("/v3/marketing/contacts", delete_contacts)
    app.router.add_post("/v3/marketing/contacts/search/emails", search_contacts_by_email)
    app.router.add_get("/v3/marketing/contacts/{id}", get_contact)
