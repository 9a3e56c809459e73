"""What can go wrong with a data-subject request, in its own words (no HTTP here: see error_table.py)."""

from __future__ import annotations

from core.errors import DomainError, NotFound


class RequestNotFound(NotFound):
    message = "No such request."


class CertificateNotFound(NotFound):
    message = "No certificate with that id."


class InvalidLink(DomainError):
    message = "This link is not valid. Request a new one."


class LinkExpired(DomainError):
    message = "This link has expired. Submit the request again."


class LinkAlreadyUsed(DomainError):
    message = "This link was already used."


class TooManyOpenRequests(DomainError):
    message = "Wait until an open request is answered."


class NoEmailOnFile(DomainError):
    message = "Add an email address to your account first."


class NotAwaitingApproval(DomainError):
    message = "Nothing to approve: the request is not waiting for an approval."


class CannotDeny(DomainError):
    message = "Only requests that are not running can be denied."


class RequestClosed(DomainError):
    message = "Only open requests can be extended."


class AlreadyExtended(DomainError):
    message = "A request is extended once."


class ExtensionTooLate(DomainError):
    """GDPR Art. 12(3): the extension and its reasons must reach the person within one month of receipt."""

    message = "The first deadline has passed: the law no longer allows an extension."


class NothingToRetry(DomainError):
    message = "Only running or failed requests with unfinished steps can be retried."


class StepRunning(DomainError):
    message = "A step is running; retry once it has failed or its lease has run out."


class NotAnErasure(DomainError):
    message = "Plans exist for erasure requests only."


class ExportNotReady(DomainError):
    message = "The archive of this request is not ready, or was already deleted."
