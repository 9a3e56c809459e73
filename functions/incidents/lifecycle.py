"""The words of a breach incident: its states, its notices' and batches' states, queues and role."""

from __future__ import annotations

from enum import StrEnum

INCIDENT_ROLE = "Privacy.Incident"
DISPATCH_QUEUE = "incident-dispatch"  # declared in declarations/storage.json
SELECTION_QUEUE = "incident-selection"
EVENTS_QUEUE = "incident-events"
BATCH_SIZE = 1000  # SendGrid: at most 1,000 personalizations and 1,000 recipients per request


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class NoticeStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    DISPATCHING = "dispatching"
    SENT = "sent"


class BatchStatus(StrEnum):
    RECORDED = "recorded"  # composed and stored, not yet handed to SendGrid
    SENDING = "sending"  # handed over; a crash here is resolved by SendGrid's delivery events
    SENT = "sent"
    REJECTED = "rejected"  # SendGrid refused it (4xx): shown to staff, the rest go on
    UNCONFIRMED = "unconfirmed"  # interrupted, and no event tells whether it went: staff decide


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # in a batch handed to SendGrid
    PROCESSED = "processed"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounce"
    DROPPED = "dropped"
    REJECTED = "rejected"  # its batch was refused


# What a later event may not undo: a delivered mail stays delivered if a late "processed" arrives.
FINAL_DELIVERY = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.BOUNCED, DeliveryStatus.DROPPED})
