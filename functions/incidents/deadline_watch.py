"""The hourly watch over every open incident's legal clocks: staff are warned before each deadline
and when one has passed, once each, by mail and in the incident. A clock stops when its duty is
done: the authority's when the filing is recorded (or staff decided it need not be told), the
people's when a notice has gone out to them (or staff decided they need not be told)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from core.ports import Clock, Mailer, MailNotSent
from functions.incidents.clocks import Audience
from functions.incidents.clocks import Clock as LegalClock
from functions.incidents.config import IncidentConfig
from functions.incidents.incident_record import ClockWarning, Incident
from functions.incidents.lifecycle import IncidentStatus
from functions.incidents.reporting import incident_clocks
from functions.incidents.repository import IncidentRepository

log = logging.getLogger("privacy.incidents")


def clock_key(clock: LegalClock) -> str:
    return f"{clock.rule.jurisdiction}/{clock.rule.audience.value}"


def stopped(incident: Incident, clock: LegalClock) -> bool:
    assessment = incident.assessment
    if clock.rule.audience == Audience.AUTHORITY:
        declined = assessment is not None and not assessment.notify_authority
        return incident.authority_filing is not None or declined
    declined = assessment is not None and not assessment.notify_people
    return incident.first_notice_sent_at() is not None or declined


@dataclass
class WatchResult:
    due_soon: list[str] = field(default_factory=list)  # "<incident id> <clock>"
    passed: list[str] = field(default_factory=list)


def _warn_once(warnings: list[ClockWarning]) -> Callable[[Incident], None]:
    def add(incident: Incident) -> None:
        for warning in warnings:
            if not any(w.clock == warning.clock and w.kind == warning.kind for w in incident.warnings):
                incident.warnings.append(warning)

    return add


class DeadlineWatch:
    def __init__(self, incidents: IncidentRepository, mailer: Mailer, clock: Clock, config: IncidentConfig) -> None:
        self._incidents = incidents
        self._mailer = mailer
        self._clock = clock
        self._config = config

    def run(self) -> WatchResult:
        now = self._clock.now()
        result = WatchResult()
        for incident in self._incidents.all(IncidentStatus.OPEN):
            new: list[ClockWarning] = []
            for clock in incident_clocks(incident):
                if clock.due_at is None or stopped(incident, clock):
                    continue
                kind = (
                    "passed"
                    if clock.due_at <= now
                    else "due-soon"
                    if clock.due_at - now <= self._config.warn_before
                    else None
                )
                if kind is None or any(w.clock == clock_key(clock) and w.kind == kind for w in incident.warnings):
                    continue
                new.append(ClockWarning(clock=clock_key(clock), kind=kind, at=now))
                (result.passed if kind == "passed" else result.due_soon).append(f"{incident.id} {clock_key(clock)}")
            if new:
                self._incidents.change(incident.id, _warn_once(new))
        self._tell_staff(result)
        return result

    def _tell_staff(self, result: WatchResult) -> None:
        if not self._config.staff_email or not (result.due_soon or result.passed):
            return
        text = "Deadlines passed:\n" + "\n".join(result.passed or ["(none)"])
        text += "\n\nDue within 24 hours:\n" + "\n".join(result.due_soon or ["(none)"])
        subject = f"Breach incidents: {len(result.passed)} deadline(s) passed, {len(result.due_soon)} due soon"
        try:
            self._mailer.send(self._config.staff_email, subject, text, "incident-deadlines")
        except MailNotSent:
            log.warning("incident deadline warning not mailed (mail service); it shows in the incident")
