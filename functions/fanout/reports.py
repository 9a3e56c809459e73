"""What a mailing achieved: per batch state, and the last state SendGrid reported for each person."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from functions.fanout.batches import BatchRepository
from functions.fanout.lifecycle import BatchStatus, DeliveryStatus

REACHED = frozenset({DeliveryStatus.DELIVERED})


@dataclass
class MailingDelivery:
    mailing_id: str
    batches: int = 0
    rejected_batches: int = 0
    unconfirmed_batches: int = 0
    sent: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # delivered, bounce, dropped, deferred, processed, unknown


def delivery(batches: BatchRepository, mailing_id: str) -> MailingDelivery:
    report = MailingDelivery(mailing_id)
    for batch in batches.all(mailing_id):
        report.batches += 1
        report.rejected_batches += batch.status == BatchStatus.REJECTED
        report.unconfirmed_batches += batch.status == BatchStatus.UNCONFIRMED
        if batch.status != BatchStatus.SENT:
            continue
        report.sent += batch.size
        for state in batch.deliveries.values():
            report.counts[state.status.value] = report.counts.get(state.status.value, 0) + 1
        report.counts["unknown"] = report.counts.get("unknown", 0) + batch.size - len(batch.deliveries)
    return report


@dataclass(frozen=True)
class Unreached:
    recipient_id: str
    email: str
    status: str  # bounce, dropped, deferred, processed, rejected (the batch was refused), unknown
    detail: str | None


def unreached(batches: BatchRepository, mailing_id: str) -> Iterator[Unreached]:
    """Who must be reached another way: everyone not reported delivered, batch by batch, in id order."""
    for batch in batches.all(mailing_id):
        for person in batch.recipients:
            state = batch.deliveries.get(person.id)
            if state is not None and state.status in REACHED:
                continue
            if batch.status == BatchStatus.REJECTED:
                status, detail = "rejected", batch.error
            elif state is None:
                status, detail = "unknown", None
            else:
                status, detail = state.status.value, state.detail
            yield Unreached(person.id, person.email, status, detail)
