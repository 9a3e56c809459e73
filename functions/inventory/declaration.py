"""The data inventory (``declarations/inventory.json``) as typed, checked values.

It is read once per process; a mistake in it (an unknown category, a retained location without a
legal basis, a duplicate id) stops the app at start with the location's name.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

DECLARATION = Path(__file__).resolve().parent.parent.parent / "declarations" / "inventory.json"

DELETE, ANONYMIZE, RETAIN = "delete", "anonymize", "retain"


class _Declared(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, extra="forbid", frozen=True, defer_build=True
    )


class Erasure(_Declared):
    strategy: Literal["delete", "anonymize", "retain"]
    fields: tuple[str, ...] = ()
    legal_basis: str | None = None
    pseudonymize: bool = False
    keep: str | None = None  # what stays at the third party after a delete (e.g. a global suppression)


class Retention(_Declared):
    days: int = Field(ge=1)
    clock: Literal["created", "last-activity", "closed", "withdrawn"] = Field(alias="from")
    reason: str


class Location(_Declared):
    id: str
    kind: str
    category: str
    holder: str  # "us", or the processor that holds it on our behalf
    purposes: tuple[str, ...] = Field(min_length=1)
    find: str
    export: str
    retention: Retention
    erasure: Erasure
    container: str | None = None
    export_note: str | None = None  # read by people in their export's README
    time_field: str | None = None  # the item's ISO 8601 time, for finding who a breach window affects

    @property
    def exported(self) -> bool:
        return self.export != "none"

    @model_validator(mode="after")
    def _justified(self) -> Location:
        if self.erasure.strategy in {ANONYMIZE, RETAIN} and not self.erasure.legal_basis:
            raise ValueError(f"inventory location {self.id}: {self.erasure.strategy} needs a legal basis")
        return self


class Inventory(_Declared):
    comment: str = Field(default="", alias="$comment")
    controller: str
    categories: dict[str, str]
    locations: tuple[Location, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Inventory:
        ids = [location.id for location in self.locations]
        if len(ids) != len(set(ids)):
            raise ValueError("inventory location ids must be unique")
        for location in self.locations:
            if location.category not in self.categories:
                raise ValueError(f"inventory location {location.id}: unknown category {location.category}")
        return self

    def location(self, location_id: str) -> Location:
        for location in self.locations:
            if location.id == location_id:
                return location
        raise KeyError(location_id)


@cache
def inventory() -> Inventory:
    return Inventory.model_validate_json(DECLARATION.read_text())
