"""Incidents → API views: the facts, each legal clock with its citation, the notices and what they lack."""

from __future__ import annotations

from functions.fanout.reports import MailingDelivery
from functions.incidents import contents
from functions.incidents.deadline_watch import stopped
from functions.incidents.incident_record import Incident
from functions.incidents.models import (
    ClockView,
    IncidentNoticeActionView,
    IncidentNoticeView,
    IncidentView,
    NoticeDeliveryView,
)
from functions.incidents.reporting import incident_clocks


def incident_view(incident: Incident) -> IncidentView:
    delay = incident.law_enforcement_delay
    notices = [
        IncidentNoticeView.model_validate(
            {
                **notice.model_dump(),
                "incident_id": incident.id,
                "missing": contents.missing_parts(
                    notice.content.model_dump(by_alias=True), delay is not None, incident.breach_time is not None
                ),
            }
        )
        for notice in incident.notices
    ]
    clocks = [
        ClockView(
            jurisdiction=clock.rule.jurisdiction,
            audience=clock.rule.audience.value,
            citation=clock.rule.citation,
            source=clock.rule.source,
            due_at=clock.due_at,
            note=clock.note,
            stopped=stopped(incident, clock),
        )
        for clock in incident_clocks(incident)
    ]
    return IncidentView(
        **incident.model_dump(
            include={
                "id",
                "status",
                "title",
                "aware_at",
                "determined_at",
                "description",
                "categories",
                "approx_people",
                "approx_records",
                "jurisdictions",
                "residents",
                "contact_point",
                "recipients",
                "selection_running",
            }
        ),
        breach_time=incident.breach_time.describe() if incident.breach_time else None,
        assessed=incident.assessment is not None,
        authority_filed_at=incident.authority_filing.filed_at if incident.authority_filing else None,
        law_enforcement_delay_until=delay.until if delay else None,
        clocks=clocks,
        notices=notices,
        warnings=[f"{w.clock} {w.kind} {w.at.isoformat()}" for w in incident.warnings],
    )


def notice_action_view(incident: Incident, notice_id: str) -> IncidentNoticeActionView:
    """The incident, with the notice an action was on named by itself as well."""
    view = incident_view(incident)
    (notice,) = (n for n in view.notices if n.id == notice_id)
    return IncidentNoticeActionView(**dict(view), notice=notice)


def delivery_view(report: MailingDelivery, phase: int) -> NoticeDeliveryView:
    return NoticeDeliveryView.model_validate({**report.__dict__, "phase": phase})
