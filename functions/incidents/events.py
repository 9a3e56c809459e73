"""SendGrid's Event Webhook: signed batches of delivery events, each recorded once per recipient.

An event batch counts only with a valid signature over its timestamp and raw body, and a
timestamp within the accepted window; a replayed event (same ``sg_event_id``) changes nothing.
Events carry our ``custom_args`` (incident, notice, batch), which route them to the recipient.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.containers import WEBHOOK_EVENTS
from core.ports import Clock, DocumentConflict, DocumentStore
from core.pseudonyms import keyed_hash
from functions.incidents.config import IncidentConfig
from functions.incidents.errors import InvalidEventSignature
from functions.incidents.lifecycle import FINAL_DELIVERY, BatchStatus, DeliveryStatus
from functions.incidents.ports import EventSignatures
from functions.incidents.recipient_record import Batch, Delivery, Recipient
from functions.incidents.repository import IncidentRepository

log = logging.getLogger("privacy.incidents")

EVENT_STATUS = {
    "processed": DeliveryStatus.PROCESSED,
    "delivered": DeliveryStatus.DELIVERED,
    "deferred": DeliveryStatus.DEFERRED,
    "bounce": DeliveryStatus.BOUNCED,
    "dropped": DeliveryStatus.DROPPED,
}
HEARTBEAT_ID = "last-event-batch"  # when an authentic event batch last arrived


@dataclass
class EventsRecorded:
    recorded: int = 0
    duplicates: int = 0
    ignored: int = 0  # not ours (no custom args of ours), or an event type we do not track
    by_kind: dict[str, int] = field(default_factory=dict)


class DeliveryEvents:
    def __init__(
        self,
        incidents: IncidentRepository,
        store: DocumentStore,
        signatures: EventSignatures,
        clock: Clock,
        config: IncidentConfig,
        pepper: str,
    ) -> None:
        self._incidents = incidents
        self._store = store
        self._signatures = signatures
        self._clock = clock
        self._config = config
        self._pepper = pepper

    def record(self, body: bytes, signature: str | None, timestamp: str | None) -> EventsRecorded:
        """Checks the batch, then records each event once. Nothing is recorded from a batch that fails."""
        now = self._clock.now()
        if not signature or not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
            raise InvalidEventSignature()
        sent_at = datetime.fromtimestamp(int(timestamp), UTC)
        if abs(now - sent_at) > self._config.event_window or not self._signatures.valid(body, signature, timestamp):
            raise InvalidEventSignature()
        try:
            events = json.loads(body)
        except ValueError:
            raise InvalidEventSignature() from None  # signed, yet not JSON: nothing SendGrid would send
        result = EventsRecorded()
        for event in events if isinstance(events, list) else []:
            self._record_one(event, result)
        self._store.upsert(WEBHOOK_EVENTS, {"id": HEARTBEAT_ID, "at": now.isoformat()})
        log.info(
            "sendgrid events recorded=%d duplicates=%d ignored=%d", result.recorded, result.duplicates, result.ignored
        )
        return result

    def alive(self) -> bool:
        """Whether authentic events arrived lately: then a batch with no event was not taken."""
        found = self._store.read(WEBHOOK_EVENTS, HEARTBEAT_ID, HEARTBEAT_ID)
        if found is None:
            return False
        last = datetime.fromisoformat(str(found.body["at"]))
        return self._clock.now() - last < 2 * self._config.unconfirmed_grace

    def _record_one(self, event: Any, result: EventsRecorded) -> None:
        if not isinstance(event, dict):
            result.ignored += 1
            return
        kind, event_id = event.get("event"), event.get("sg_event_id")
        incident_id, notice_id, batch = event.get("incident_id"), event.get("notice_id"), event.get("batch_id")
        email = event.get("email")
        ours = all(isinstance(v, str) and v for v in (incident_id, notice_id, batch, email, event_id))
        if not ours or kind not in EVENT_STATUS:
            result.ignored += 1
            return
        try:
            self._store.create(WEBHOOK_EVENTS, {"id": event_id, "kind": kind})
        except DocumentConflict:
            result.duplicates += 1
            return
        status = EVENT_STATUS[kind]
        detail = _detail(event)
        self._deliver(
            str(incident_id), str(notice_id), str(batch), keyed_hash(self._pepper, str(email)), status, detail
        )
        result.recorded += 1
        result.by_kind[kind] = result.by_kind.get(kind, 0) + 1

    def _deliver(
        self,
        incident_id: str,
        notice_id: str,
        batch_id: str,
        recipient_id: str,
        status: DeliveryStatus,
        detail: str | None,
    ) -> None:
        now = self._clock.now()
        if self._incidents.recipient(incident_id, recipient_id) is None:
            return  # an event for someone we never mailed under this incident: nothing to update

        def update(recipient: Recipient) -> None:
            current = recipient.deliveries.get(notice_id)
            if current is not None and current.status in FINAL_DELIVERY and status == DeliveryStatus.PROCESSED:
                return  # events arrive out of order: a late "processed" does not undo "delivered"
            recipient.deliveries[notice_id] = Delivery(status=status, at=now, batch_id=batch_id, detail=detail)

        self._incidents.change_recipient(incident_id, recipient_id, update)

        def seen(batch: Batch) -> None:
            batch.events_seen = True
            if batch.status == BatchStatus.SENDING:
                batch.status = BatchStatus.SENT  # the events prove SendGrid took it

        stored = self._incidents.batch(notice_id, batch_id)
        if stored is not None and not stored.events_seen:  # once per batch, not once per event
            self._incidents.change_batch(notice_id, batch_id, seen)


def _detail(event: dict[str, Any]) -> str | None:
    """What a bounce or drop tells staff, without the address or the receiving server's own words."""
    parts = [
        str(event[k]) for k in ("type", "status") if isinstance(event.get(k), str | int) and str(event[k]).isascii()
    ]
    if event.get("event") == "dropped" and isinstance(event.get("reason"), str) and "@" not in event["reason"]:
        parts.append(event["reason"][:200])
    return " ".join(parts)[:300] or None
