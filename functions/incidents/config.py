"""The settings incidents run with (read from app settings by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class IncidentConfig:
    staff_email: str | None = None
    warn_before: timedelta = timedelta(hours=24)
