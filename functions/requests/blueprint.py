"""Data-subject requests' functions: HTTP routes for people, product backends and staff, the step
queue and the hourly deadline review."""

from __future__ import annotations

import logging

import azure.functions as func

from bootstrap import services
from core.errors import NotFound
from core.http import BANNER_BODY_LIMIT, resource
from core.openapi import Endpoint
from core.ports import InvalidContinuation, MailRejected, MailUnavailable
from functions.requests import handlers as people
from functions.requests import staff_handlers as staff
from functions.requests.dispatch import StepMessage
from functions.requests.errors import (
    AlreadyExtended,
    CannotDeny,
    ExportNotReady,
    ExtensionTooLate,
    InvalidLink,
    LinkAlreadyUsed,
    LinkExpired,
    NoEmailOnFile,
    NotAnErasure,
    NotAwaitingApproval,
    NothingToRetry,
    RequestClosed,
    StepRunning,
    TooManyOpenRequests,
)
from functions.requests.lifecycle import STEPS_QUEUE
from functions.requests.models import (
    Accepted,
    CertificateCheck,
    CertificateDocument,
    DeletionCertificate,
    ExportLinkView,
    MySubmitRequest,
    PlanView,
    PoisonView,
    ReasonRequest,
    RequestId,
    RequestListView,
    RequestStatusView,
    RequestView,
    StaffRequestPage,
    StaffRequestQuery,
    StaffRequestView,
    SubmitRequest,
    UnderThirteenRequest,
    UserId,
    VerifyForm,
    VerifyQuery,
    VerifyRequest,
)

bp = func.Blueprint()
log = logging.getLogger("privacy.requests")

HOST_MAX_DEQUEUE_COUNT = 5  # host.json extensions.queues.maxDequeueCount
PEOPLE, STAFF = "requests", "staff"
REQUEST = {"requestId": RequestId}
MAIL = (MailUnavailable, MailRejected)
LINK = (InvalidLink, LinkExpired, LinkAlreadyUsed)


# ---- people and product backends -----------------------------------------------------------------

resource(
    bp,
    name="dsr_submit",
    route="requests",
    cors=lambda: services().banner_cors,
    body_limit=BANNER_BODY_LIMIT,
    handlers={
        "POST": Endpoint(
            people.submit,
            "Ask for a copy (access) or the erasure of one's personal data",
            request=SubmitRequest,
            response=Accepted,
            status=202,
            tag=PEOPLE,
            errors=(TooManyOpenRequests, *MAIL),
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
            people.verify_page,
            "The page the verification link opens (a confirm button); without a valid token, a 400 page",
            query=VerifyQuery,
            tag=PEOPLE,
            media_type="text/html",
            page=True,
            errors=(400,),
        ),
        "POST": Endpoint(
            people.verify,
            "Confirm a request with the signed, single-use token from the mail (JSON, or the page's form)",
            request=VerifyRequest,
            form=VerifyForm,
            response=RequestView,
            tag=PEOPLE,
            errors=LINK,
        ),
    },
)
resource(
    bp,
    name="dsr_status",
    route="requests/{requestId}/status",
    cors=lambda: services().banner_cors,
    handlers={
        "GET": Endpoint(
            people.status_of,
            "A request's status and due date, by the reference its mails carry",
            response=RequestStatusView,
            tag=PEOPLE,
            path=REQUEST,
            errors=(NotFound,),
        )
    },
)
resource(
    bp,
    name="dsr_export_link",
    route="me/requests/{requestId}/export",
    cors=lambda: services().banner_cors,
    handlers={
        "GET": Endpoint(
            people.export_link,
            "A fresh download link for the signed-in user's own ready archive",
            response=ExportLinkView,
            security="user",
            tag=PEOPLE,
            path=REQUEST,
            errors=(NotFound, ExportNotReady),
        )
    },
)
resource(
    bp,
    name="dsr_mine",
    route="me/requests",
    cors=lambda: services().banner_cors,
    handlers={
        "POST": Endpoint(
            people.submit_mine,
            "A signed-in user's request (verified by the token; receipt confirmed by mail)",
            request=MySubmitRequest,
            response=RequestView,
            status=202,
            security="user",
            tag=PEOPLE,
            errors=(NoEmailOnFile, TooManyOpenRequests, *MAIL),
        ),
        "GET": Endpoint(
            people.list_mine, "The signed-in user's requests", response=RequestListView, security="user", tag=PEOPLE
        ),
    },
)
resource(
    bp,
    name="dsr_certificate",
    route="certificates/{requestId}",
    handlers={
        "GET": Endpoint(
            people.get_certificate,
            "A deletion certificate (holds none of the erased data)",
            response=DeletionCertificate,
            tag=PEOPLE,
            path=REQUEST,
            errors=(NotFound,),
        )
    },
)
resource(
    bp,
    name="dsr_certificate_check",
    route="certificates/verify",
    handlers={
        "POST": Endpoint(
            people.check_certificate,
            "Is this deletion certificate authentic and unaltered?",
            request=CertificateDocument,
            response=CertificateCheck,
            tag=PEOPLE,
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
            people.flag_under_thirteen,
            "An account was flagged as under 13: erase it, and tell the parent",
            request=UnderThirteenRequest,
            response=RequestView,
            status=202,
            security="function",
            tag=PEOPLE,
            path={"userId": UserId},
            errors=(TooManyOpenRequests, *MAIL),
        )
    },
)

