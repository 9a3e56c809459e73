"""What legal holds need of breach incidents (``functions.retention.ports.HeldIncidents``): whether the
incident a hold names exists."""

from __future__ import annotations

from functions.incidents.errors import IncidentNotFound
from functions.incidents.repository import IncidentRepository


class IncidentsUnderHold:
    def __init__(self, incidents: IncidentRepository) -> None:
        self._incidents = incidents

    def exists(self, incident_id: str) -> bool:
        try:
            self._incidents.require(incident_id)
        except IncidentNotFound:
            return False
        return True
