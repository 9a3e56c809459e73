"""Domain errors of the fan-out engine's edges (the error table maps them to problems)."""

from __future__ import annotations

from core.errors import DomainError


class InvalidEventSignature(DomainError):
    message = "The event batch is not signed by SendGrid's key, or its timestamp is outside the accepted window."
