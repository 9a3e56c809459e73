"""The one table of the HTTP edge: every domain error class → its status, problem type and title.

Capabilities raise small domain errors and know nothing of HTTP; ``function_app.py`` installs this
table and the edge renders each error as ``application/problem+json`` from it (subclasses inherit
their parent's row unless they have one). Queue and timer triggers never see a status code.
"""

from __future__ import annotations

from typing import Any

from core.errors import DomainError, InvalidValues, NotFound, StillChanging
from core.ports import InvalidContinuation, MailRejected, MailUnavailable
from core.problem_types import ProblemType
from functions.consent.errors import (
    IdempotencyKeyReused,
    NoPolicyPublished,
    PolicyVersionExists,
    PolicyVersionOutdated,
    TooManyDecisions,
    VisitorAlreadyLinked,
)
from functions.cookies.errors import CookiePurposesMissing
from functions.fanout.errors import InvalidEventSignature
from functions.fanout.ports import BulkRejected, BulkThrottled
from functions.incidents.errors import (
    LateFilingNeedsReasons,
    NoRecipients,
    NoticeIncomplete,
    NoticeNotApproved,
    NoticeNotEditable,
    SecondApproverRequired,
    SelectionNotPossible,
)
from functions.notices.errors import AlreadyNotified, InvalidUnsubscribeLink
from functions.proof.errors import ProofKeyUnavailable
from functions.requests.errors import (
    AlreadyExtended,
    CannotDeny,
    ExportNotReady,
    ExtensionTooLate,
    InvalidLink,
    LinkAlreadyUsed,
    LinkExpired,
    NoEmailOnFile,
    NotAnErasure,
    NotAwaitingApproval,
    NothingToRetry,
    RequestClosed,
    StepRunning,
    TooManyOpenRequests,
)
from functions.retention.errors import HoldEndInPast, HoldNotInForce, HoldTargetNotFound

RETRY_SOON = {"Retry-After": "5"}


def _current_version(error: Any) -> dict[str, Any]:
    return {"currentPolicyVersion": error.current_version, "currentPolicyRevision": error.current_revision}


def _missing_parts(error: Any) -> dict[str, Any]:
    return {"missing": error.missing}


ERROR_TABLE: dict[type[DomainError], ProblemType] = {
    # shared
    NotFound: ProblemType(404, "not-found", "Not found"),
    InvalidValues: ProblemType(422, "validation-failed", "Validation failed"),
    InvalidContinuation: ProblemType(422, "invalid-continuation", "Invalid continuation token"),
    StillChanging: ProblemType(503, "busy", "Busy, try again", RETRY_SOON),
    MailUnavailable: ProblemType(503, "mail-unavailable", "Mail service unavailable", {"Retry-After": "30"}),
    MailRejected: ProblemType(422, "address-undeliverable", "Address refused by the mail service"),
    # consent and cookies
    NoPolicyPublished: ProblemType(503, "no-policy-published", "No privacy policy published", {"Retry-After": "60"}),
    PolicyVersionOutdated: ProblemType(
        409,
        "policy-version-outdated",
        "Policy version outdated",
        {},
        _current_version,
        {"currentPolicyVersion": "2026-12", "currentPolicyRevision": 2},
    ),
    PolicyVersionExists: ProblemType(409, "policy-version-exists", "Policy version exists"),
    VisitorAlreadyLinked: ProblemType(409, "visitor-already-linked", "Visitor already linked"),
    IdempotencyKeyReused: ProblemType(422, "idempotency-key-reused", "Idempotency-Key reused with another body"),
    TooManyDecisions: ProblemType(429, "too-many-decisions", "Too many decisions", {"Retry-After": "3600"}),
    CookiePurposesMissing: ProblemType(
        503, "cookie-purposes-missing", "Cookie purposes not published", {"Retry-After": "60"}
    ),
    # data-subject requests
    InvalidLink: ProblemType(400, "invalid-link", "Invalid link"),
    LinkExpired: ProblemType(410, "link-expired", "Link expired"),
    LinkAlreadyUsed: ProblemType(409, "link-used", "Link already used"),
    TooManyOpenRequests: ProblemType(429, "too-many-requests", "Too many requests", {"Retry-After": "86400"}),
    NoEmailOnFile: ProblemType(409, "no-email-on-file", "No email on file"),
    NotAwaitingApproval: ProblemType(409, "not-awaiting-approval", "Not awaiting approval"),
    CannotDeny: ProblemType(409, "cannot-deny", "Cannot deny"),
    RequestClosed: ProblemType(409, "not-open", "Request closed"),
    AlreadyExtended: ProblemType(409, "already-extended", "Already extended"),
    ExtensionTooLate: ProblemType(409, "extension-too-late", "Too late to extend"),
    NothingToRetry: ProblemType(409, "nothing-to-retry", "Nothing to retry"),
    StepRunning: ProblemType(409, "step-running", "Step running"),
    NotAnErasure: ProblemType(409, "not-erasure", "Not an erasure"),
    ExportNotReady: ProblemType(409, "export-not-ready", "Export not ready"),
    # retention
    HoldTargetNotFound: ProblemType(422, "hold-target-not-found", "Nothing to hold"),
    HoldEndInPast: ProblemType(422, "hold-end-in-past", "Hold end in the past"),
    HoldNotInForce: ProblemType(409, "hold-not-in-force", "Hold not in force"),
    # breach incidents
    NoticeIncomplete: ProblemType(422, "notice-incomplete", "Notice incomplete", {}, _missing_parts),
    SecondApproverRequired: ProblemType(409, "second-approver-required", "A second staff member must approve"),
    NoticeNotEditable: ProblemType(409, "notice-not-editable", "Notice not editable"),
    NoticeNotApproved: ProblemType(409, "notice-not-approved", "Notice not approved"),
    NoRecipients: ProblemType(409, "no-recipients", "No affected people recorded"),
    LateFilingNeedsReasons: ProblemType(422, "late-reasons-required", "Reasons for the delay required"),
    SelectionNotPossible: ProblemType(422, "selection-not-possible", "Location not searchable by time"),
    InvalidEventSignature: ProblemType(401, "invalid-signature", "Invalid event signature"),
    # notices and opt-outs
    InvalidUnsubscribeLink: ProblemType(400, "invalid-unsubscribe-link", "Invalid unsubscribe link"),
    AlreadyNotified: ProblemType(409, "already-notified", "People already notified"),
    # public proof
    ProofKeyUnavailable: ProblemType(503, "proof-key-unavailable", "Signing key unavailable", {"Retry-After": "30"}),
    # never reach HTTP (the fan-out worker handles them), mapped so that nothing renders as a 500
    BulkRejected: ProblemType(502, "mail-batch-refused", "Mail batch refused"),
    BulkThrottled: ProblemType(503, "mail-throttled", "Mail service throttled", {"Retry-After": "60"}),
}
