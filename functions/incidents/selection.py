"""Finding an incident's affected people in the data inventory: the users with items in the chosen
locations within the time window, each recorded once with the address from their profile."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.ports import Clock
from core.pseudonyms import keyed_hash
from functions.incidents.incident_record import Incident
from functions.incidents.recipient_record import Recipient
from functions.incidents.repository import IncidentRepository
from functions.inventory.locations import StoredLocation
from functions.requests.ports import Profiles

log = logging.getLogger("privacy.incidents")


@dataclass(frozen=True)
class SelectionMessage:
    incident_id: str
    locations: list[str]
    since: datetime
    until: datetime

    @classmethod
    def parse(cls, data: Any) -> SelectionMessage | None:
        try:
            return cls(
                str(data["incidentId"]),
                [str(x) for x in data["locations"]],
                datetime.fromisoformat(data["since"]),
                datetime.fromisoformat(data["until"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class RecipientSelection:
    def __init__(
        self,
        incidents: IncidentRepository,
        locations: dict[str, StoredLocation],
        profiles: Profiles,
        clock: Clock,
        pepper: str,
    ) -> None:
        self._incidents = incidents
        self._locations = locations
        self._profiles = profiles
        self._clock = clock
        self._pepper = pepper

    def run(self, message: SelectionMessage) -> int:
        """Records the affected people; safe to run again (each address is recorded once)."""
        added = without_address = 0
        for name in message.locations:
            location = self._locations.get(name)
            users = location.affected_users(message.since, message.until) if location else None
            if users is None:
                log.warning("incident selection skipped a location that cannot be searched by time")
                continue
            previous = None
            for user_id in users:  # in user order, so repeats of one user are neighbours
                if user_id == previous:
                    continue
                previous = user_id
                email = self._profiles.email_of(user_id)
                if email is None:
                    without_address += 1
                    continue
                recipient = Recipient(
                    id=keyed_hash(self._pepper, email),
                    incident_id=message.incident_id,
                    email=email,
                    user_id=user_id,
                    source="selection",
                )
                added += self._incidents.add_recipient(recipient)
        total = self._incidents.count_recipients(message.incident_id)
        now = self._clock.now()

        def done(incident: Incident) -> None:
            incident.recipients, incident.selection_running = total, False
            incident.note(now, "selection", "selection-finished", f"added={added} without_address={without_address}")

        self._incidents.change(message.incident_id, done)
        log.info("incident selection added=%d without_address=%d", added, without_address)
        return added
