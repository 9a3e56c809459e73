"""Problems the HTTP edge itself raises, rendered as ``application/problem+json`` (RFC 9457).

Only what the edge decides lives here: malformed or oversized bodies, wrong media types and methods,
missing or invalid credentials, unknown path ids and schema violations. Capabilities raise domain
errors (:mod:`core.errors`) instead, which the edge maps through its table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import FieldError

PROBLEM_BASE = "https://privacy-backend.dev/problems/"

__all__ = ["PROBLEM_BASE", "FieldError", "Problem"]


@dataclass
class Problem(Exception):
    status: int
    slug: str
    title: str
    detail: str = ""
    errors: Sequence[FieldError] = field(default_factory=tuple)
    headers: dict[str, str] = field(default_factory=dict)
    extensions: Mapping[str, Any] = field(default_factory=dict)  # extra members, e.g. the version in force

    def __str__(self) -> str:
        return f"{self.status} {self.slug}: {self.detail or self.title}"

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug


def malformed_json() -> Problem:
    return Problem(400, "malformed-json", "Malformed JSON", "The request body is not valid JSON.")


def validation_failed(errors: Sequence[FieldError]) -> Problem:
    return Problem(422, "validation-failed", "Validation failed", "One or more fields are invalid.", errors=errors)


def body_too_large(limit_bytes: int) -> Problem:
    return Problem(413, "body-too-large", "Request body too large", f"The body must be at most {limit_bytes} bytes.")


def unsupported_media_type() -> Problem:
    return Problem(415, "unsupported-media-type", "Unsupported media type", "Send the body as application/json.")


def method_not_allowed(allowed: Sequence[str]) -> Problem:
    return Problem(
        405,
        "method-not-allowed",
        "Method not allowed",
        "This resource does not support that method.",
        headers={"Allow": ", ".join(allowed)},
    )


def unauthenticated(detail: str = "A valid bearer token is required.") -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def forbidden(detail: str = "You may not perform this action.") -> Problem:
    return Problem(403, "forbidden", "Forbidden", detail)


def not_found(detail: str = "No such resource.") -> Problem:
    return Problem(404, "not-found", "Not found", detail)


def misconfigured(detail: str) -> Problem:
    """The deployment cannot serve this call (a setting points somewhere unusable); never the caller's fault."""
    return Problem(503, "service-misconfigured", "Service misconfigured", detail, headers={"Retry-After": "60"})
