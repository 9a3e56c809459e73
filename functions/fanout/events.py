"""SendGrid's Event Webhook: signed batches of delivery events, each applied once per recipient.

The endpoint only checks and queues: a batch counts only with a valid signature over its timestamp
and raw body and a timestamp within the accepted window; its events, grouped by our batch and
without addresses (a recipient is named by the keyed hash of the address), go to a queue and the
answer is immediate (SendGrid retries slow answers). The worker applies a group to its batch
document in one write, where the ids of events already applied are kept: a replayed event
(same ``sg_event_id``) changes nothing, and a late "processed" never undoes "delivered".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from core.ports import Clock, WorkQueue
from core.pseudonyms import keyed_hash
from functions.fanout.batch_record import Batch, Delivery
from functions.fanout.batches import BatchRepository
from functions.fanout.dispatch import FanOutConfig
from functions.fanout.errors import InvalidEventSignature
from functions.fanout.lifecycle import EVENTS_QUEUE, FINAL_DELIVERY, BatchStatus, DeliveryStatus
from functions.fanout.ports import EventSignatures, OptOutEvent, OptOutListener

log = logging.getLogger("privacy.fanout")


EVENT_STATUS = {
    "processed": DeliveryStatus.PROCESSED,
    "delivered": DeliveryStatus.DELIVERED,
    "deferred": DeliveryStatus.DEFERRED,
    "bounce": DeliveryStatus.BOUNCED,
    "dropped": DeliveryStatus.DROPPED,
}
E = TypeVar("E")
OPT_OUT_EVENTS = frozenset({"unsubscribe", "group_unsubscribe", "group_resubscribe", "spamreport"})
GROUP_SIZE = 150  # events per queue message: well under the queue's 64 KiB


@dataclass(frozen=True)
class Accepted:
    queued: int
    ignored: int  # not ours (no custom args of ours), or an event type we do not track


@dataclass(frozen=True)
class DeliveryEvent:
    event_id: str
    recipient_id: str
    status: DeliveryStatus
    detail: str | None

    def to_message(self) -> list[Any]:
        return [self.event_id, self.recipient_id, self.status.value, self.detail]

    @classmethod
    def from_message(cls, item: Any) -> DeliveryEvent:
        event_id, recipient_id, status, detail = item
        return cls(
            str(event_id), str(recipient_id), DeliveryStatus(status), detail if isinstance(detail, str) else None
        )


class DeliveryEvents:
    def __init__(
        self,
        batches: BatchRepository,
        queue: WorkQueue,
        signatures: EventSignatures,
        clock: Clock,
        config: FanOutConfig,
        pepper: str,
        opt_outs: OptOutListener,
    ) -> None:
        self._batches = batches
        self._opt_outs = opt_outs
        self._queue = queue
        self._signatures = signatures
        self._clock = clock
        self._config = config
        self._pepper = pepper

    def accept(self, body: bytes, signature: str | None, timestamp: str | None) -> Accepted:
        """Checks the batch and queues its events by batch. Nothing is queued from a batch that fails."""
        now = self._clock.now()
        if not signature or not timestamp or not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 10:
            raise InvalidEventSignature()  # ten ASCII digits reach the year 2286: anything else is not SendGrid's
        sent_at = datetime.fromtimestamp(int(timestamp), UTC)
        if abs(now - sent_at) > self._config.event_window or not self._signatures.valid(body, signature, timestamp):
            raise InvalidEventSignature()
        try:
            events = json.loads(body)
        except ValueError:
            raise InvalidEventSignature() from None  # signed, yet not JSON: nothing SendGrid sends
        groups: dict[tuple[str, str], list[DeliveryEvent]] = {}
        opt_outs: list[OptOutEvent] = []
        ignored = 0
        for raw in events if isinstance(events, list) else []:
            opt_out = self._opt_out(raw)
            if opt_out is not None:
                opt_outs.append(opt_out)
                continue
            routed = self._route(raw)
            if routed is None:
                ignored += 1
                continue
            place, event = routed
            groups.setdefault(place, []).append(event)
        queued = 0
        for (mailing_id, batch_id), group in groups.items():
            for part in _parts(group):
                message = {"mailingId": mailing_id, "batchId": batch_id, "events": [e.to_message() for e in part]}
                self._queue.send(EVENTS_QUEUE, message)
                queued += len(part)
        for opt_out_part in _parts(opt_outs):
            rows = [[e.event_id, e.recipient_key, e.kind, e.group_id] for e in opt_out_part]
            self._queue.send(EVENTS_QUEUE, {"optOuts": rows})
            queued += len(rows)
        log.info("sendgrid events queued=%d opt_outs=%d ignored=%d", queued, len(opt_outs), ignored)
        return Accepted(queued, ignored)

    def apply_opt_outs(self, events: list[OptOutEvent]) -> None:
        self._opt_outs.opted_out(events)

    def apply(self, mailing_id: str, batch_id: str, events: list[DeliveryEvent]) -> int:
        """Applies one group to its batch in one write; returns how many events were new."""
        if self._batches.get(mailing_id, batch_id) is None:
            log.info("sendgrid events for no batch of ours dropped count=%d", len(events))
            return 0
        now = self._clock.now()
        applied = 0

        def apply(batch: Batch) -> None:
            nonlocal applied
            applied = 0
            known = set(batch.event_ids)
            members = {r.id for r in batch.recipients}
            for event in events:
                if event.event_id in known or event.recipient_id not in members:
                    continue
                known.add(event.event_id)
                batch.event_ids.append(event.event_id)
                applied += 1
                current = batch.deliveries.get(event.recipient_id)
                if current is not None and current.status in FINAL_DELIVERY and event.status not in FINAL_DELIVERY:
                    continue  # events arrive out of order: a late "processed" does not undo "delivered"
                batch.deliveries[event.recipient_id] = Delivery(status=event.status, at=now, detail=event.detail)
            if applied:
                batch.events_seen, batch.last_event_at = True, now
                if batch.status == BatchStatus.SENDING:
                    batch.status = BatchStatus.SENT  # the events prove SendGrid took it

        self._batches.change(mailing_id, batch_id, apply)
        return applied

    def alive(self) -> bool:
        """Whether authentic events arrived lately: then a batch that has none was not taken."""
        last = self._batches.last_event_at()
        return last is not None and self._clock.now() - last < 2 * self._config.unconfirmed_grace

    def _opt_out(self, raw: Any) -> OptOutEvent | None:
        """An unsubscribe or spam report, from any mail SendGrid sent for us (ours or a campaign's)."""
        if not isinstance(raw, dict) or raw.get("event") not in OPT_OUT_EVENTS:
            return None
        event_id, email, group = raw.get("sg_event_id"), raw.get("email"), raw.get("asm_group_id")
        if not (isinstance(event_id, str) and 0 < len(event_id) < 300 and isinstance(email, str) and email):
            return None
        group_id = group if isinstance(group, int) and not isinstance(group, bool) else None
        return OptOutEvent(event_id, keyed_hash(self._pepper, email), str(raw["event"]), group_id)

    def _route(self, raw: Any) -> tuple[tuple[str, str], DeliveryEvent] | None:
        if not isinstance(raw, dict):
            return None
        fields = [raw.get(name) for name in ("sg_event_id", "mailing_id", "batch_id", "email")]
        if raw.get("event") not in EVENT_STATUS or not all(isinstance(v, str) and v and len(v) < 300 for v in fields):
            return None
        event_id, mailing_id, batch_id, email = (str(v) for v in fields)
        event = DeliveryEvent(event_id, keyed_hash(self._pepper, email), EVENT_STATUS[raw["event"]], _detail(raw))
        return (mailing_id, batch_id), event


def opt_out_from_message(item: Any) -> OptOutEvent:
    event_id, key, kind, group_id = item
    return OptOutEvent(str(event_id), str(key), str(kind), int(group_id) if group_id is not None else None)


def _parts(group: list[E]) -> Iterator[list[E]]:
    for start in range(0, len(group), GROUP_SIZE):
        yield group[start : start + GROUP_SIZE]


def _detail(event: dict[str, Any]) -> str | None:
    """What a bounce or drop tells staff, without the address or the receiving server's own words."""
    parts = [
        str(event[k]) for k in ("type", "status") if isinstance(event.get(k), str | int) and str(event[k]).isascii()
    ]
    if event.get("event") == "dropped" and isinstance(event.get("reason"), str) and "@" not in event["reason"]:
        parts.append(event["reason"][:200])
    return " ".join(parts)[:300] or None
