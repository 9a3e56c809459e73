"""Query and views of the audit trail API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from core.models import Body, QueryTime, View


class AuditQueryParams(Body):
    actor: str | None = Field(default=None, max_length=128, description="Staff subject (token sub).")
    target: str | None = Field(default=None, max_length=200, description="What was acted on, e.g. dsr:<request id>.")
    since: QueryTime | None = Field(default=None, description="RFC 3339 with its offset, inclusive.")
    until: QueryTime | None = Field(default=None, description="RFC 3339 with its offset, exclusive.")
    page_size: int = Field(default=50, ge=1, le=200)
    continuation: str | None = Field(default=None, max_length=4000)


class AuditRecordView(View):
    id: str
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


class AuditPageView(View):
    records: list[AuditRecordView]
    continuation: str | None
