"""Breach incidents' functions: staff HTTP routes, the selection queue, and the hourly watch over
legal clocks (the fan-out and its delivery events are functions/fanout's)."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func

from bootstrap import services
from core.errors import DomainError, InvalidValues, NotFound
from core.http import Handler, resource
from core.models import EMAIL_MAX_LENGTH, Body
from core.openapi import HTML, Endpoint
from functions.fanout.models import UnreachedQuery, UnreachedView
from functions.incidents import handlers as h
from functions.incidents.errors import (
    LateFilingNeedsReasons,
    NoRecipients,
    NoticeIncomplete,
    NoticeNotApproved,
    NoticeNotEditable,
    SecondApproverRequired,
)
from functions.incidents.lifecycle import SELECTION_QUEUE
from functions.incidents.models import (
    RECIPIENTS_PER_CALL,
    AssessmentRequest,
    AuthorityReportView,
    DelayRequest,
    DeliveryView,
    FilingRequest,
    IncidentId,
    IncidentListView,
    IncidentNoticeActionView,
    IncidentNoticeRequest,
    IncidentRequest,
    IncidentView,
    NoticeId,
    PreviewQuery,
    RecipientsAddedView,
    RecipientsRequest,
    ReportQuery,
    SelectionRequest,
)
from functions.incidents.selection import SelectionMessage

bp = func.Blueprint()
log = logging.getLogger("privacy.incidents")

TAG = "incidents"
ROLE = "(role Privacy.Incident)"
INCIDENT = {"incidentId": IncidentId}
# A call takes up to 1,000 addresses of up to 254 characters: each quoted and followed by ", ".
RECIPIENTS_BODY_LIMIT = RECIPIENTS_PER_CALL * (EMAIL_MAX_LENGTH + 4) + 1024


def _staff_endpoint(handler: Handler, summary: str, **options: Any) -> Endpoint:
    return Endpoint(handler, f"{summary} {ROLE}", security="staff", tag=TAG, **options)


resource(
    bp,
    name="incidents",
    route="staff/incidents",
    handlers={
        "GET": _staff_endpoint(h.list_incidents, "All incidents, newest first", response=IncidentListView),
        "POST": _staff_endpoint(
            h.open_incident,
            "Record a breach: when the company became aware, what happened, who and what is affected",
            request=IncidentRequest,
            response=IncidentView,
            status=201,
            errors=(InvalidValues,),
        ),
    },
)
resource(
    bp,
    name="incident",
    route="staff/incidents/{incidentId}",
    handlers={
        "GET": _staff_endpoint(
            h.get_incident,
            "One incident with its legal clocks, notices and warnings",
            response=IncidentView,
            path=INCIDENT,
            errors=(NotFound,),
        ),
        "PUT": _staff_endpoint(
            h.update_incident,
            "Complete or correct what is known (GDPR Art. 33(4))",
            request=IncidentRequest,
            response=IncidentView,
            path=INCIDENT,
            errors=(NotFound, InvalidValues, 503),
        ),
    },
)
# (function name, route below the incident, handler, summary, body, success status, refusals)
INCIDENT_ACTIONS: tuple[tuple[str, str, Handler, str, type[Body], int, tuple[type[DomainError], ...]], ...] = (
    (
        "incident_assessment",
        "assessment",
        h.assess,
        "Record whether to notify, and why (Art. 33(5))",
        AssessmentRequest,
        200,
        (),
    ),
    (
        "incident_delay",
        "law-enforcement-delay",
        h.record_delay,
        "Record a law-enforcement delay",
        DelayRequest,
        200,
        (),
    ),
    (
        "incident_filing",
        "authority-filing",
        h.record_filing,
        "Record the filing with the authority (Art. 33(1))",
        FilingRequest,
        200,
        (LateFilingNeedsReasons,),
    ),
    (
        "incident_recipient_selection",
        "recipients/selection",
        h.select_recipients,
        "Find the affected people in the data inventory (in the background)",
        SelectionRequest,
        202,
        (),
    ),
)
resource(
    bp,
    name="incident_notices",
    route="staff/incidents/{incidentId}/notices",
    handlers={
        "POST": _staff_endpoint(
            h.draft_notice,
            "Draft a notice to the affected people (one phase)",
            request=IncidentNoticeRequest,
            response=IncidentNoticeActionView,
            status=201,
            path=INCIDENT,
            errors=(NotFound, 503),
        )
    },
)
for name, route, handler, summary, body, status, refusals in INCIDENT_ACTIONS:
    resource(
        bp,
        name=name,
        route=f"staff/incidents/{{incidentId}}/{route}",
        handlers={
            "POST": _staff_endpoint(
                handler,
                summary,
                request=body,
                response=IncidentView,
                status=status,
                path=INCIDENT,
                errors=(NotFound, *refusals, 503),
            )
        },
    )
resource(
    bp,
    name="incident_recipients",
    route="staff/incidents/{incidentId}/recipients",
    body_limit=RECIPIENTS_BODY_LIMIT,
    handlers={
        "POST": _staff_endpoint(
            h.add_recipients,
            "Add affected people by address (each recorded once)",
            request=RecipientsRequest,
            response=RecipientsAddedView,
            path=INCIDENT,
            errors=(NotFound, 503),
        )
    },
)
resource(
    bp,
    name="incident_authority_report",
    route="staff/incidents/{incidentId}/authority-report",
    handlers={
        "GET": _staff_endpoint(
            h.authority_report,
            "What GDPR Art. 33(3) asks, to file with the supervisory authority (format=json or html)",
            response=AuthorityReportView,
            alternatives=(HTML,),
            query=ReportQuery,
            path=INCIDENT,
            errors=(NotFound,),
        )
    },
)
NOTICE = {"incidentId": IncidentId, "noticeId": NoticeId}
resource(
    bp,
    name="incident_notice",
    route="staff/incidents/{incidentId}/notices/{noticeId}",
    handlers={
        "PUT": _staff_endpoint(
            h.revise_notice,
            "Revise a draft notice",
            request=IncidentNoticeRequest,
            response=IncidentNoticeActionView,
            path=NOTICE,
            errors=(NotFound, NoticeNotEditable, 503),
        )
    },
)
resource(
    bp,
    name="incident_notice_preview",
    route="staff/incidents/{incidentId}/notices/{noticeId}/preview",
    handlers={
        "GET": _staff_endpoint(
            h.preview_notice,
            "The notice as a recipient reads it (format=html or text)",
            query=PreviewQuery,
            path=NOTICE,
            media_type=HTML,
            alternatives=("text/plain",),
            errors=(NotFound,),
        )
    },
)
for name, route, handler, summary, refusals in (
    (
        "incident_notice_approve",
        "approve",
        h.approve_notice,
        "Approve a complete notice (a second staff member)",
        (NoticeIncomplete, SecondApproverRequired, NoticeNotEditable),
    ),
    (
        "incident_notice_send",
        "send",
        h.send_notice,
        "Send an approved notice to every affected person",
        (NoticeNotApproved, NoRecipients),
    ),
):
    resource(
        bp,
        name=name,
        route=f"staff/incidents/{{incidentId}}/notices/{{noticeId}}/{route}",
        handlers={
            "POST": _staff_endpoint(
                handler,
                summary,
                response=IncidentNoticeActionView,
                status=202 if route == "send" else 200,
                path=NOTICE,
                errors=(NotFound, *refusals, 503),
            )
        },
    )
resource(
    bp,
    name="incident_delivery",
    route="staff/incidents/{incidentId}/delivery",
    handlers={
        "GET": _staff_endpoint(
            h.delivery,
            "Per notice: sent, delivered, bounced, dropped and unknown",
            response=DeliveryView,
            path=INCIDENT,
            errors=(NotFound,),
        )
    },
)
resource(
    bp,
    name="incident_unreached",
    route="staff/incidents/{incidentId}/notices/{noticeId}/unreached",
    handlers={
        "GET": _staff_endpoint(
            h.unreached,
            "Who must be reached another way (not reported delivered), a page at a time",
            response=UnreachedView,
            query=UnreachedQuery,
            path=NOTICE,
            errors=(NotFound,),
        )
    },
)


@bp.function_name("incident_selection")
@bp.queue_trigger(arg_name="msg", queue_name=SELECTION_QUEUE, connection="AzureWebJobsStorage")
def select_recipients(msg: func.QueueMessage) -> None:
    message = SelectionMessage.parse(_json(msg))
    if message is None:
        log.warning("incident selection message unreadable message_id=%s: dropped", msg.id)
        return
    services().recipient_selection.run(message)


@bp.function_name("incident_deadlines")
@bp.timer_trigger(arg_name="timer", schedule="0 15 * * * *", run_on_startup=False)
def watch_deadlines(timer: func.TimerRequest) -> None:
    result = services().deadline_watch.run()
    log.info("incident deadlines due_soon=%d passed=%d", len(result.due_soon), len(result.passed))


def _json(msg: func.QueueMessage) -> object:
    try:
        return json.loads(msg.get_body())
    except ValueError:
        return None
