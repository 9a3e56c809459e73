"""What staff file and read: the authority report (GDPR Art. 33(3)) and the delivery report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from functions.incidents.clocks import Clock, clocks
from functions.incidents.incident_record import Incident
from functions.incidents.lifecycle import BatchStatus, DeliveryStatus
from functions.incidents.repository import IncidentRepository

REACHED = frozenset({DeliveryStatus.DELIVERED})


def incident_clocks(incident: Incident) -> list[Clock]:
    delay = incident.law_enforcement_delay
    return clocks(
        incident.jurisdictions,
        incident.aware_at,
        incident.determined_at,
        incident.residents,
        incident.first_notice_sent_at(),
        delay.until if delay else None,
    )


def authority_report(incident: Incident, category_names: dict[str, str]) -> dict[str, Any]:
    """GDPR Art. 33(3) (a)-(d), with the times Art. 33(1) asks about, ready to file."""
    filing = incident.authority_filing
    assessment = incident.assessment
    latest_notice = incident.notices[-1] if incident.notices else None
    content = latest_notice.content if latest_notice else None
    return {
        "incidentId": incident.id,
        "title": incident.title,
        "awareAt": incident.aware_at.isoformat(),
        "deadline": (incident.aware_at + timedelta(hours=72)).isoformat(),
        "breachTime": incident.breach_time.describe() if incident.breach_time else None,
        "nature": {  # Art. 33(3)(a)
            "description": incident.description,
            "categoriesOfData": [category_names.get(c, c) for c in incident.categories],
            "approximateDataSubjects": incident.approx_people,
            "approximateRecords": incident.approx_records,
        },
        "contactPoint": incident.contact_point,  # (b)
        "likelyConsequences": content.likely_consequences if content else None,  # (c)
        "measures": content.measures if content else None,  # (d)
        "assessment": assessment.model_dump(mode="json", by_alias=True) if assessment else None,
        "lawEnforcementDelay": (
            incident.law_enforcement_delay.model_dump(mode="json", by_alias=True, exclude={"recorded_by"})
            if incident.law_enforcement_delay
            else None
        ),
        "filing": filing.model_dump(mode="json", by_alias=True) if filing else None,
        "phases": [
            {"phase": n.phase, "status": n.status.value, "sentAt": n.sent_at.isoformat() if n.sent_at else None}
            for n in incident.notices
        ],
    }


@dataclass
class NoticeDelivery:
    notice_id: str
    phase: int
    batches: int = 0
    rejected_batches: int = 0
    unconfirmed_batches: int = 0
    sent: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # delivered, bounce, dropped, deferred, processed, unknown


def delivery_report(incidents: IncidentRepository, incident: Incident) -> list[NoticeDelivery]:
    """Per notice: recipients in sent batches, and the last state SendGrid reported for each."""
    reports = []
    for notice in incident.notices:
        report = NoticeDelivery(notice.id, notice.phase)
        counts: dict[str, int] = {}
        for batch in incidents.batches(notice.id):
            report.batches += 1
            report.rejected_batches += batch.status == BatchStatus.REJECTED
            report.unconfirmed_batches += batch.status == BatchStatus.UNCONFIRMED
            if batch.status != BatchStatus.SENT:
                continue
            report.sent += batch.size
            for delivery in batch.deliveries.values():
                counts[delivery.status.value] = counts.get(delivery.status.value, 0) + 1
            counts["unknown"] = counts.get("unknown", 0) + batch.size - len(batch.deliveries)
        report.counts = counts
        reports.append(report)
    return reports


@dataclass(frozen=True)
class Unreached:
    recipient_id: str
    email: str
    status: str  # bounce, dropped, deferred, processed, rejected (the batch was refused), unknown
    detail: str | None


def unreached(incidents: IncidentRepository, notice_id: str) -> Iterator[Unreached]:
    """Who must be reached another way: everyone not reported delivered, batch by batch."""
    for batch in incidents.batches(notice_id):
        for person in batch.recipients:
            delivery = batch.deliveries.get(person.id)
            if delivery is not None and delivery.status in REACHED:
                continue
            if batch.status == BatchStatus.REJECTED:
                status, detail = "rejected", batch.error
            elif delivery is None:
                status, detail = "unknown", None
            else:
                status, detail = delivery.status.value, delivery.detail
            yield Unreached(person.id, person.email, status, detail)
