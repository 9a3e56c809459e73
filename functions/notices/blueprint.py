"""Notices and opt-outs: the notice board, opt-outs from every channel, one-click unsubscribe, the
register of legal disclosures, the public facts; the marketing-sync queue and the hourly watches."""

from __future__ import annotations

import logging
from typing import Any

import azure.functions as func

from bootstrap import services
from core.errors import InvalidValues, NotFound
from core.http import Handler, resource
from core.openapi import Endpoint
from core.ports import InvalidContinuation
from functions.consent.errors import IdempotencyKeyReused, NoPolicyPublished, TooManyDecisions
from functions.consent.models import SubjectId
from functions.consent.queries import IDEMPOTENCY_HEADER
from functions.notices import disclosure_handlers as legal
from functions.notices import handlers as h
from functions.notices import public_handlers as public
from functions.notices.errors import AlreadyNotified
from functions.notices.lifecycle import MARKETING_SYNC_QUEUE
from functions.notices.models import (
    ActiveNoticesView,
    AllowedPageView,
    AllowedQuery,
    DeviceOptOutRequest,
    DisclosureListView,
    DisclosureRequest,
    DisclosureView,
    GagRequest,
    InvalidTokensRequest,
    InvalidTokensView,
    MarketingSyncView,
    NoticeId,
    NoticeListView,
    NoticeRequest,
    NoticeView,
    OptOutView,
    PrivacyFactsView,
    StaffOptOutRequest,
    TransparencyReportView,
    UnsubscribeQuery,
)
from functions.proof.errors import ProofKeyUnavailable

bp = func.Blueprint()
log = logging.getLogger("privacy.notices")
TAG = "notices"
NOTICE = {"noticeId": NoticeId}
DISCLOSURE = {"disclosureId": NoticeId}
OPT_OUT_ERRORS = (NoPolicyPublished, IdempotencyKeyReused, TooManyDecisions, ProofKeyUnavailable, 503)


def _staff(handler: Handler, summary: str, role: str, **options: Any) -> Endpoint:
    return Endpoint(handler, f"{summary} (role {role})", security="staff", tag=TAG, **options)


# ---- the notice board

resource(
    bp,
    name="notices_active",
    route="notices/active",
    cors=lambda: services().banner_cors,  # the website's banner shows them from the browser
    handlers={
        "GET": Endpoint(
            h.active_notices,
            "The notices the website and dashboard must show now (public; cacheable for a minute)",
            response=ActiveNoticesView,
            tag=TAG,
        )
    },
)
resource(
    bp,
    name="my_notices",
    route="me/notices",
    handlers={
        "GET": Endpoint(
            h.my_notices,
            "The signed-in user's notices not yet seen: those for everyone and those for them alone",
            response=ActiveNoticesView,
            security="user",
            tag=TAG,
        )
    },
)
resource(
    bp,
    name="my_notice_seen",
    route="me/notices/{noticeId}/seen",
    handlers={
        "POST": Endpoint(
            h.notice_seen,
            "Record that the signed-in user has seen a notice (it no longer shows for them)",
            status=204,
            security="user",
            tag=TAG,
            path=NOTICE,
            errors=(NotFound,),
        )
    },
)
resource(
    bp,
    name="staff_notices",
    route="staff/notices",
    handlers={
        "GET": _staff(h.list_notices, "Every notice, newest first", "Privacy.Publisher", response=NoticeListView),
        "POST": _staff(
            h.publish_notice,
            "Publish a business-transfer, policy-change or sub-processor notice: in the service and by mail "
            "to everyone (or to those whose consent must be renewed); the same notice again changes nothing",
            "Privacy.Publisher",
            request=NoticeRequest,
            response=NoticeView,
            status=201,
            replay_status=200,
            headers=(IDEMPOTENCY_HEADER,),
        ),
    },
)
resource(
    bp,
    name="staff_notice",
    route="staff/notices/{noticeId}",
    handlers={
        "GET": _staff(
            h.get_notice,
            "One notice with its mailing",
            "Privacy.Publisher",
            response=NoticeView,
            path=NOTICE,
            errors=(NotFound,),
        )
    },
)
resource(
    bp,
    name="staff_notice_retire",
    route="staff/notices/{noticeId}/retire",
    handlers={
        "POST": _staff(
            h.retire_notice,
            "Take a notice out of the service (its mailing, if any, is not recalled)",
            "Privacy.Publisher",
            response=NoticeView,
            path=NOTICE,
            errors=(NotFound,),
        )
    },
)

# ---- opt-outs

