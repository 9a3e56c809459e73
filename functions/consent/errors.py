"""What can go wrong when consent is recorded or published (no HTTP here: see error_table.py)."""

from __future__ import annotations

from core.errors import DomainError, StillChanging


class NoPolicyPublished(DomainError):
    message = "Staff must publish a privacy-policy version before consent can be recorded."


class PolicyVersionOutdated(DomainError):
    """The caller showed an older policy version than the one in force: it must show the new one."""

    message = "A newer privacy-policy version is in force; show it and ask again."

    def __init__(self, current_version: str, current_revision: int) -> None:
        super().__init__()
        self.current_version = current_version
        self.current_revision = current_revision


class PolicyVersionExists(DomainError):
    message = "That version was already published with a different text; publish a new version."


class VisitorAlreadyLinked(DomainError):
    message = "This visitor id belongs to another account."


class ConsentBusy(StillChanging):
    message = "Too many concurrent writes for this subject; retry with the same Idempotency-Key."


class CatalogBusy(StillChanging):
    message = "The catalog is being changed by someone else; try publishing again."


class IdempotencyKeyReused(DomainError):
    """The key was used within its window for a different request: answering with the earlier
    decision would silently drop this one."""

    message = "This Idempotency-Key was already used for a different request; use a new key for a new decision."


class TooManyDecisions(DomainError):
    message = "Too many decisions for this subject within 24 hours; try again later."
