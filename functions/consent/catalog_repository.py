"""The published catalog, one document: read once per few seconds per instance, changed with its etag."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from core.containers import CATALOG
from core.errors import FieldError, InvalidValues
from core.ports import DocumentChanged, DocumentConflict, DocumentStore
from functions.consent.catalog import CATALOG_DOCUMENT_ID, CATALOG_PARTITION, Catalog, PolicyVersion, Purpose, text_hash
from functions.consent.errors import CatalogBusy, PolicyVersionExists


class CatalogRepository:
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
                    raise PolicyVersionExists()
                created = False
                return catalog
            unknown = [p for p in renew_purposes if p not in catalog.purposes]
            if unknown:
                raise InvalidValues([FieldError("renewPurposes", "names a purpose that is not published")])
            sequence = (catalog.versions[-1].sequence + 1) if catalog.versions else 1
            entry = PolicyVersion(version, digest, now, renew_purposes, sequence)
            return replace(catalog, versions=(*catalog.versions, entry))

        return self._update(change), created

    def _update(self, change: Callable[[Catalog], Catalog]) -> Catalog:
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
        raise CatalogBusy()
