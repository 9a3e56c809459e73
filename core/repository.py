"""Load, save and change one kind of versioned document, guarded by its etag.

``change`` is the read-modify-write every capability needs: read, apply the change, write only if
the document is unchanged since; on a conflict read again and apply the change again, so the change
must decide from what it is given (and may raise a domain error to refuse).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from core.errors import DomainError, NotFound, StillChanging
from core.models import VersionedDocument
from core.ports import DocumentChanged, DocumentStore

D = TypeVar("D", bound=VersionedDocument)
MAX_CHANGE_ATTEMPTS = 10


class Repository(Generic[D]):
    def __init__(
        self,
        store: DocumentStore,
        container: str,
        model: type[D],
        partition_of: Callable[[D], str],
        not_found: type[DomainError] = NotFound,
    ) -> None:
        self.store = store
        self.container = container
        self._model = model
        self._partition_of = partition_of
        self._not_found = not_found

    def get(self, doc_id: str, partition_key: str) -> D | None:
        found = self.store.read(self.container, doc_id, partition_key)
        return self._model.from_document(found.body, found.etag) if found else None

    def require(self, doc_id: str, partition_key: str) -> D:
        document = self.get(doc_id, partition_key)
        if document is None:
            raise self._not_found()
        return document

    def save(self, document: D) -> D:
        """Creates a new document or replaces the one read (DocumentChanged if it changed since;
        DocumentConflict if a new one's id exists)."""
        if document.etag is None:
            saved = self.store.create(self.container, document.to_document())
        else:
            saved = self.store.replace(self.container, document.to_document(), document.etag)
        return self._model.from_document(saved.body, saved.etag)

    def change(self, doc_id: str, partition_key: str, change: Callable[[D], None]) -> D:
        for _ in range(MAX_CHANGE_ATTEMPTS):
            document = self.require(doc_id, partition_key)
            change(document)
            try:
                return self.save(document)
            except DocumentChanged:
                continue
        raise StillChanging()

    def load(self, body: dict[str, object]) -> D:
        """A document from a query row (no etag: read it before changing it)."""
        return self._model.from_document(dict(body), None)

    def partition_of(self, document: D) -> str:
        return self._partition_of(document)
