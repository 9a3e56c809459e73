"""What the retention purge keeps about itself in ``retention`` (no personal data in any of it).

- ``RunState`` (one document): the lease of the run in progress, renewed with every chunk, and a
  cursor per rule: whether the rule finished, and where a rule that walks its candidates stopped.
- ``RunReport`` (one per run): per rule its cutoff, the items examined, purged, held and skipped, the
  error classes, the items that failed (by keyed reference), whether it finished and how long it
  took. Reports expire on their own (ttl).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, PrivateAttr

from core.models import StoredDocument, UtcDateTime
from functions.inventory.locations import PurgeStep

STATE_ID = "state"
REPORT_KIND = "report"
REPORT_LIFETIME = timedelta(days=400)  # reports are read for a year of runs, then expire (Cosmos TTL)

Outcome = Literal["running", "finished", "unfinished", "failed", "skipped", "interrupted"]


class RuleCursor(StoredDocument):
    done: bool = False  # the rule finished its last pass
    bookmark: dict[str, Any] = Field(default_factory=dict)  # the location's own place in its candidates
    run_id: str | None = None
    updated_at: UtcDateTime | None = None


class RunState(StoredDocument):
    id: str = STATE_ID
    kind: str = STATE_ID
    lease_run_id: str | None = None
    lease_until: UtcDateTime | None = None
    resume_at: str | None = None  # the rule the next run starts with: where the last one stopped
    cursors: dict[str, RuleCursor] = Field(default_factory=dict)

    _etag: str | None = PrivateAttr(default=None)

    @classmethod
    def from_stored(cls, document: dict[str, Any], etag: str | None) -> RunState:
        state = cls.model_validate(document)
        state._etag = etag
        return state

    @property
    def etag(self) -> str | None:
        return self._etag

    def leased_to_another(self, run_id: str, now: datetime) -> bool:
        return self.lease_run_id not in (None, run_id) and self.lease_until is not None and now < self.lease_until

    def cursor(self, rule_id: str) -> RuleCursor:
        return self.cursors.get(rule_id) or RuleCursor()


class FailedItem(StoredDocument):
    """An item the rule could not purge in this run (functions.inventory.purging.Attempts)."""

    item: str  # its keyed reference: the same item reads the same in every report, without its id
    error: str  # the error's class, never its message
    tries: int
    parked: bool  # failed too often: tried again only after a pause


class RuleReport(StoredDocument):
    rule: str
    location: str
    cutoff: UtcDateTime
    examined: int = 0
    purged: int = 0
    held: int = 0
    skipped: int = 0
    errors: list[str] = Field(default_factory=list)  # error classes, never messages
    failed: list[FailedItem] = Field(default_factory=list)  # items that failed in this run
    failing: int = 0  # items on record as failing when the rule stopped, waiting for their next try
    finished: bool = False
    duration_ms: int = 0

    def add(self, step: PurgeStep) -> None:
        """Counts one chunk in; each error class is named once."""
        self.examined += step.examined
        self.purged += step.purged
        self.skipped += step.skipped
        self.held += step.held
        self.failed += [FailedItem.model_validate(vars(failure)) for failure in step.failed]
        self.failing = step.failing
        for error in [f.error for f in step.failed] + ([step.broken] if step.broken else []):
            if error not in self.errors:
                self.errors.append(error)


class RunReport(StoredDocument):
    id: str
    kind: str = REPORT_KIND
    trigger: str  # schedule, or the staff member who asked
    started_at: UtcDateTime
    finished_at: UtcDateTime | None = None
    outcome: Outcome = "running"
    rules: list[RuleReport] = Field(default_factory=list)
    holds_followed_up: int = 0  # holds whose end was acted on: archives freed, held erasures resumed
    errors: list[str] = Field(default_factory=list)  # error classes outside the rules (following up holds)
    ttl: int = int(REPORT_LIFETIME.total_seconds())

    @property
    def failures(self) -> dict[str, list[str]]:
        failed = {rule.rule: rule.errors for rule in self.rules if rule.errors}
        if self.errors:
            failed["legal-holds.follow-up"] = self.errors
        return failed
