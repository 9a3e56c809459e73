"""The audit trail's HTTP function."""

from __future__ import annotations

import azure.functions as func

from core.http import resource
from core.openapi import Endpoint
from core.ports import InvalidContinuation
from functions.audit.handlers import read_audit
from functions.audit.models import AuditPageView, AuditQueryParams

bp = func.Blueprint()

resource(
    bp,
    name="staff_audit",
    route="staff/audit",
    handlers={
        "GET": Endpoint(
            read_audit,
            "The audit trail, newest first, filtered by actor, target and time (role Privacy.Auditor)",
            response=AuditPageView,
            security="staff",
            tag="staff",
            query=AuditQueryParams,
            errors=(InvalidContinuation,),
        )
    },
)
