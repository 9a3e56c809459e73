"""Turning a caller's choices into ledger decisions: checked against the published catalog."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core import problems
from core.problems import FieldError
from functions.consent.catalog import Catalog, PolicyVersion
from functions.consent.ledger import Decision, EventContext, Source

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
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
        raise problems.validation_failed(errors)
    return {purpose_id: Decision(granted=granted, source=source) for purpose_id, granted in requested.items()}


def current_version_or_conflict(catalog: Catalog, shown_version: str) -> PolicyVersion:
    """The version the caller showed must be the one in force; a stale banner must reload first."""
    current = catalog.require_current_version()
    if shown_version != current.version:
        if catalog.version(shown_version) is None:
            raise problems.validation_failed([FieldError("policyVersion", "is not a published version")])
        raise problems.conflict(
            "policy-version-outdated",
            "Policy version outdated",
            "A newer privacy-policy version is in force; show it and ask again.",
        )
    return current


def event_context(source: Source, version: PolicyVersion, caller: Caller, now: datetime) -> EventContext:
    return EventContext(
        source=source,
        policy_version=version.version,
        notice_text_hash=version.text_hash,
        recorded_at=now,
        jurisdiction=caller.jurisdiction,
        ip_truncated=caller.ip_truncated,
        user_agent=(caller.user_agent or "")[:USER_AGENT_LIMIT] or None,
    )


def idempotency_key(supplied: str | None) -> str:
    if supplied is None:
        return uuid.uuid4().hex
    if not IDEMPOTENCY_KEY.match(supplied):
        raise problems.validation_failed(
            [FieldError("header/Idempotency-Key", "must be 8-128 characters of A-Z a-z 0-9 _ . : -")]
        )
    return supplied
