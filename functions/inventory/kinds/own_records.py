"""Records of this service's own work in Cosmos DB that hold personal data: breach incidents, mail
batches, the marketing sync's marks, notices and the register of legal disclosures.

No data-subject request looks in them (``find: none``): they are our records about people, kept for
the reason each rule gives. Retention deletes (or clears) what is past its period exactly as it does
for product items (the Cosmos kind's purge, on the container's own partition key); each kind here says
only what a legal hold keeps of its records and which records are never due.
"""

from __future__ import annotations

from typing import Any

from core.containers import DISCLOSURES, INCIDENTS, NOTICES
from core.ports import DocumentStore
from functions.inventory.holds import HeldSet
from functions.inventory.kinds.cosmos import CosmosLocation
from functions.inventory.locations import NotInRequests, PurgeScope, location_kind

HeldClauses = tuple[tuple[str, ...], dict[str, Any]]


class OwnRecordsLocation(NotInRequests, CosmosLocation):
    """Never part of a request: nothing to export, nothing a request erases."""

    counts_before_erasure = False

    def _held(self, scope: PurgeScope) -> HeldClauses:
        return (), {}


def naming_held_users(store: DocumentStore, container: str, holds: HeldSet) -> list[str]:
    """Ids of the records whose ``subjects`` (user ids) name a held user: held with that user. Asked
    only while users are held (few), one query for all of them."""
    users = sorted(holds.user_ids)
    if not users:
        return []
    names = {f"@u{n}": user for n, user in enumerate(users)}
    where = " OR ".join(f"ARRAY_CONTAINS(c.subjects, {name})" for name in names)
    rows = store.query_across_partitions(container, f"SELECT c.id FROM c WHERE {where}", names)  # noqa: S608 - parameters
    return sorted(str(row["id"]) for row in rows)


@location_kind("incidents")
class IncidentsLocation(OwnRecordsLocation):
    """Breach records (GDPR Art. 33(5)); an incident on legal hold stays."""

    def _held(self, scope: PurgeScope) -> HeldClauses:
        return ("NOT ARRAY_CONTAINS(@heldIncidents, c.id)",), {"@heldIncidents": sorted(scope.holds.incident_ids)}


def held_incident_mailings(store: DocumentStore, holds: HeldSet) -> list[str]:
    """The mailing ids (notice ids) of held incidents: their batches are held with them."""
    if not holds.incident_ids:
        return []
    rows = store.query_across_partitions(
        INCIDENTS, "SELECT c.notices FROM c WHERE ARRAY_CONTAINS(@held, c.id)", {"@held": sorted(holds.incident_ids)}
    )
    return sorted({str(notice["id"]) for row in rows for notice in row.get("notices") or []})


@location_kind("mail-batches")
class MailBatchesLocation(OwnRecordsLocation):
    """Batches of mail to many people, with their addresses and what SendGrid reported; the batches
    of a held incident's notices stay."""

    def _held(self, scope: PurgeScope) -> HeldClauses:
        mailings = held_incident_mailings(self.systems.store, scope.holds)
        return ("NOT ARRAY_CONTAINS(@heldMailings, c.mailingId)",), {"@heldMailings": mailings}


@location_kind("marketing-sync")
class MarketingSyncLocation(OwnRecordsLocation):
    """Marks of marketing decisions SendGrid has yet to follow (the sync's lease beside them is no
    one's data and never due); a held subject's marks stay."""

    def _only(self, scope: PurgeScope) -> tuple[str, ...]:
        return ("IS_STRING(c.subjectId)",)

    def _held(self, scope: PurgeScope) -> HeldClauses:
        return (
            ("NOT ARRAY_CONTAINS(@heldSubjects, c.subjectId)",),
            {"@heldSubjects": sorted(scope.holds.consent_subjects)},
        )


@location_kind("notices")
class NoticesLocation(OwnRecordsLocation):
    """Notices we published; one meant for a held user (a legal disclosure's) stays with them."""

    def _held(self, scope: PurgeScope) -> HeldClauses:
        held = naming_held_users(self.systems.store, NOTICES, scope.holds)
        return ("NOT ARRAY_CONTAINS(@heldNotices, c.id)",), {"@heldNotices": held}


@location_kind("disclosures")
class DisclosuresLocation(OwnRecordsLocation):
    """The register of legal disclosures; an entry naming a held user stays with them."""

    def _held(self, scope: PurgeScope) -> HeldClauses:
        held = naming_held_users(self.systems.store, DISCLOSURES, scope.holds)
        return ("NOT ARRAY_CONTAINS(@heldEntries, c.id)",), {"@heldEntries": held}
