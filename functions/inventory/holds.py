"""Legal holds as locations see them: what must not be purged or erased now, and why.

GDPR Art. 17(3)(e): erasure does not apply "to the extent that processing is necessary ... for the
establishment, exercise or defence of legal claims". Staff place a hold on a subject (a product
user, an address, a website visitor), on one data-subject request or on one breach incident (its
record, the people it affected and the mail sent to them); while it is in force nothing it covers is
purged by retention or erased by a request. The holds themselves are kept by the retention
capability; this is the read-only snapshot every location is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Hold:
    id: str
    reason: str
    ends_at: datetime | None
    # What it covers: a subject (any of these), one request, or one incident.
    user_id: str | None = None
    subject_key: str | None = None  # keyed hash of an address
    visitor_id: str | None = None
    request_id: str | None = None
    incident_id: str | None = None

    def words(self) -> str:
        """How the hold reads in an erasure plan or certificate (the reason is staff's own words)."""
        until = f" until {self.ends_at.date().isoformat()}" if self.ends_at else " until it is released"
        return f"Legal hold {self.id} (GDPR Art. 17(3)(e)){until}: {self.reason}"


@dataclass(frozen=True)
class HeldSet:
    """The holds in force at one moment, indexed by what they cover."""

    holds: tuple[Hold, ...] = ()
    user_ids: frozenset[str] = field(init=False)
    subject_keys: frozenset[str] = field(init=False)
    request_ids: frozenset[str] = field(init=False)
    incident_ids: frozenset[str] = field(init=False)
    consent_subjects: frozenset[str] = field(init=False)  # "user:<id>" and "visitor:<id>" of the consent ledger

    def __post_init__(self) -> None:
        users = frozenset(h.user_id for h in self.holds if h.user_id)
        visitors = frozenset(f"visitor:{h.visitor_id}" for h in self.holds if h.visitor_id)
        object.__setattr__(self, "user_ids", users)
        object.__setattr__(self, "subject_keys", frozenset(h.subject_key for h in self.holds if h.subject_key))
        object.__setattr__(self, "request_ids", frozenset(h.request_id for h in self.holds if h.request_id))
        object.__setattr__(self, "incident_ids", frozenset(h.incident_id for h in self.holds if h.incident_id))
        object.__setattr__(self, "consent_subjects", frozenset(f"user:{u}" for u in users) | visitors)

    def __bool__(self) -> bool:
        return bool(self.holds)

    def for_subject(self, user_id: str | None, subject_key: str | None) -> Hold | None:
        """The first hold covering the person (by user id or by the keyed hash of their address)."""
        for hold in self.holds:
            if (user_id and hold.user_id == user_id) or (subject_key and hold.subject_key == subject_key):
                return hold
        return None

    def for_request(self, request_id: str) -> Hold | None:
        return next((hold for hold in self.holds if hold.request_id == request_id), None)

    def covers_request(self, request_id: str, subject_key: str | None, user_id: str | None) -> bool:
        """A request is held by a hold on it or on its subject."""
        return (
            request_id in self.request_ids
            or (subject_key is not None and subject_key in self.subject_keys)
            or (user_id is not None and user_id in self.user_ids)
        )

    @property
    def subjects_held(self) -> bool:
        """Whether any hold names a person (by user id or address), not only a request."""
        return bool(self.user_ids or self.subject_keys)

    def audit_targets(self, subject_requests: frozenset[str] = frozenset()) -> frozenset[str]:
        """Audit records about held things stay too: each hold's own (``hold:<id>``, however long it has
        been in force), the held requests' and those of held subjects (``dsr:<request>``, given as
        ``subject_requests``: only the requests know whose they are), held incidents'
        (``incident:<id>``) and held subjects' (``user:<id>``, ``visitor:<id>``)."""
        requests = frozenset(f"dsr:{r}" for r in self.request_ids | subject_requests)
        incidents = frozenset(f"incident:{i}" for i in self.incident_ids)
        return requests | incidents | frozenset(f"hold:{h.id}" for h in self.holds) | self.consent_subjects


NO_HOLDS = HeldSet()