# ---- staff ---------------------------------------------------------------------------------------

resource(
    bp,
    name="dsr_staff_list",
    route="staff/requests",
    handlers={
        "GET": Endpoint(
            staff.staff_list,
            "Find requests by status, type, due date, address or user; soonest due first (role Privacy.Officer)",
            response=StaffRequestPage,
            query=StaffRequestQuery,
            security="staff",
            tag=STAFF,
            errors=(InvalidContinuation,),
        )
    },
)
resource(
    bp,
    name="dsr_staff_poison",
    route="staff/request-steps/poison",
    handlers={
        "GET": Endpoint(
            staff.staff_poison,
            "Step messages that kept failing (role Privacy.Officer)",
            response=PoisonView,
            security="staff",
            tag=STAFF,
        )
    },
)
resource(
    bp,
    name="dsr_staff_get",
    route="staff/requests/{requestId}",
    handlers={
        "GET": Endpoint(
            staff.staff_get,
            "One request with its steps, mails and log (role Privacy.Officer)",
            response=StaffRequestView,
            security="staff",
            tag=STAFF,
            path=REQUEST,
            errors=(NotFound,),
        )
    },
)
resource(
    bp,
    name="dsr_staff_plan",
    route="staff/requests/{requestId}/erasure-plan",
    handlers={
        "GET": Endpoint(
            staff.staff_plan,
            "Whom the address resolved to, and what an erasure will delete, anonymize or retain, and why",
            response=PlanView,
            security="staff",
            tag=STAFF,
            path=REQUEST,
            errors=(NotFound, NotAnErasure),
        )
    },
)
for action, handler, summary, body, errors in (
    ("approve", staff.approve, "Approve a verified erasure", None, (NotAwaitingApproval,)),
    ("deny", staff.deny, "Deny, with the reason mailed to the person", ReasonRequest, (CannotDeny,)),
    (
        "extend",
        staff.extend,
        "Extend the deadline once, with notice and reason",
        ReasonRequest,
        (RequestClosed, AlreadyExtended, ExtensionTooLate),
    ),
    ("retry", staff.retry, "Re-run the failed or unfinished steps", None, (NothingToRetry, StepRunning)),
):
    resource(
        bp,
        name=f"dsr_staff_{action}",
        route=f"staff/requests/{{requestId}}/{action}",
        handlers={
            "POST": Endpoint(
                handler,
                f"{summary} (role Privacy.Officer)",
                request=body,
                response=StaffRequestView,
                security="staff",
                tag=STAFF,
                path=REQUEST,
                errors=(NotFound, *errors, 503),
            )
        },
    )

# ---- queue and timer -----------------------------------------------------------------------------


@bp.function_name("dsr_steps")
@bp.queue_trigger(arg_name="msg", queue_name=STEPS_QUEUE, connection="AzureWebJobsStorage")
def run_step(msg: func.QueueMessage) -> None:
    message = StepMessage.parse(msg.get_body())
    if message is None:
        log.warning("dsr step message unreadable message_id=%s: dropped", msg.id)
        return
    final = (msg.dequeue_count or 1) >= HOST_MAX_DEQUEUE_COUNT
    services().request_worker.run(message, str(msg.id), final_attempt=final)


@bp.function_name("dsr_deadlines")
@bp.timer_trigger(arg_name="timer", schedule="0 0 * * * *", run_on_startup=False)
def review_deadlines(timer: func.TimerRequest) -> None:
    result = services().deadline_review.run()
    log.info(
        "dsr deadlines near=%d overdue=%d acknowledgements_due=%d unconfirmed_mails=%d holds_ending=%d past_due=%s",
        len(result.near),
        len(result.overdue),
        len(result.acknowledgements_due),
        len(result.unconfirmed_mails),
        len(result.holds_ending),
        timer.past_due,
    )
