"""Reads the one declaration of the Cosmos database and containers (declarations/cosmos.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DECLARATION = Path(__file__).resolve().parent.parent / "declarations" / "cosmos.json"

CONSENT_STATE = "consent-state"
CONSENT_EVENTS = "consent-events"
CATALOG = "catalog"
AUDIT = "audit"
DSR_REQUESTS = "dsr-requests"
PROFILES = "profiles"  # the product's user profiles: where a person's email leads to their user id
INCIDENTS = "incidents"
INCIDENT_RECIPIENTS = "incident-recipients"
MAIL_BATCHES = "mail-batches"
MARKETING_SYNC = "marketing-sync"
NOTICES = "notices"
NOTICE_RECEIPTS = "notice-receipts"
DISCLOSURES = "disclosures"
DEVICES = "devices"  # the product's devices and push tokens
LEGAL_HOLDS = "legal-holds"
RETENTION = "retention"  # the retention purge's lease, cursors and run reports
CONSENT_SEALS = "consent-seals"


@dataclass(frozen=True)
class ContainerSpec:
    id: str
    partition_key: str
    default_ttl: int | None
    indexing: dict[str, Any]
    ttl_safe: bool = False  # declared ttlBackstop.safe: Cosmos TTL may delete its items on its own

    def __post_init__(self) -> None:
        if self.default_ttl is not None and not self.ttl_safe:
            raise ValueError(
                f"container {self.id}: defaultTtl is set, but its declaration does not say TTL is safe there "
                "(ttlBackstop.safe): TTL deletes silently and ignores legal holds"
            )


@dataclass(frozen=True)
class DatabaseSpec:
    database: str
    containers: tuple[ContainerSpec, ...]

    def container(self, container_id: str) -> ContainerSpec:
        for spec in self.containers:
            if spec.id == container_id:
                return spec
        raise KeyError(f"container {container_id} is not declared in {DECLARATION.name}")


@cache
def database_spec() -> DatabaseSpec:
    raw = json.loads(DECLARATION.read_text())
    return DatabaseSpec(
        database=raw["database"],
        containers=tuple(
            ContainerSpec(
                id=c["id"],
                partition_key=c["partitionKey"],
                default_ttl=c.get("defaultTtl"),
                indexing=c.get("indexing", {}),
                ttl_safe=bool((c.get("ttlBackstop") or {}).get("safe", False)),
            )
            for c in raw["containers"]
        ),
    )
