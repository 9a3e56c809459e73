"""The fan-out's functions: SendGrid's Event Webhook, the dispatch queue and the events queue."""

from __future__ import annotations

import json
import logging

import azure.functions as func

from bootstrap import services
from core.http import RequestContext, model_response, resource
from core.openapi import Endpoint
from functions.fanout.dispatch import DispatchMessage
from functions.fanout.errors import InvalidEventSignature
from functions.fanout.events import DeliveryEvent, opt_out_from_message
from functions.fanout.lifecycle import DISPATCH_QUEUE, EVENTS_QUEUE
from functions.fanout.models import EventsView

bp = func.Blueprint()
log = logging.getLogger("privacy.fanout")
EVENTS_BODY_LIMIT = 4 * 1024 * 1024  # SendGrid batches events; a batch stays well below this


def delivery_events(ctx: RequestContext) -> func.HttpResponse:
    """SendGrid's signed Event Webhook: anonymous, trusted only through its signature; answers at once."""
    accepted = services().delivery_events.accept(
        ctx.raw_body(),
        ctx.header("x-twilio-email-event-webhook-signature"),
        ctx.header("x-twilio-email-event-webhook-timestamp"),
    )
    return model_response(EventsView(queued=accepted.queued, ignored=accepted.ignored))


resource(
    bp,
    name="sendgrid_events",
    route="webhooks/sendgrid/events",
    body_limit=EVENTS_BODY_LIMIT,
    handlers={
        "POST": Endpoint(
            delivery_events,
            "SendGrid's signed Event Webhook (ECDSA over timestamp + body; 5-minute window; replays ignored)",
            response=EventsView,
            tag="webhooks",
            errors=(InvalidEventSignature, 413),
        )
    },
)


def _json(msg: func.QueueMessage) -> object:
    try:
        return json.loads(msg.get_body())
    except ValueError:
        return None


@bp.function_name("mail_dispatch")
@bp.queue_trigger(arg_name="msg", queue_name=DISPATCH_QUEUE, connection="AzureWebJobsStorage")
def dispatch_batch(msg: func.QueueMessage) -> None:
    message = DispatchMessage.parse(_json(msg))
    if message is None:
        log.warning("mail dispatch message unreadable message_id=%s: dropped", msg.id)
        return
    services().fan_out.run(message, str(msg.id))


@bp.function_name("mail_events")
@bp.queue_trigger(arg_name="msg", queue_name=EVENTS_QUEUE, connection="AzureWebJobsStorage")
def apply_events(msg: func.QueueMessage) -> None:
    data = _json(msg)
    if isinstance(data, dict) and "optOuts" in data:
        try:
            opt_outs = [opt_out_from_message(item) for item in data["optOuts"]]
        except (TypeError, ValueError):
            log.warning("mail opt-out message unreadable message_id=%s: dropped", msg.id)
            return
        services().delivery_events.apply_opt_outs(opt_outs)
        return
    try:
        assert isinstance(data, dict)
        events = [DeliveryEvent.from_message(item) for item in data["events"]]
        mailing_id, batch_id = str(data["mailingId"]), str(data["batchId"])
    except (AssertionError, KeyError, TypeError, ValueError):
        log.warning("mail events message unreadable message_id=%s: dropped", msg.id)
        return
    services().delivery_events.apply(mailing_id, batch_id, events)
