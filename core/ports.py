"""The small interfaces the domain talks to; adapters in ``adapters/`` implement them with real SDKs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

Document = dict[str, Any]


class DocumentConflict(Exception):
    """A document with that id already exists in that partition (create lost a race)."""


class DocumentChanged(Exception):
    """The document changed since it was read (its etag no longer matches)."""


@dataclass(frozen=True)
class Versioned:
    body: Document
    etag: str


class DocumentStore(Protocol):
    """Document database with point reads, conditional writes and single-partition queries."""

    def read(self, container: str, doc_id: str, partition_key: str) -> Versioned | None: ...

    def create(self, container: str, body: Document) -> Versioned: ...

    def replace(self, container: str, body: Document, etag: str) -> Versioned: ...

    def query(
        self, container: str, partition_key: str, sql: str, parameters: Mapping[str, Any]
    ) -> Iterator[Document]: ...

    def query_across_partitions(self, container: str, sql: str, parameters: Mapping[str, Any]) -> Iterator[Document]:
        """For rare, small lookups (staff lists, finding a person by keyed hash); never on a hot path."""
        ...

    def upsert(self, container: str, body: Document) -> Versioned: ...

    def delete(self, container: str, doc_id: str, partition_key: str) -> bool:
        """Deletes the document; False when it was already gone (so a repeated erasure is harmless)."""
        ...

    def ping(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class WorkQueue(Protocol):
    """Storage queues the Functions host drains; messages are JSON objects."""

    def send(self, queue: str, message: Mapping[str, Any]) -> None: ...

    def peek_poison(self, queue: str, limit: int) -> list[Document]:
        """Messages that kept failing and were moved to ``<queue>-poison`` (read-only look)."""
        ...
