"""The audit trail: one record per staff action, who did what to which subject, and the outcome."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from core.containers import AUDIT
from core.ports import Clock, DocumentStore

log = logging.getLogger("privacy.audit")


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
