"""What every retention use case works with, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.ports import Clock
from functions.inventory.declaration import Inventory, RetentionRule
from functions.inventory.holds import HeldSet
from functions.inventory.locations import PurgeScope, StoredLocation
from functions.retention.config import RetentionConfig
from functions.retention.hold_repository import LegalHoldRepository
from functions.retention.run_repository import RunRepository


@dataclass(frozen=True)
class RetentionParts:
    inventory: Inventory  # with the periods in force (functions.retention.policy)
    locations: dict[str, StoredLocation]
    holds: LegalHoldRepository
    runs: RunRepository
    clock: Clock
    config: RetentionConfig

    def location_of(self, rule: RetentionRule) -> StoredLocation:
        return self.locations[self.inventory.location_of(rule.id).id]

    def scope(self, rule: RetentionRule, now: datetime, holds: HeldSet) -> PurgeScope:
        return PurgeScope(rule, rule.period.cutoff(now), holds, now)
