"""Turning a caller's choices into ledger decisions: checked against the published catalog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core.errors import FieldError, InvalidValues
from functions.consent.catalog import Catalog, PolicyVersion
from functions.consent.errors import PolicyVersionOutdated
from functions.consent.ledger import ConsentState, Decision, EventContext, Source

USER_AGENT_LIMIT = 512


@dataclass(frozen=True)
class Caller:
    """Where a decision came from, as proof needs it; the IP is truncated before it gets here."""

    ip_truncated: str | None
    user_agent: str | None
    jurisdiction: str | None


def checked_decisions(
    catalog: Catalog, requested: Mapping[str, bool], source: Source, field_prefix: str = "decisions"
) -> dict[str, Decision]:
    errors = []
    for purpose_id in requested:
        purpose = catalog.purposes.get(purpose_id)
        if purpose is None:
            errors.append(FieldError(f"{field_prefix}/{purpose_id}", "is not a published purpose"))
        elif purpose.always_on:
            errors.append(FieldError(f"{field_prefix}/{purpose_id}", "is always on and takes no decision"))
    if errors:
        raise InvalidValues(errors)
    return {purpose_id: Decision(granted=granted, source=source) for purpose_id, granted in requested.items()}


def current_version_or_conflict(catalog: Catalog, shown_version: str) -> PolicyVersion:
    """The version the caller showed must be the one in force; a stale banner must reload first."""
    current = catalog.require_current_version()
    if shown_version != current.version:
        if catalog.version(shown_version) is None:
            raise InvalidValues([FieldError("policyVersion", "is not a published version")])
        raise PolicyVersionOutdated(current.version, current.revision)
    return current


def event_context(
    source: Source, version: PolicyVersion, caller: Caller, now: datetime, actor: str | None = None
) -> EventContext:
    return EventContext(
        source=source,
        policy_version=version.version,
        notice_text_hash=version.text_hash,
        recorded_at=now,
        jurisdiction=caller.jurisdiction,
        ip_truncated=caller.ip_truncated,
        user_agent=(caller.user_agent or "")[:USER_AGENT_LIMIT] or None,
        actor=actor,
    )


NOBODY = Caller(None, None, None)  # a decision no request of the person's carries (a timer, a webhook)


@dataclass(frozen=True)
class UseAnswer:
    allowed: bool
    reason: str  # granted | not-granted | withdrawn | renewal-required | always-on


def may_use(state: ConsentState, catalog: Catalog, purpose_id: str) -> UseAnswer:
    """May the subject's data be used for the purpose now? Answered from the one state read."""
    purpose = catalog.purposes.get(purpose_id)
    if purpose is None:
        raise InvalidValues([FieldError("purpose", "is not a published purpose")])
    if purpose.always_on:
        return UseAnswer(True, "always-on")
    decision = state.purposes.get(purpose_id)
    if decision is None:
        return UseAnswer(False, "not-granted")
    if not decision.granted:
        return UseAnswer(False, "withdrawn")
    if catalog.needs_renewal(purpose_id, decision.policy_version):
        return UseAnswer(False, "renewal-required")
    return UseAnswer(True, "granted")
