"""Triggers of data-subject requests: HTTP for people and staff, a queue for steps, a timer for deadlines."""

from __future__ import annotations

import html
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs

import azure.functions as func

from core import problems
from core.auth import Principal, require_role
from core.composition import services
from core.http import BANNER_BODY_LIMIT, RequestContext, json_response, model_response, resource
from core.openapi import Endpoint
from functions.requests.certificate import is_authentic
from functions.requests.model import STEPS_QUEUE, DsrRequest, Intake
from functions.requests.models import (
    Accepted,
    CertificateCheck,
    CertificateDocument,
    MySubmitRequest,
    PlanEntryView,
    PlanView,
    PoisonView,
    ReasonRequest,
    RequestList,
    RequestView,
    StaffRequestView,
    StepView,
    SubmitRequest,
    UnderThirteenRequest,
    VerifyRequest,
)

bp = func.Blueprint()
log = logging.getLogger("privacy.requests")

OFFICER_ROLE = "Privacy.Officer"
HOST_MAX_DEQUEUE_COUNT = 5  # host.json extensions.queues.maxDequeueCount
ACCEPTED_TEXT = (
    "Thank you. If we can reach you at that address, you will receive an email with a link to confirm "
    "the request. The link works for a limited time."
)


def _steps(request: DsrRequest) -> list[StepView]:
    return [
        StepView(name=s.name, status=s.status, attempts=s.attempts, started_at=s.started_at,
                 finished_at=s.finished_at, counts=s.counts, confirmations=s.confirmations, error=s.error)
        for s in request.steps
    ]  # fmt: skip


def request_view(request: DsrRequest) -> RequestView:
    return RequestView(
        id=request.id, type=request.type, status=request.status, jurisdiction=request.jurisdiction,
        received_at=request.received_at, due_at=request.due_at, acknowledge_by=request.acknowledge_by,
        verified_at=request.verified_at, source=request.source, on_behalf_of_child=request.on_behalf_of_child,
        steps=_steps(request),
    )  # fmt: skip


def staff_view(request: DsrRequest) -> StaffRequestView:
    return StaffRequestView(
        **request_view(request).model_dump(),
        email=request.email,
        decision=request.decision,
        extension=request.extension,
        log=request.log,
        certificate_id=request.certificate["certificateId"] if request.certificate else None,
    )


USER_ID = re.compile(r"[A-Za-z0-9_.:@|-]{1,128}")


def _request_id(ctx: RequestContext) -> str:
    """Request ids are UUIDs; anything else cannot name a request (404, and no odd id reaches Cosmos)."""
    value = ctx.route_param("requestId")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise problems.not_found("No such request.") from None


# ---- people ------------------------------------------------------------------------------------


def submit(ctx: RequestContext) -> func.HttpResponse:
    body = ctx.json_body(SubmitRequest)
    services().requests.submit(
        Intake(type=body.type, email=body.email, jurisdiction=body.jurisdiction,
               on_behalf_of_child=body.on_behalf_of_child, source="website")
    )  # fmt: skip
    # The same answer whether or not the address is known, whether or not the request joined another.
    return model_response(Accepted(message=ACCEPTED_TEXT), status=202)


def _user(ctx: RequestContext) -> Principal:
    return services().user_tokens.principal_from_header(ctx.header("authorization"))


def submit_mine(ctx: RequestContext) -> func.HttpResponse:
    principal = _user(ctx)
    body = ctx.json_body(MySubmitRequest)
    # The profile's address first; a token's email claim only when the identity provider verified it.
    email = services().profile_email(principal.subject) or (principal.email if principal.email_verified else None)
    if email is None:
        raise problems.conflict("no-email-on-file", "No email on file", "Add an email address to your account first.")
    request = services().requests.submit(
        Intake(type=body.type, email=email, jurisdiction=body.jurisdiction, on_behalf_of_child=False,
               source="dashboard", user_id=principal.subject)
    )  # fmt: skip
    return model_response(request_view(request), status=202)


