"""Public proof's errors, in our words."""

from __future__ import annotations

from core.errors import DomainError, NotFound


class ProofKeyUnavailable(DomainError):
    """No signing key could be certified: the vault key cannot be reached. Nothing was recorded."""

    message = "Signed receipts cannot be issued right now, so nothing was recorded. Try again shortly."


class SealNotFound(NotFound):
    message = "No ledger seal with that number."
