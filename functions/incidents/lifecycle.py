"""The words of a breach incident: its states, its notices' states, its queue and its staff role."""

from __future__ import annotations

from enum import StrEnum

INCIDENT_ROLE = "Privacy.Incident"
SELECTION_QUEUE = "incident-selection"  # declared in declarations/storage.json


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class IncidentNoticeStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    DISPATCHING = "dispatching"
    SENT = "sent"
