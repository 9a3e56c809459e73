"""The settings retention runs with (read from app settings by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetentionConfig:
    time_budget: timedelta = timedelta(minutes=8)  # below host.json's functionTimeout (10 minutes)
    lease: timedelta = timedelta(minutes=5)
    hold_warning: timedelta = timedelta(days=14)
