"""The settings retention runs with, read from app settings and checked once, at start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.settings import Settings, SettingsError

# A chunk ends half-way through the lease (functions.retention.purge), so the other half is what the
# item under way, typically one third-party call, and the cursor's save may take before the lease lapses.
MIN_LEASE_SECONDS = 30


@dataclass(frozen=True)
class RetentionConfig:
    time_budget: timedelta = timedelta(minutes=8)  # below host.json's functionTimeout (10 minutes)
    lease: timedelta = timedelta(minutes=5)
    hold_warning: timedelta = timedelta(days=14)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionConfig:
        """SettingsError names a setting that leaves a run no way to keep its lease."""
        budget, lease = settings.get_int("RETENTION_TIME_BUDGET_SECONDS"), settings.get_int("RETENTION_LEASE_SECONDS")
        if budget < 0:
            raise SettingsError("app setting RETENTION_TIME_BUDGET_SECONDS must not be negative")
        if lease < MIN_LEASE_SECONDS:
            raise SettingsError(
                f"app setting RETENTION_LEASE_SECONDS must be at least {MIN_LEASE_SECONDS}: a purge renews its lease "
                "half-way through it, and the other half is all the call under way may take"
            )
        return cls(
            time_budget=timedelta(seconds=budget),
            lease=timedelta(seconds=lease),
            hold_warning=timedelta(days=settings.get_int("RETENTION_HOLD_WARNING_DAYS")),
        )
