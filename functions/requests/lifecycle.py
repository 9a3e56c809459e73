"""The words of a data-subject request: its types, the states it, its steps and its mails go
through, where it comes from, and the names of its steps and queue."""

from __future__ import annotations

from enum import StrEnum

STEPS_QUEUE = "dsr-steps"  # declared in declarations/storage.json
RESOLVE_STEP = "resolve-subject"
DELIVER_STEP = "deliver"
EXPORT_MESSAGE = "export"  # an access request exports every location in one step message


class RequestType(StrEnum):
    ACCESS = "access"
    ERASURE = "erasure"


class Status(StrEnum):
    AWAITING_VERIFICATION = "awaiting-verification"
    AWAITING_APPROVAL = "awaiting-approval"
    IN_PROGRESS = "in-progress"
    FAILED = "failed"
    COMPLETED = "completed"
    DENIED = "denied"
    CLOSED_UNVERIFIED = "closed-unverified"


OPEN_STATUSES = frozenset({Status.AWAITING_VERIFICATION, Status.AWAITING_APPROVAL, Status.IN_PROGRESS, Status.FAILED})


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class MailKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    RESULT = "result"
    DENIED = "denied"
    EXTENDED = "extended"
    PARENT_NOTICE = "parent-notice"


class MailStatus(StrEnum):
    PENDING = "pending"  # to be sent (again, after the mail service was unavailable)
    SENDING = "sending"  # handed to the mail service; a crash here leaves it unconfirmed, never resent
    SENT = "sent"
    REFUSED = "refused"  # the mail service refused the address for good
    UNCONFIRMED = "unconfirmed"  # sending was interrupted: staff check the provider's log before resending


WEBSITE, DASHBOARD, UNDER_13 = "website", "dashboard", "under-13"  # where a request comes from
