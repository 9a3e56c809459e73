"""The purge's lease, cursors and reports in ``retention``.

The lease is the guard against two runs at once (a scheduled run beside one started by hand, or a
second instance): a run takes it only when no other run renewed it within ``RETENTION_LEASE_SECONDS``,
and every save of its cursors renews it, etag-guarded. A run whose save finds the document changed
has lost the lease to another and stops at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.containers import RETENTION
from core.ports import DocumentChanged, DocumentConflict, DocumentStore
from functions.retention.errors import RunNotFound
from functions.retention.run_records import REPORT_KIND, STATE_ID, RunReport, RunState


class LeaseLost(Exception):
    """Another run took the lease: this one must stop without writing more."""


class RunRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def state(self) -> RunState:
        found = self._store.read(RETENTION, STATE_ID, STATE_ID)
        if found is None:
            return RunState()
        return RunState.from_stored(found.body, found.etag)

    def take_lease(self, run_id: str, now: datetime, lease: timedelta) -> tuple[RunState, str | None] | None:
        """The state with the lease taken by ``run_id``, and the run that held it before (if it died
        holding it); None when another run holds it now."""
        state = self.state()
        if state.leased_to_another(run_id, now):
            return None
        before = state.lease_run_id
        state.lease_run_id, state.lease_until = run_id, now + lease
        try:
            return self._write(state), before
        except (DocumentChanged, DocumentConflict):
            return None  # another run took it at the same moment

    def save(self, state: RunState, now: datetime, lease: timedelta) -> RunState:
        """Saves the cursors and renews the lease; LeaseLost if another run took it meanwhile."""
        state.lease_until = now + lease
        try:
            return self._write(state)
        except (DocumentChanged, DocumentConflict):
            raise LeaseLost() from None

    def release(self, state: RunState) -> RunState:
        state.lease_run_id, state.lease_until = None, None
        try:
            return self._write(state)
        except (DocumentChanged, DocumentConflict):
            raise LeaseLost() from None

    def _write(self, state: RunState) -> RunState:
        if state.etag is None:
            saved = self._store.create(RETENTION, state.to_document())
        else:
            saved = self._store.replace(RETENTION, state.to_document(), state.etag)
        return RunState.from_stored(saved.body, saved.etag)

    def save_report(self, report: RunReport) -> None:
        self._store.upsert(RETENTION, report.to_document())

    def report(self, run_id: str) -> RunReport:
        found = self._store.read(RETENTION, run_id, REPORT_KIND)
        if found is None:
            raise RunNotFound()
        return RunReport.model_validate(found.body)

    def recent_reports(self, limit: int) -> list[RunReport]:
        documents = self._store.query(
            RETENTION,
            REPORT_KIND,
            f"SELECT TOP {int(limit)} * FROM c WHERE c.kind = @kind ORDER BY c.startedAt DESC",  # noqa: S608 - an int
            {"@kind": REPORT_KIND},
        )
        return [RunReport.model_validate(d) for d in documents]

    def mark_interrupted(self, run_id: str) -> None:
        """A run that died holding the lease: its report says it did not finish."""
        found = self._store.read(RETENTION, run_id, REPORT_KIND)
        if found is None or found.body.get("outcome") != "running":
            return
        try:
            self._store.replace(RETENTION, {**found.body, "outcome": "interrupted"}, found.etag)
        except DocumentChanged:
            return  # written meanwhile: the run was alive after all
