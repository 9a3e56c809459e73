"""The words of notices and opt-outs: purposes, queues, roles and kinds."""

from __future__ import annotations

from enum import StrEnum

MARKETING_PURPOSE = "marketing-email"  # purposes of the catalog (seed/catalog.json)
PUSH_PURPOSE = "push-notifications"
MARKETING_SYNC_QUEUE = "marketing-sync"  # declared in declarations/storage.json
PUBLISHER_ROLE = "Privacy.Publisher"
LEGAL_ROLE = "Privacy.Legal"
OFFICER_ROLE = "Privacy.Officer"


class NoticeKind(StrEnum):
    BUSINESS_TRANSFER = "business-transfer"
    POLICY_CHANGE = "policy-change"
    SUBPROCESSOR_CHANGE = "subprocessor-change"
    DISCLOSURE = "legal-disclosure"


class Audience(StrEnum):
    EVERYONE = "everyone"  # every user with an address
    RENEWAL = "renewal"  # only users whose consent the new policy version asks to renew
    SUBJECTS = "subjects"  # named people (a legal disclosure's)


class Instrument(StrEnum):
    COURT_ORDER = "court-order"
    SUBPOENA = "subpoena"
    GOVERNMENT_REQUEST = "government-request"
    OTHER = "other"


class Outcome(StrEnum):
    DISCLOSED = "disclosed"
    PARTLY_DISCLOSED = "partly-disclosed"
    REFUSED = "refused"
