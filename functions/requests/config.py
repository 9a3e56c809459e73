"""The settings data-subject requests run with (read from app settings by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RequestConfig:
    public_api_url: str
    verification_link_hours: int = 24
    export_link_hours: int = 72
    export_retention_days: int = 7
    max_open_per_subject: int = 3
    staff_email: str | None = None
    erasure_needs_approval: bool = True
    # How long a claimed step belongs to its message: the host's functionTimeout, after which the
    # host has stopped the invocation for sure (host.json).
    step_lease: timedelta = timedelta(minutes=10)
    warn_within: timedelta = timedelta(days=7)
