"""The people a breach affects (``incident-recipients``, one partition per incident): their addresses
only as long as the notices to them and the following of their delivery need; the record that they
were affected (the keyed hash of the address, their user id) as long as the breach record itself.

Both rules count from the incident (when its people were notified; when it was recorded), so a purge
walks the incidents past the cutoff, oldest first, and then their recipients: a recipient cleared or
deleted stops matching, so every chunk, run and crash simply continues. Once an incident's recipients
are all done the incident is marked (``purgedAt``): the incident's own rule, declared after this one,
waits for that mark, and addresses are cleared again only after a later notice used them (a further
phase, GDPR Art. 33(4), for which staff record the addresses again). A held incident's people stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.containers import INCIDENT_RECIPIENTS, INCIDENTS
from core.ports import Document
from functions.inventory.accounts import PURGED_AT, done_by, mark_item_done
from functions.inventory.kinds.cosmos import clear_fields
from functions.inventory.locations import (
    NotInRequests,
    Preview,
    PurgeScope,
    PurgeStep,
    StoredLocation,
    TimeLeft,
    location_kind,
)
from functions.inventory.periods import stored_cutoff
from functions.inventory.purging import moment


@location_kind("incident-recipients")
class IncidentRecipientsLocation(NotInRequests, StoredLocation):
    def _incidents(self, scope: PurgeScope, held: bool | None, limit: int | None = None) -> list[Document]:
        """Incidents past the rule's cutoff that it has not finished with, oldest first: those no hold
        covers (``held`` False), only held ones (True), or all (None)."""
        rule, store = scope.rule, self.systems.store
        clock, mark = f"c.{rule.field}", f"c.{PURGED_AT}['{rule.id}']"
        # Addresses are cleared again after a later notice; what is deleted stays deleted.
        unfinished = (
            f"(NOT IS_DEFINED({mark}) OR {mark} <= {clock})" if rule.action == "clear" else f"NOT {done_by(rule.id)}"
        )
        clauses = [f"{clock} < @cutoff", unfinished]
        parameters: dict[str, Any] = {"@cutoff": stored_cutoff(scope.cutoff)}
        if held is not None and scope.holds.incident_ids:
            clauses.append(f"{'' if held else 'NOT '}ARRAY_CONTAINS(@heldIncidents, c.id)")
            parameters["@heldIncidents"] = sorted(scope.holds.incident_ids)
        elif held:
            return []
        top = f"TOP {int(limit)} " if limit is not None else ""
        sql = f"SELECT {top}c.id, {clock} FROM c WHERE {' AND '.join(clauses)} ORDER BY {clock}"  # noqa: S608 - ours
        return list(store.query_across_partitions(INCIDENTS, sql, parameters))

    def _where(self, scope: PurgeScope) -> str:
        addressed = " AND IS_STRING(c.email)" if scope.rule.action == "clear" else ""
        return f"ARRAY_CONTAINS(@incidents, c.incidentId){addressed}"

    def _recipients(self, scope: PurgeScope, incidents: list[str], limit: int) -> list[Document]:
        sql = f"SELECT TOP {int(limit)} c.id, c.incidentId FROM c WHERE {self._where(scope)}"  # noqa: S608 - ours
        return list(self.systems.store.query_across_partitions(INCIDENT_RECIPIENTS, sql, {"@incidents": incidents}))

    def _count(self, scope: PurgeScope, incidents: list[str]) -> int:
        if not incidents:
            return 0
        sql = f"SELECT VALUE COUNT(1) FROM c WHERE {self._where(scope)}"  # noqa: S608 - ours
        return int(self.systems.store.query_value(INCIDENT_RECIPIENTS, sql, {"@incidents": incidents}) or 0)

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        rule, store, step = scope.rule, self.systems.store, PurgeStep()
        incidents = [str(i["id"]) for i in self._incidents(scope, held=False, limit=limit)]
        if incidents:
            due = self._recipients(scope, incidents, limit)
            for recipient in due:
                if not time_left():
                    return step
                step.examined += 1
                recipient_id, incident_id = str(recipient["id"]), str(recipient["incidentId"])
                if rule.action == "clear":
                    purged = clear_fields(store, INCIDENT_RECIPIENTS, recipient_id, incident_id, rule.fields)
                else:
                    purged = store.delete(INCIDENT_RECIPIENTS, recipient_id, incident_id)
                step.purged += purged
                step.skipped += not purged
            if len(due) == limit:
                return step  # there may be more of these incidents' people
            for incident_id in incidents:  # none of their people is left to do: the incidents are finished
                if not time_left():
                    return step
                mark_item_done(store, INCIDENTS, incident_id, incident_id, rule.id, scope.now, renew=True)
            if len(incidents) == limit:
                return step
        step.done = True
        step.held = self._count(scope, [str(i["id"]) for i in self._incidents(scope, held=True)])
        return step

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        due = self._incidents(scope, held=False)
        oldest: datetime | None = None
        for incident in due:  # oldest first: the first with anyone left to do
            if self._count(scope, [str(incident["id"])]):
                oldest = moment(incident.get(str(scope.rule.field)))
                break
        return Preview(
            due=self._count(scope, [str(i["id"]) for i in due]),
            held=self._count(scope, [str(i["id"]) for i in self._incidents(scope, held=True)]),
            oldest=oldest,
        )
