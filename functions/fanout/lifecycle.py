"""The words of the fan-out: queues, the batch size, and the states of batches and deliveries."""

from __future__ import annotations

from enum import StrEnum

DISPATCH_QUEUE = "mail-dispatch"  # declared in declarations/storage.json
EVENTS_QUEUE = "mail-events"
BATCH_SIZE = 1000  # SendGrid: at most 1,000 personalizations and 1,000 recipients per request


class BatchStatus(StrEnum):
    RECORDED = "recorded"  # composed and stored, not yet handed to SendGrid
    SENDING = "sending"  # handed over; a crash here is resolved by SendGrid's delivery events
    SENT = "sent"
    REJECTED = "rejected"  # SendGrid refused it (4xx): shown to staff, the rest go on
    UNCONFIRMED = "unconfirmed"  # interrupted, and no event tells whether it went: staff decide


class DeliveryStatus(StrEnum):
    PROCESSED = "processed"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounce"
    DROPPED = "dropped"


# What a later event may not undo: a delivered mail stays delivered if a late "processed" arrives.
FINAL_DELIVERY = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.BOUNCED, DeliveryStatus.DROPPED})
