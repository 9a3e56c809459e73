"""The audit trail: one record per staff read or action, who did what to which subject, and when.

Records are partitioned by month; auditors read them back filtered by actor, target and time.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.containers import AUDIT
from core.ports import Clock, DocumentStore, Page

log = logging.getLogger("privacy.audit")

AUDIT_PAGE_LIMIT = 200


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditTrail:
    def __init__(self, store: DocumentStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def record(self, actor: str, action: str, target: str, details: dict[str, Any] | None = None) -> str:
        now = self._clock.now()
        record_id = uuid.uuid4().hex
        self._store.create(
            AUDIT,
            {
                "id": record_id,
                "month": now.strftime("%Y-%m"),
                "at": now.isoformat(),
                "actor": actor,
                "action": action,
                "target": target,
                "details": details or {},
            },
        )
        log.info("audit action=%s audit_id=%s", action, record_id)
        return record_id

    def search(self, query: AuditQuery, page_size: int, continuation: str | None) -> Page:
        """Newest first. Times are compared as ISO text, which orders like time for one offset (UTC)."""
        clauses, parameters = ["1 = 1"], {}
        if query.actor:
            clauses.append("c.actor = @actor")
            parameters["@actor"] = query.actor
        if query.target:
            clauses.append("c.target = @target")
            parameters["@target"] = query.target
        if query.since:
            clauses.append("c.at >= @since")
            parameters["@since"] = query.since.isoformat()
        if query.until:
            clauses.append("c.at < @until")
            parameters["@until"] = query.until.isoformat()
        sql = f"SELECT * FROM c WHERE {' AND '.join(clauses)} ORDER BY c.at DESC"  # noqa: S608 - fixed clauses
        return self._store.query_page(AUDIT, sql, parameters, min(page_size, AUDIT_PAGE_LIMIT), continuation)
