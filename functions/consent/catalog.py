"""Purposes and privacy-policy versions: data that staff publish, read on every consent decision.

The whole catalog is one document (small, changes rarely), so an instance loads it with one point
read and keeps it for a few seconds; the hot path then costs no catalog read at all.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from core import problems
from core.containers import CATALOG
from core.ports import DocumentChanged, DocumentConflict, DocumentStore

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
            raise problems.service_unavailable(
                "no-policy-published",
                "No privacy policy published",
                "Staff must publish a privacy-policy version before consent can be recorded.",
            )
        return current

    def version(self, version: str) -> PolicyVersion | None:
        return next((v for v in self.versions if v.version == version), None)

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


class CatalogService:
    def __init__(self, store: DocumentStore, cache_seconds: float) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, Catalog] | None = None

    def current(self) -> Catalog:
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        with self._lock:
            found = self._store.read(CATALOG, CATALOG_DOCUMENT_ID, CATALOG_PARTITION)
            catalog = Catalog.from_document(found.body) if found else Catalog()
            self._cached = (time.monotonic(), catalog)
            return catalog

    def publish_purpose(self, purpose: Purpose) -> Catalog:
        def change(catalog: Catalog) -> Catalog:
            return replace(catalog, purposes={**catalog.purposes, purpose.id: purpose})

        return self._update(change)

    def publish_version(
        self, version: str, policy_text: str, renew_purposes: tuple[str, ...], now: datetime
    ) -> tuple[Catalog, bool]:
        """Publish a version; publishing the same version with the same text again changes nothing."""
        digest = text_hash(policy_text)
        created = True

        def change(catalog: Catalog) -> Catalog:
            nonlocal created
            existing = catalog.version(version)
            if existing is not None:
                if existing.text_hash != digest:
                    raise problems.conflict(
                        "policy-version-exists",
                        "Policy version exists",
                        "That version was already published with a different text; publish a new version.",
                    )
                created = False
                return catalog
            unknown = [p for p in renew_purposes if p not in catalog.purposes]
            if unknown:
                raise problems.validation_failed(
                    [problems.FieldError("renewPurposes", "names a purpose that is not published")]
                )
            sequence = (catalog.versions[-1].sequence + 1) if catalog.versions else 1
            entry = PolicyVersion(version, digest, now, renew_purposes, sequence)
            return replace(catalog, versions=(*catalog.versions, entry))

        return self._update(change), created

    def _update(self, change: Any) -> Catalog:
        for _ in range(20):
            found = self._store.read(CATALOG, CATALOG_DOCUMENT_ID, CATALOG_PARTITION)
            before = Catalog.from_document(found.body) if found else Catalog()
            after: Catalog = change(before)
            try:
                if found is None:
                    self._store.create(CATALOG, after.to_document())
                elif after is not before:
                    self._store.replace(CATALOG, after.to_document(), found.etag)
            except (DocumentChanged, DocumentConflict):
                continue  # another publisher won the race; apply the change to their version
            with self._lock:
                self._cached = (time.monotonic(), after)
            return after
        raise problems.service_unavailable("catalog-busy", "Catalog busy", "Try publishing again.")
