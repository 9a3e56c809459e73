"""The data inventory (declarations/inventory.json) as typed values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DECLARATION = Path(__file__).resolve().parent.parent.parent / "declarations" / "inventory.json"

COSMOS = "cosmos"
CONSENT_LEDGER = "consent-ledger"
STRIPE = "stripe"
SENDGRID = "sendgrid"
EXPORT_ARCHIVES = "export-archives"
REQUEST_RECORDS = "request-records"
KINDS = {COSMOS, CONSENT_LEDGER, STRIPE, SENDGRID, EXPORT_ARCHIVES, REQUEST_RECORDS}

DELETE, ANONYMIZE, RETAIN = "delete", "anonymize", "retain"


@dataclass(frozen=True)
class Erasure:
    strategy: str  # delete | anonymize | retain
    fields: tuple[str, ...] = ()
    legal_basis: str | None = None
    pseudonymize: bool = False
    keep: str | None = None


@dataclass(frozen=True)
class Location:
    id: str
    kind: str
    category: str
    find: str
    export: str
    erasure: Erasure
    container: str | None = None

    @property
    def exported(self) -> bool:
        return self.export != "none"


@dataclass(frozen=True)
class Inventory:
    categories: dict[str, str]
    locations: tuple[Location, ...]

    def location(self, location_id: str) -> Location:
        for location in self.locations:
            if location.id == location_id:
                return location
        raise KeyError(location_id)


@cache
def inventory() -> Inventory:
    raw = json.loads(DECLARATION.read_text())
    locations = []
    for item in raw["locations"]:
        erasure = item["erasure"]
        location = Location(
            id=item["id"],
            kind=item["kind"],
            category=item["category"],
            find=item["find"],
            export=item["export"],
            container=item.get("container"),
            erasure=Erasure(
                strategy=erasure["strategy"],
                fields=tuple(erasure.get("fields", ())),
                legal_basis=erasure.get("legalBasis"),
                pseudonymize=bool(erasure.get("pseudonymize", False)),
                keep=erasure.get("keep"),
            ),
        )
        if location.kind not in KINDS:
            raise ValueError(f"inventory location {location.id}: unknown kind {location.kind}")
        if location.category not in raw["categories"]:
            raise ValueError(f"inventory location {location.id}: unknown category {location.category}")
        if location.erasure.strategy not in {DELETE, ANONYMIZE, RETAIN}:
            raise ValueError(f"inventory location {location.id}: unknown strategy {location.erasure.strategy}")
        if location.erasure.strategy in {ANONYMIZE, RETAIN} and not location.erasure.legal_basis:
            raise ValueError(f"inventory location {location.id}: {location.erasure.strategy} needs a legal basis")
        locations.append(location)
    return Inventory(categories=dict(raw["categories"]), locations=tuple(locations))
