"""What can go wrong with retention, in its own words (no HTTP here: see error_table.py)."""

from __future__ import annotations

from core.errors import DomainError, NotFound


class HoldNotFound(NotFound):
    message = "No such legal hold."


class RunNotFound(NotFound):
    message = "No such retention run."


class HoldTargetNotFound(DomainError):
    message = "The request or incident to hold does not exist."


class HoldNotInForce(DomainError):
    message = "The hold is no longer in force: it was released or has ended."


class HoldEndInPast(DomainError):
    message = "A hold's end date must be in the future."


class RetentionRunFailed(RuntimeError):
    """Raised by the timer after a run in which some rule failed, so the invocation counts as failed
    (and alerts). Names rules and error classes only."""

    def __init__(self, failures: dict[str, list[str]]) -> None:
        listed = "; ".join(f"{rule}: {', '.join(errors)}" for rule, errors in sorted(failures.items()))
        super().__init__(f"retention run finished with failing rules (retried next run): {listed}")
        self.failures = failures
