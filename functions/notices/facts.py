"""The public facts the policy promises to make readily available: who processes personal data for
us (declarations/subprocessors.json), for which purposes (the consent catalog, as the ledger proves
it), and how long each kind of data is kept (the retention table). No personal data, one source each."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from functions.consent.catalog import Catalog
from functions.inventory.declaration import Inventory
from functions.retention.table import TableRow, retention_table

DECLARATION = Path(__file__).resolve().parents[2] / "declarations" / "subprocessors.json"


class Subprocessor(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True)

    name: str
    purpose: str
    data_categories: tuple[str, ...] = Field(min_length=1)
    location: str
    transfer_mechanism: str
    privacy_policy: str | None = None


class SubprocessorDeclaration(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True, populate_by_name=True)

    comment: str = Field(default="", alias="$comment")
    revision: int = Field(ge=1)
    updated: str
    subprocessors: tuple[Subprocessor, ...] = Field(min_length=1)


@cache
def subprocessors() -> SubprocessorDeclaration:
    return SubprocessorDeclaration.model_validate(json.loads(DECLARATION.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class PurposeFact:
    id: str
    title: str
    description: str
    legal_basis: str
    choice: bool  # False for what is always on (essential processing, necessary cookies)


@dataclass(frozen=True)
class PrivacyFacts:
    declaration: SubprocessorDeclaration
    policy_version: str | None
    purposes: list[PurposeFact]
    retention: list[TableRow]  # the retention capability's public table, with the periods in force


def privacy_facts(catalog: Catalog, inventory: Inventory) -> PrivacyFacts:
    current = catalog.current_version
    purposes = [
        PurposeFact(p.id, p.title, p.description, p.legal_basis, not p.always_on) for p in catalog.purposes.values()
    ]
    return PrivacyFacts(subprocessors(), current.version if current else None, purposes, retention_table(inventory))
