"""The settings incidents run with (read from app settings by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class IncidentConfig:
    staff_email: str | None = None
    # A batch handed to SendGrid by a worker that then died: SendGrid reports "processed" within
    # seconds of accepting it. With no event after this long, it was not accepted and goes again.
    unconfirmed_grace: timedelta = timedelta(minutes=10)
    warn_before: timedelta = timedelta(hours=24)
    event_window: timedelta = timedelta(minutes=5)  # signed events older or newer than this are refused