def list_mine(ctx: RequestContext) -> func.HttpResponse:
    principal = _user(ctx)
    mine = services().requests.find_for_user(principal.subject)
    return json_response({"requests": [request_view(r).model_dump(mode="json", by_alias=True) for r in mine]})


PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def html_page(title: str, body: str, status: int = 200) -> func.HttpResponse:
    """A plain page for people arriving from a mail link; ``body`` is trusted markup of ours."""
    page = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<body style='font-family:sans-serif;max-width:40em;margin:3em auto'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return func.HttpResponse(page, status_code=status, mimetype="text/html", charset="utf-8", headers=PAGE_HEADERS)


def verify_page(ctx: RequestContext) -> func.HttpResponse:
    """The link in the mail shows a button; only the POST verifies (mail scanners follow GET links)."""
    token = html.escape(ctx.query("token") or "", quote=True)
    form = (
        "<p>Press the button to confirm that you sent this request.</p><form method=post>"
        f'<input type=hidden name=token value="{token}"><button type=submit>Confirm my request</button></form>'
    )
    return html_page("Confirm your privacy request", form)


def verify(ctx: RequestContext) -> func.HttpResponse:
    content_type = (ctx.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":  # an API client
        request = services().requests.verify(ctx.json_body(VerifyRequest).token)
        ctx.response_headers["Cache-Control"] = "no-store"
        return model_response(request_view(request))
    # A person who pressed the button: answer with a page, errors included.
    if len(ctx.req.get_body() or b"") > ctx.body_limit:
        raise problems.body_too_large(ctx.body_limit)
    token = parse_qs((ctx.req.get_body() or b"").decode("utf-8", "replace")).get("token", [""])[0]
    try:
        if len(token) < 10:
            raise problems.Problem(400, "invalid-link", "Invalid link", "This link is not valid.")
        request = services().requests.verify(token)
    except problems.Problem as problem:
        return html_page(problem.title, f"<p>{html.escape(problem.detail)}</p>", problem.status)
    what = "a copy of your personal data" if request.type == "access" else "the erasure of your personal data"
    due = html.escape(request.due_at[:10])
    return html_page(
        "Thank you, your request is confirmed",
        f"<p>We are preparing {what} and will answer by email by {due} at the latest.</p>"
        f"<p>Reference: <code>{html.escape(request.id)}</code></p>",
    )


def get_certificate(ctx: RequestContext) -> func.HttpResponse:
    request = services().requests.get(_request_id(ctx))
    if request is None or request.certificate is None:
        raise problems.not_found("No certificate with that id.")
    return json_response(request.certificate)


def check_certificate(ctx: RequestContext) -> func.HttpResponse:
    document = ctx.json_body(CertificateDocument)
    certificate = document.model_dump(by_alias=True)
    valid = is_authentic(certificate, services().signing_keys)
    return model_response(CertificateCheck(valid=valid, certificate_id=document.certificate_id if valid else None))


# ---- product backends --------------------------------------------------------------------------


def flag_under_thirteen(ctx: RequestContext) -> func.HttpResponse:
    """The product flagged an account as under 13: the policy prohibits it, so its data is erased."""
    user_id = ctx.route_param("userId")
    if not USER_ID.fullmatch(user_id):
        raise problems.validation_failed([problems.FieldError("path/userId", "has an invalid format")])
    body = ctx.json_body(UnderThirteenRequest)
    svc = services()
    email = svc.profile_email(user_id)
    parent = body.parent_email or svc.profile_field(user_id, "parentEmail")
    request = svc.requests.submit(
        Intake(type="erasure", email=email or f"{user_id}@accounts.invalid", jurisdiction="OTHER",
               on_behalf_of_child=True, source="under-13", user_id=user_id)
    )  # fmt: skip
    if parent:
        svc.mailer.send(
            parent,
            "An account for your child is being deleted",
            "An account on our Services appears to belong to a child under 13. Our Services are not for "
            f"children under 13, so the account and its personal data are being deleted (reference {request.id}). "
            "Contact support@softwareengineeringconcepts.com with any question.",
            "dsr-under-13-parent",
        )
    return model_response(request_view(request), status=202)


# ---- staff -------------------------------------------------------------------------------------


def _officer(ctx: RequestContext) -> Principal:
    principal = services().staff_tokens.principal_from_header(ctx.header("authorization"))
    require_role(principal, OFFICER_ROLE)
    return principal


def staff_list(ctx: RequestContext) -> func.HttpResponse:
    staff = _officer(ctx)
    due_before = ctx.query("dueBefore")
    try:
        due = datetime.fromisoformat(due_before) if due_before else None
        if due is not None and due.tzinfo is None:
            due = due.replace(tzinfo=UTC)  # a date or time without an offset means UTC
    except ValueError:
        raise problems.validation_failed([problems.FieldError("query/dueBefore", "must be an ISO 8601 time")]) from None
    requests = services().requests.find(ctx.query("status"), ctx.query("type"), due)
    services().audit.record(staff.subject, "requests.listed", "dsr-requests", {"count": len(requests)})
    return model_response(RequestList(requests=[staff_view(r) for r in requests]))


def staff_get(ctx: RequestContext) -> func.HttpResponse:
    staff = _officer(ctx)
    request = services().requests.require(_request_id(ctx))
    services().audit.record(staff.subject, "request.read", f"dsr:{request.id}")
    return model_response(staff_view(request))


def _staff_action(ctx: RequestContext, action: str) -> func.HttpResponse:
    staff = _officer(ctx)
    request_id = _request_id(ctx)
    requests = services().requests
    if action == "approve":
        request = requests.approve(request_id, staff.subject)
    elif action == "retry":
        request = requests.retry(request_id, staff.subject)
    else:
        reason = ctx.json_body(ReasonRequest).reason
        request = requests.deny(request_id, staff.subject, reason) if action == "deny" else requests.extend(
            request_id, staff.subject, reason)  # fmt: skip
    services().audit.record(staff.subject, f"request.{action}", f"dsr:{request.id}")
    return model_response(staff_view(request))


def staff_plan(ctx: RequestContext) -> func.HttpResponse:
    staff = _officer(ctx)
    request_id = _request_id(ctx)
    entries = services().requests.erasure_plan(request_id)
    services().audit.record(staff.subject, "request.plan-read", f"dsr:{request_id}")
    return model_response(PlanView(request_id=request_id, entries=[
        PlanEntryView(location=e.location, category=e.category, action=e.action, items=e.items, reason=e.reason)
        for e in entries]))  # fmt: skip


def staff_poison(ctx: RequestContext) -> func.HttpResponse:
    _officer(ctx)
    return model_response(PoisonView(messages=services().work_queue.peek_poison(STEPS_QUEUE, 32)))


# ---- queue and timer ---------------------------------------------------------------------------


@bp.function_name("dsr_steps")
@bp.queue_trigger(arg_name="msg", queue_name=STEPS_QUEUE, connection="AzureWebJobsStorage")
def run_step(msg: func.QueueMessage) -> None:
    message = json.loads(msg.get_body())
    final = (msg.dequeue_count or 1) >= HOST_MAX_DEQUEUE_COUNT
    services().requests.run(str(message["requestId"]), str(message["step"]), final_attempt=final)


@bp.function_name("dsr_deadlines")
@bp.timer_trigger(arg_name="timer", schedule="0 0 * * * *", run_on_startup=False)
def review_deadlines(timer: func.TimerRequest) -> None:
    result = services().requests.review_deadlines()
    log.info("dsr deadlines near=%d overdue=%d closed=%d past_due=%s", len(result["near"]),
             len(result["overdue"]), len(result["closed"]), timer.past_due)  # fmt: skip


# ---- routes ------------------------------------------------------------------------------------

T = "requests"
resource(
    bp,
    name="dsr_submit",
    route="requests",
    cors=lambda: services().banner_cors,
    body_limit=BANNER_BODY_LIMIT,
    handlers={
        "POST": Endpoint(
            submit,
            "Ask for a copy (access) or the erasure of one's personal data",
            request=SubmitRequest,
            response=Accepted,
            status=202,
            tag=T,
            errors=(429,),
        )
    },
)
resource(
    bp,
    name="dsr_verify",
    route="requests/verify",
    body_limit=BANNER_BODY_LIMIT,
    handlers={
        "GET": Endpoint(
            verify_page,
            "The page the verification link opens (a confirm button)",
            tag=T,
            query=(("token", "the signed token from the mail"),),
        ),
        "POST": Endpoint(
            verify,
            "Confirm a request with the signed, single-use token from the mail",
            request=VerifyRequest,
            response=RequestView,
            tag=T,
            errors=(409, 410),
        ),
    },
)
resource(
    bp,
    name="dsr_mine",
    route="me/requests",
    handlers={
        "POST": Endpoint(
            submit_mine,
            "A signed-in user's request (verified by the token)",
            request=MySubmitRequest,
            response=RequestView,
            status=202,
            security="user",
            tag=T,
            errors=(409, 429),
        ),
        "GET": Endpoint(list_mine, "The signed-in user's requests", security="user", tag=T),
    },
)
resource(
    bp,
    name="dsr_certificate",
    route="certificates/{requestId}",
    handlers={
        "GET": Endpoint(get_certificate, "A deletion certificate (holds none of the erased data)", tag=T, errors=(404,))
    },
)
resource(
    bp,
    name="dsr_certificate_check",
    route="certificates/verify",
    handlers={
        "POST": Endpoint(
            check_certificate,
            "Is this deletion certificate authentic and unaltered?",
            request=CertificateDocument,
            response=CertificateCheck,
            tag=T,
        )
    },
)
resource(
    bp,
    name="dsr_under_13",
    route="accounts/{userId}/under-13",
    auth_level=func.AuthLevel.FUNCTION,
    handlers={
        "POST": Endpoint(
            flag_under_thirteen,
            "An account was flagged as under 13: erase it",
            request=UnderThirteenRequest,
            response=RequestView,
            status=202,
            security="function",
            tag=T,
        )
    },
)
resource(
    bp,
    name="dsr_staff_list",
    route="staff/requests",
    handlers={
        "GET": Endpoint(
            staff_list, "List requests (role Privacy.Officer)", response=RequestList, security="staff", tag="staff"
        )
    },
)
resource(
    bp,
    name="dsr_staff_poison",
    route="staff/request-steps/poison",
    handlers={
        "GET": Endpoint(
            staff_poison,
            "Step messages that kept failing (role Privacy.Officer)",
            response=PoisonView,
            security="staff",
            tag="staff",
        )
    },
)
resource(
    bp,
    name="dsr_staff_get",
    route="staff/requests/{requestId}",
    handlers={
        "GET": Endpoint(
            staff_get,
            "One request with its full step log (role Privacy.Officer)",
            response=StaffRequestView,
            security="staff",
            tag="staff",
            errors=(404,),
        )
    },
)
resource(
    bp,
    name="dsr_staff_plan",
    route="staff/requests/{requestId}/erasure-plan",
    handlers={
        "GET": Endpoint(
            staff_plan,
            "What an erasure will delete, anonymize or retain, and why",
            response=PlanView,
            security="staff",
            tag="staff",
            errors=(404, 409),
        )
    },
)


def _staff_resource(action: str, summary: str, body: type[ReasonRequest] | None) -> None:
    def handler(ctx: RequestContext) -> func.HttpResponse:
        return _staff_action(ctx, action)

    endpoint = Endpoint(handler, f"{summary} (role Privacy.Officer)", request=body, response=StaffRequestView,
                        security="staff", tag="staff", errors=(404, 409))  # fmt: skip
    resource(
        bp, name=f"dsr_staff_{action}", route=f"staff/requests/{{requestId}}/{action}", handlers={"POST": endpoint}
    )


_staff_resource("approve", "Approve a verified erasure", None)
_staff_resource("deny", "Deny with a reason sent to the person", ReasonRequest)
_staff_resource("extend", "Extend the deadline once, with notice and reason", ReasonRequest)
_staff_resource("retry", "Re-run the failed or unfinished steps", None)
