"""HTTP handlers for people and product backends: parse → call → render."""

from __future__ import annotations

from urllib.parse import parse_qs

import azure.functions as func

from bootstrap import services
from core import problems
from core.errors import DomainError
from core.http import RequestContext, json_response, model_response
from core.pages import problem_page
from core.problem_types import PROBLEM_TYPES
from functions.requests import pages
from functions.requests.certificate import is_authentic
from functions.requests.errors import CertificateNotFound, InvalidLink, NoEmailOnFile
from functions.requests.models import (
    REQUEST_ID,
    USER_ID,
    Accepted,
    CertificateCheck,
    CertificateDocument,
    ExportLinkView,
    MySubmitRequest,
    RequestListView,
    RequestStatusView,
    SubmitRequest,
    UnderThirteenRequest,
    VerifyRequest,
)
from functions.requests.views import request_view

ACCEPTED_TEXT = (
    "Thank you. If we can reach you at that address, you will receive an email with a link to confirm "
    "the request. The link works for a limited time."
)
FORM = "application/x-www-form-urlencoded"


def request_id_from_path(ctx: RequestContext) -> str:
    """Request ids are UUIDs as the service writes them; anything else is a 422 (no odd id reaches Cosmos)."""
    request_id = ctx.route_param("requestId")
    if not REQUEST_ID.fullmatch(request_id):
        raise problems.validation_failed([problems.FieldError("path/requestId", "must be a request id (a UUID)")])
    return request_id


def submit(ctx: RequestContext) -> func.HttpResponse:
    body = ctx.json_body(SubmitRequest)
    services().request_intake.submit_form(body.type, body.email, body.jurisdiction, body.on_behalf_of_child)
    # The same answer whether or not the address is known, whether or not the request joined another.
    return model_response(Accepted(message=ACCEPTED_TEXT), status=202)


def submit_mine(ctx: RequestContext) -> func.HttpResponse:
    principal = services().user_tokens.principal_from_header(ctx.header("authorization"))
    body = ctx.json_body(MySubmitRequest)
    # The profile's address first; a token's email claim only when the identity provider verified it.
    email = services().profiles.email_of(principal.subject) or (principal.email if principal.email_verified else None)
    if email is None:
        raise NoEmailOnFile()
    request = services().request_intake.submit_signed_in(principal.subject, email, body.type, body.jurisdiction)
    return model_response(request_view(request), status=202)


def list_mine(ctx: RequestContext) -> func.HttpResponse:
    principal = services().user_tokens.principal_from_header(ctx.header("authorization"))
    mine = services().request_intake.requests_of(principal.subject)
    return model_response(RequestListView(requests=[request_view(r) for r in mine]))


def status_of(ctx: RequestContext) -> func.HttpResponse:
    """The reference from the mail → status and due date (no address, no data)."""
    request = services().request_intake.status(request_id_from_path(ctx))
    ctx.response_headers["Cache-Control"] = "no-store"
    return model_response(RequestStatusView.model_validate(request))


def export_link(ctx: RequestContext) -> func.HttpResponse:
    """A fresh download link for the signed-in user's own ready archive."""
    principal = services().user_tokens.principal_from_header(ctx.header("authorization"))
    link = services().export_downloads.link_for(principal.subject, request_id_from_path(ctx))
    ctx.response_headers["Cache-Control"] = "no-store"
    return model_response(ExportLinkView(url=link.url, expires_at=link.expires_at))


def verify_page(ctx: RequestContext) -> func.HttpResponse:
    token = ctx.query("token") or ""
    if not 10 <= len(token) <= 2000:
        return problem_page("Invalid link", InvalidLink.message, 400)
    return pages.confirm_form(token)


def verify(ctx: RequestContext) -> func.HttpResponse:
    content_type = (ctx.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != FORM:  # an API client
        request = services().request_intake.verify(ctx.json_body(VerifyRequest).token)
        ctx.response_headers["Cache-Control"] = "no-store"
        return model_response(request_view(request))
    # A person who pressed the button: answer with a page, errors included.
    form = parse_qs(ctx.raw_body().decode("utf-8", "replace"))
    token = form.get("token", [""])[0]
    try:
        if not 10 <= len(token) <= 2000:
            raise InvalidLink()
        return pages.confirmed_page(services().request_intake.verify(token))
    except DomainError as error:
        problem = PROBLEM_TYPES.problem(error) or problems.Problem(500, "internal-error", "Internal error")
        return problem_page(problem.title, problem.detail, problem.status)


def get_certificate(ctx: RequestContext) -> func.HttpResponse:
    certificate = services().request_intake.certificate(request_id_from_path(ctx))
    if certificate is None:
        raise CertificateNotFound()
    return json_response(certificate)


def check_certificate(ctx: RequestContext) -> func.HttpResponse:
    document = ctx.json_body(CertificateDocument)
    valid = is_authentic(document.model_dump(by_alias=True), services().key_set, services().signing_keys)
    return model_response(CertificateCheck(valid=valid, certificate_id=document.certificate_id if valid else None))


def flag_under_thirteen(ctx: RequestContext) -> func.HttpResponse:
    """The product flagged an account as under 13: the policy prohibits it, so its data is erased."""
    user_id = ctx.route_param("userId")
    if not USER_ID.fullmatch(user_id):
        raise problems.validation_failed([problems.FieldError("path/userId", "has an invalid format")])
    body = ctx.json_body(UnderThirteenRequest)
    profiles = services().profiles
    parent = body.parent_email or profiles.parent_email_of(user_id)
    request = services().request_intake.flag_under_13(user_id, profiles.email_of(user_id), parent)
    return model_response(request_view(request), status=202)
