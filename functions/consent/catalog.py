"""Purposes and privacy-policy versions: data that staff publish, read on every consent decision.

The whole catalog is one document (small, changes rarely); ``catalog_repository.py`` loads it with
one point read and keeps it for a few seconds, so the hot path costs no catalog read at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.consent.errors import NoPolicyPublished

CATALOG_DOCUMENT_ID = "current"
CATALOG_PARTITION = "catalog"


@dataclass(frozen=True)
class Purpose:
    id: str
    title: str
    description: str
    legal_basis: str  # consent | contract | legitimate-interest
    always_on: bool = False  # essential processing and necessary cookies: no choice to record
    cookie_category: str | None = None  # necessary | functional | analytics | marketing

    @classmethod
    def from_content(cls, content: Mapping[str, Any]) -> Purpose:
        """From the JSON shape shared by the catalog document, the seed file and the staff API."""
        return cls(
            id=content["id"],
            title=content["title"],
            description=content["description"],
            legal_basis=content["legalBasis"],
            always_on=bool(content.get("alwaysOn", False)),
            cookie_category=content.get("cookieCategory"),
        )


@dataclass(frozen=True)
class PolicyVersion:
    version: str
    text_hash: str
    published_at: datetime
    renew_purposes: tuple[str, ...]
    sequence: int

    @property
    def revision(self) -> int:
        """The version's place in publication order (1, 2, ...): a number a banner can compare."""
        return self.sequence


@dataclass(frozen=True)
class Catalog:
    purposes: Mapping[str, Purpose] = field(default_factory=dict)
    versions: tuple[PolicyVersion, ...] = ()

    @property
    def current_version(self) -> PolicyVersion | None:
        return self.versions[-1] if self.versions else None

    def require_current_version(self) -> PolicyVersion:
        current = self.current_version
        if current is None:
            raise NoPolicyPublished()
        return current

    def version(self, version: str) -> PolicyVersion | None:
        return next((v for v in self.versions if v.version == version), None)

    def revision_of(self, version: str | None) -> int | None:
        found = self.version(version) if version is not None else None
        return found.revision if found else None

    def cookie_purposes(self) -> dict[str, Purpose]:
        """Cookie category name → its purpose."""
        return {p.cookie_category: p for p in self.purposes.values() if p.cookie_category}

    def needs_renewal(self, purpose_id: str, decided_under: str) -> bool:
        """True when a version published after ``decided_under`` asks to renew consent for the purpose."""
        given = self.version(decided_under)
        if given is None:
            return True
        return any(purpose_id in v.renew_purposes for v in self.versions if v.sequence > given.sequence)

    def to_document(self) -> dict[str, Any]:
        return {
            "id": CATALOG_DOCUMENT_ID,
            "kind": CATALOG_PARTITION,
            "purposes": [
                {
                    "id": p.id,
                    "title": p.title,
                    "description": p.description,
                    "legalBasis": p.legal_basis,
                    "alwaysOn": p.always_on,
                    "cookieCategory": p.cookie_category,
                }
                for p in self.purposes.values()
            ],
            "versions": [
                {
                    "version": v.version,
                    "textHash": v.text_hash,
                    "publishedAt": v.published_at.isoformat(),
                    "renewPurposes": list(v.renew_purposes),
                    "sequence": v.sequence,
                }
                for v in self.versions
            ],
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Catalog:
        return cls(
            purposes={p["id"]: Purpose.from_content(p) for p in doc.get("purposes", [])},
            versions=tuple(
                PolicyVersion(
                    version=v["version"],
                    text_hash=v["textHash"],
                    published_at=datetime.fromisoformat(v["publishedAt"]),
                    renew_purposes=tuple(v.get("renewPurposes", [])),
                    sequence=int(v["sequence"]),
                )
                for v in doc.get("versions", [])
            ),
        )


def text_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
