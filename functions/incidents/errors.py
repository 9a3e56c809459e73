"""What can go wrong with a breach incident, in its own words (no HTTP here: see error_table.py)."""

from __future__ import annotations

from core.errors import DomainError, NotFound


class IncidentNotFound(NotFound):
    message = "No such incident."


class NoticeNotFound(NotFound):
    message = "No such notice on this incident."


class NoticeIncomplete(DomainError):
    """Approval refused: the notice lacks parts the policy or the law requires."""

    message = "The notice cannot be approved while required parts are empty."

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"The notice cannot be approved: missing {', '.join(missing)}.")
        self.missing = missing


class SecondApproverRequired(DomainError):
    message = "A notice is approved by a second staff member, not by its author."


class NoticeNotEditable(DomainError):
    message = "Only a draft notice can be changed; write a follow-up notice instead."


class NoticeNotApproved(DomainError):
    message = "Only an approved notice can be sent."


class NoRecipients(DomainError):
    message = "Record the affected people before sending a notice."


class LateFilingNeedsReasons(DomainError):
    """GDPR Art. 33(1): a notification not made within 72 hours is accompanied by reasons for the delay."""

    message = "The filing is later than 72 hours after awareness: state the reasons for the delay."


class SelectionNotPossible(DomainError):
    message = "That inventory location cannot be searched by time window."
