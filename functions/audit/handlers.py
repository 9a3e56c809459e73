"""The audit trail, read back by auditors: who did what to which subject, and when."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.audit import AuditQuery
from core.auth import require_role
from core.http import RequestContext, model_response
from functions.audit.models import AuditPageView, AuditQueryParams, AuditRecordView

AUDITOR_ROLE = "Privacy.Auditor"


def read_audit(ctx: RequestContext) -> func.HttpResponse:
    staff = services().staff_tokens.principal_from_header(ctx.header("authorization"))
    require_role(staff, AUDITOR_ROLE)
    params = ctx.query_model(AuditQueryParams)
    query = AuditQuery(actor=params.actor, target=params.target, since=params.since, until=params.until)
    page = services().audit.search(query, params.page_size, params.continuation)
    filters = sorted(name for name in ("actor", "target", "since", "until") if getattr(params, name) is not None)
    services().audit.record(staff.subject, "audit.read", "audit", {"filters": filters, "count": len(page.items)})
    records = [AuditRecordView.model_validate(record) for record in page.items]
    return model_response(AuditPageView(records=records, continuation=page.continuation))
