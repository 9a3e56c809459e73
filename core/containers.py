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
INCIDENT_BATCHES = "incident-batches"
CONSENT_SEALS = "consent-seals"


@dataclass(frozen=True)
class ContainerSpec:
    id: str
    partition_key: str
    default_ttl: int | None
    indexing: dict[str, Any]


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
            )
            for c in raw["containers"]
        ),
    )