resource(
    bp,
    name="device_push_opt_out",
    route="devices/push-opt-out",
    auth_level=func.AuthLevel.FUNCTION,
    handlers={
        "POST": Endpoint(
            h.device_push_opt_out,
            "The product saw push notifications turned off on a device: withdrawn in the ledger (source "
            "device), every device token of the user disabled",
            request=DeviceOptOutRequest,
            response=OptOutView,
            status=201,
            replay_status=200,
            security="function",
            tag=TAG,
            errors=OPT_OUT_ERRORS,
            headers=(IDEMPOTENCY_HEADER,),
        )
    },
)
resource(
    bp,
    name="device_invalid_tokens",
    route="devices/invalid-tokens",
    auth_level=func.AuthLevel.FUNCTION,
    handlers={
        "POST": Endpoint(
            h.invalid_push_tokens,
            "Push tokens the push provider reported invalid: the user's devices holding them are deleted",
            request=InvalidTokensRequest,
            response=InvalidTokensView,
            security="function",
            tag=TAG,
        )
    },
)
resource(
    bp,
    name="staff_opt_out",
    route="staff/subjects/{subjectId}/opt-outs",
    handlers={
        "POST": _staff(
            h.staff_opt_out,
            "Record an opt-out a person asked for by email (source staff, with the staff member's id)",
            "Privacy.Officer",
            request=StaffOptOutRequest,
            response=OptOutView,
            status=201,
            replay_status=200,
            path={"subjectId": SubjectId},
            errors=OPT_OUT_ERRORS,
            headers=(IDEMPOTENCY_HEADER,),
        )
    },
)
resource(
    bp,
    name="consents_allowed",
    route="consents/allowed",
    auth_level=func.AuthLevel.FUNCTION,
    handlers={
        "GET": Endpoint(
            h.allowed_subjects,
            "The subjects a purpose may be used for now, page by page (never a withdrawn, renewal-due or "
            "erased person), with each one's address and one-click unsubscribe URL: build a mailing list from it",
            response=AllowedPageView,
            query=AllowedQuery,
            security="function",
            tag=TAG,
            errors=(InvalidValues, InvalidContinuation, NoPolicyPublished),
        )
    },
)
resource(
    bp,
    name="staff_marketing_sync",
    route="staff/marketing-sync",
    handlers={
        "GET": _staff(
            h.marketing_sync_status,
            "Marketing withdrawals not yet applied to SendGrid's unsubscribe group, and the oldest",
            "Privacy.Officer",
            response=MarketingSyncView,
        )
    },
)
resource(
    bp,
    name="unsubscribe",
    route="unsubscribe",
    handlers={
        "GET": Endpoint(
            public.unsubscribe_page,
            "The page an unsubscribe link opens: a button (mail scanners follow links; only the POST acts)",
            query=UnsubscribeQuery,
            tag=TAG,
            media_type="text/html",
            page=True,
            errors=(400,),
        ),
        "POST": Endpoint(
            public.unsubscribe,
            "One-click unsubscribe (RFC 8058): no cookie, no redirect, idempotent",
            query=UnsubscribeQuery,
            tag=TAG,
            media_type="text/html",
            page=True,
            errors=(400,),
        ),
    },
)

# ---- legal disclosures

resource(
    bp,
    name="staff_disclosures",
    route="staff/disclosures",
    handlers={
        "GET": _staff(
            legal.list_disclosures, "The register of legal disclosures", "Privacy.Legal", response=DisclosureListView
        ),
        "POST": _staff(
            legal.record_disclosure,
            "Record a disclosure to an authority; the people concerned are notified now, or when the gag ends",
            "Privacy.Legal",
            request=DisclosureRequest,
            response=DisclosureView,
            status=201,
            replay_status=200,
            headers=(IDEMPOTENCY_HEADER,),
            errors=(IdempotencyKeyReused,),
        ),
    },
)
resource(
    bp,
    name="staff_disclosure",
    route="staff/disclosures/{disclosureId}",
    handlers={
        "GET": _staff(
            legal.get_disclosure,
            "One register entry with its log",
            "Privacy.Legal",
            response=DisclosureView,
            path=DISCLOSURE,
            errors=(NotFound,),
        )
    },
)
resource(
    bp,
    name="staff_disclosure_gag",
    route="staff/disclosures/{disclosureId}/gag",
    handlers={
        "POST": _staff(
            legal.change_gag,
            "Record a new end of the gag (extended or lifted by the court); appended to the log",
            "Privacy.Legal",
            request=GagRequest,
            response=DisclosureView,
            path=DISCLOSURE,
            errors=(NotFound, AlreadyNotified),
        )
    },
)
resource(
    bp,
    name="transparency_report",
    route="transparency-report",
    handlers={
        "GET": Endpoint(
            legal.transparency_report,
            "Legal disclosures counted per half-year, instrument and outcome; small counts banded (public)",
            response=TransparencyReportView,
            tag=TAG,
        )
    },
)

# ---- the public facts

resource(
    bp,
    name="privacy_facts",
    route="privacy-facts",
    cors=lambda: services().banner_cors,  # the privacy page reads them from the browser
    handlers={
        "GET": Endpoint(
            public.get_privacy_facts,
            "Sub-processors, purposes and the retention table (public; cacheable for an hour)",
            response=PrivacyFactsView,
            tag=TAG,
            errors=(NoPolicyPublished,),
        )
    },
)
resource(
    bp,
    name="privacy_facts_page",
    route="privacy-facts/page",
    handlers={
        "GET": Endpoint(
            public.privacy_facts_page,
            "The same facts as a readable page",
            tag=TAG,
            media_type="text/html",
            errors=(NoPolicyPublished,),
        )
    },
)

# ---- background


@bp.function_name("marketing_sync")
@bp.queue_trigger(arg_name="msg", queue_name=MARKETING_SYNC_QUEUE, connection="AzureWebJobsStorage")
def sync_marketing(msg: func.QueueMessage) -> None:
    services().marketing_sync.run()


@bp.function_name("marketing_sync_sweep")
@bp.timer_trigger(arg_name="timer", schedule="0 */15 * * * *", run_on_startup=False)
def sweep_marketing(timer: func.TimerRequest) -> None:
    """Marks left by runs that failed for good (SendGrid down past the queue's retries) are synced here."""
    backlog = services().marketing_sync.backlog()
    if backlog.pending:
        log.warning("marketing sync backlog pending=%d oldest=%s", backlog.pending, backlog.oldest)
        services().marketing_sync.run()


@bp.function_name("disclosure_watch")
@bp.timer_trigger(arg_name="timer", schedule="0 30 * * * *", run_on_startup=False)
def watch_disclosures(timer: func.TimerRequest) -> None:
    services().disclosures.watch()
