"""What staff file and read: the legal clocks of an incident and the authority report (GDPR Art. 33(3))."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from functions.incidents.clocks import Clock, clocks
from functions.incidents.incident_record import Incident


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
