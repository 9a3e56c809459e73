"""What privacy staff do with retention: place and release legal holds, read the holds and the purge's
reports, and ask for a dry run.

A hold is placed once however often it is asked for (same target, reason and end date: the same
hold), takes effect at once for erasures and from the purge's next chunk, and marks the archives it
covers; its release (or its end date passing) frees them and resumes the erasures it held back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from core.pseudonyms import keyed_hash
from functions.retention.errors import HoldEndInPast, HoldNotInForce, HoldTargetNotFound
from functions.retention.follow_up import HoldFollowUp
from functions.retention.hold_record import HoldKind, LegalHold
from functions.retention.parts import RetentionParts
from functions.retention.ports import Accounts, HeldIncidents, HeldRequests
from functions.retention.run_records import RunReport

log = logging.getLogger("privacy.retention")


@dataclass(frozen=True)
class HoldTarget:
    """Whom or what a hold covers, as staff name it: one of these."""

    kind: HoldKind
    user_id: str | None = None
    email: str | None = None  # turned into its keyed hash at once; never stored
    visitor_id: str | None = None
    request_id: str | None = None
    incident_id: str | None = None


@dataclass(frozen=True)
class DryRunRule:
    rule: str
    location: str
    cutoff: datetime
    due: int
    held: int
    oldest: datetime | None
    error: str | None = None  # the error's class when the location could not be counted


@dataclass(frozen=True)
class DryRun:
    at: datetime
    rules: list[DryRunRule]


class RetentionStaff:
    def __init__(
        self,
        parts: RetentionParts,
        follow_up: HoldFollowUp,
        accounts: Accounts,
        requests: HeldRequests,
        incidents: HeldIncidents,
        pepper: str,
    ) -> None:
        self._parts = parts
        self._holds = parts.holds
        self._follow_up = follow_up
        self._accounts = accounts
        self._requests = requests
        self._incidents = incidents
        self._pepper = pepper

    def place_hold(
        self, target: HoldTarget, reason: str, ends_at: datetime | None, actor: str
    ) -> tuple[LegalHold, bool]:
        """The hold (and whether it is new). Its archives are marked at once; if that fails the hold
        still stands, and the next purge run marks them."""
        now = self._parts.clock.now()
        if ends_at is not None and ends_at <= now:
            raise HoldEndInPast()
        draft = LegalHold(
            id="-",
            kind=target.kind,
            reason=reason,
            ends_at=ends_at,
            placed_by=actor,
            placed_at=now,
            **self._ids(target),
        )
        ids = [draft.kind, draft.user_id, draft.subject_key, draft.visitor_id, draft.request_id]
        if draft.incident_id:  # only when set: holds of the other kinds keep the ids they always had
            ids.append(draft.incident_id)
        covered = "|".join(str(v) for v in ids)
        ends = ends_at.astimezone(UTC).isoformat() if ends_at else ""  # one instant, however it was written
        hold, created = self._holds.place(draft, f"{covered}|{reason}|{ends}")
        try:
            self._follow_up.hold_archives(hold)
        except Exception as error:  # the hold is in force regardless; the purge run marks them later
            log.warning("legal hold archives not marked yet hold_id=%s error=%s", hold.id, type(error).__name__)
        return hold, created

    def _ids(self, target: HoldTarget) -> dict[str, str | None]:
        """What the hold names. A request or incident must exist; a user id need not have a profile: a
        user's orders, consent proof or dialogue input may outlive the profile (or come before it), and
        a hold must be able to keep them."""
        if target.kind == "request":
            found = self._requests.target(target.request_id or "")
            if found is None:
                raise HoldTargetNotFound()
            return {"request_id": found.request_id}
        if target.kind == "incident":
            if not self._incidents.exists(target.incident_id or ""):
                raise HoldTargetNotFound()
            return {"incident_id": target.incident_id}
        if target.email is not None:
            key = keyed_hash(self._pepper, target.email)
            return {"subject_key": key, "user_id": self._accounts.user_for_email(target.email, key)}
        if target.user_id is not None:
            return {"user_id": target.user_id, "subject_key": self._accounts.email_key_of(target.user_id)}
        return {"visitor_id": target.visitor_id}

    def release_hold(self, hold_id: str, actor: str, reason: str) -> tuple[LegalHold, list[str]]:
        """Ends the hold now; returns it and the erasures that resumed. A hold already released or
        past its end date is refused (HoldNotInForce): a second click changes nothing."""
        now = self._parts.clock.now()

        def release(hold: LegalHold) -> None:
            if not hold.in_force(now):
                raise HoldNotInForce()
            hold.released_by, hold.released_at, hold.release_reason = actor, now, reason

        released = self._holds.change(hold_id, release)
        try:
            resumed = self._follow_up.ended(released, actor)
        except Exception as error:  # released regardless; the next purge run follows it up
            log.warning("legal hold follow-up left to the next run hold_id=%s error=%s", hold_id, type(error).__name__)
            resumed = []
        return self._holds.require(hold_id), resumed

    def holds(self, in_force: bool | None) -> list[LegalHold]:
        return self._holds.listed(in_force)

    def hold(self, hold_id: str) -> LegalHold:
        return self._holds.require(hold_id)

    def reports(self, limit: int) -> list[RunReport]:
        return self._parts.runs.recent_reports(limit)

    def report(self, run_id: str) -> RunReport:
        return self._parts.runs.report(run_id)

    def dry_run(self) -> DryRun:
        """What a purge would do now, per rule: items due, items holds keep, the oldest due. Changes
        nothing and asks no third party; a location that cannot be counted reports its error's class."""
        parts = self._parts
        now, holds, state = parts.clock.now(), parts.holds.in_force(), parts.runs.state()
        rules = []
        for rule in parts.inventory.rules:
            location = parts.location_of(rule)
            scope = parts.scope(rule, now, holds)
            try:
                preview = location.preview(scope, state.cursor(rule.id).bookmark)
            except Exception as error:
                log.warning("retention dry run could not count rule=%s error=%s", rule.id, type(error).__name__)
                rules.append(DryRunRule(rule.id, location.id, scope.cutoff, 0, 0, None, type(error).__name__))
                continue
            rules.append(DryRunRule(rule.id, location.id, scope.cutoff, preview.due, preview.held, preview.oldest))
        return DryRun(now, rules)
