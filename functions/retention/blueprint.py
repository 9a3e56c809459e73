"""Retention's functions: the public retention table, staff routes for legal holds, run reports and dry
runs, and the purge timer (schedule from the RETENTION_SCHEDULE app setting)."""

from __future__ import annotations

import logging

import azure.functions as func

from bootstrap import services
from core.errors import NotFound
from core.http import resource
from core.openapi import Endpoint
from functions.retention import handlers as public
from functions.retention import staff_handlers as staff
from functions.retention.errors import (
    HoldEndInPast,
    HoldNotInForce,
    HoldTargetNotFound,
    RetentionRunFailed,
)
from functions.retention.models import (
    DryRunView,
    HoldId,
    HoldListQuery,
    HoldListView,
    HoldView,
    PlaceHoldRequest,
    ReleasedView,
    ReleaseHoldRequest,
    RetentionTableView,
    RunId,
    RunListQuery,
    RunListView,
    RunReportView,
)

bp = func.Blueprint()
log = logging.getLogger("privacy.retention")

PUBLIC, STAFF = "retention", "staff"

# ---- everyone ------------------------------------------------------------------------------------

resource(
    bp,
    name="retention_table",
    route="retention",
    cors=lambda: services().banner_cors,  # the website may show it from the browser
    handlers={
        "GET": Endpoint(
            public.table,
            "How long each kind of personal data is kept, and why (the periods in force)",
            response=RetentionTableView,
            tag=PUBLIC,
        )
    },
)
resource(
    bp,
    name="retention_page",
    route="retention/page",
    handlers={
        "GET": Endpoint(public.page, "The retention table as a page to read", tag=PUBLIC, media_type="text/html")
    },
)

# ---- staff ---------------------------------------------------------------------------------------

resource(
    bp,
    name="retention_holds",
    route="staff/legal-holds",
    handlers={
        "POST": Endpoint(
            staff.place_hold,
            "Place a legal hold on a subject or a request (GDPR Art. 17(3)(e)); the same hold again is the "
            "same hold (role Privacy.Officer)",
            request=PlaceHoldRequest,
            response=HoldView,
            status=201,
            replay_status=200,
            security="staff",
            tag=STAFF,
            errors=(HoldTargetNotFound, HoldEndInPast, 503),
        ),
        "GET": Endpoint(
            staff.list_holds,
            "Legal holds, newest first (role Privacy.Officer)",
            response=HoldListView,
            query=HoldListQuery,
            security="staff",
            tag=STAFF,
        ),
    },
)
resource(
    bp,
    name="retention_hold",
    route="staff/legal-holds/{holdId}",
    handlers={
        "GET": Endpoint(
            staff.get_hold,
            "One legal hold (role Privacy.Officer)",
            response=HoldView,
            security="staff",
            tag=STAFF,
            path={"holdId": HoldId},
            errors=(NotFound,),
        )
    },
)
resource(
    bp,
    name="retention_hold_release",
    route="staff/legal-holds/{holdId}/release",
    handlers={
        "POST": Endpoint(
            staff.release_hold,
            "Release a legal hold: what it kept is purged and erased again as due (role Privacy.Officer)",
            request=ReleaseHoldRequest,
            response=ReleasedView,
            security="staff",
            tag=STAFF,
            path={"holdId": HoldId},
            errors=(NotFound, HoldNotInForce, 503),
        )
    },
)
resource(
    bp,
    name="retention_runs",
    route="staff/retention/runs",
    handlers={
        "GET": Endpoint(
            staff.list_runs,
            "Reports of recent purge runs, newest first (role Privacy.Officer)",
            response=RunListView,
            query=RunListQuery,
            security="staff",
            tag=STAFF,
        )
    },
)
resource(
    bp,
    name="retention_run",
    route="staff/retention/runs/{runId}",
    handlers={
        "GET": Endpoint(
            staff.get_run,
            "One purge run's report (role Privacy.Officer)",
            response=RunReportView,
            security="staff",
            tag=STAFF,
            path={"runId": RunId},
            errors=(NotFound,),
        )
    },
)
resource(
    bp,
    name="retention_dry_run",
    route="staff/retention/dry-run",
    handlers={
        "POST": Endpoint(
            staff.dry_run,
            "What a purge would remove now, per rule, with the oldest item's age; changes nothing "
            "(role Privacy.Officer)",
            response=DryRunView,
            security="staff",
            tag=STAFF,
        )
    },
)

# ---- timer ---------------------------------------------------------------------------------------


@bp.function_name("retention_purge")
@bp.timer_trigger(arg_name="timer", schedule="%RETENTION_SCHEDULE%", run_on_startup=False)
def purge(timer: func.TimerRequest) -> None:
    report = services().retention_run.run()
    log.info("retention purge run_id=%s outcome=%s past_due=%s", report.id, report.outcome, timer.past_due)
    if report.failures:
        # A failed invocation is what the failed-executions alert counts; the failing rules are
        # retried by the next run, the others are done.
        raise RetentionRunFailed(report.failures)
