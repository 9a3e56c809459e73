"""The small interfaces the domain talks to; adapters in ``adapters/`` implement them with real SDKs.

Every mutating call is safe to repeat unless its docstring says otherwise: a worker that dies
mid-step calls it again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.errors import DomainError

Document = dict[str, Any]


class DocumentConflict(Exception):
    """A document with that id already exists in that partition (create lost a race)."""


class DocumentChanged(Exception):
    """The document changed since it was read (its etag no longer matches)."""


class InvalidContinuation(DomainError):
    message = "The continuation token is not one this service handed out, or it has expired."


@dataclass(frozen=True)
class Versioned:
    body: Document
    etag: str


@dataclass(frozen=True)
class Page:
    items: list[Document]
    continuation: str | None  # opaque; None on the last page


class DocumentStore(Protocol):
    """Document database with point reads, conditional writes and single-partition queries."""

    def read(self, container: str, doc_id: str, partition_key: str) -> Versioned | None: ...

    def create(self, container: str, body: Document) -> Versioned: ...

    def create_all(self, container: str, partition_key: str, bodies: Sequence[Document]) -> list[bool]:
        """Creates the documents of one partition that do not exist yet, in as few requests as the
        store allows: per body, True when this call created it, False when it existed already."""
        ...

    def replace(self, container: str, body: Document, etag: str) -> Versioned: ...

    def query(
        self, container: str, partition_key: str, sql: str, parameters: Mapping[str, Any]
    ) -> Iterator[Document]: ...

    def query_across_partitions(self, container: str, sql: str, parameters: Mapping[str, Any]) -> Iterator[Document]:
        """For rare, small lookups (staff lists, finding a person by keyed hash); never on a hot path."""
        ...

    def query_page(
        self, container: str, sql: str, parameters: Mapping[str, Any], page_size: int, continuation: str | None
    ) -> Page:
        """One page of a cross-partition query; ``continuation`` from the previous page, or None.
        Raises :class:`InvalidContinuation` for a token that was not handed out."""
        ...

    def query_value(self, container: str, sql: str, parameters: Mapping[str, Any]) -> Any:
        """The one value of a cross-partition ``SELECT VALUE COUNT(1)`` or ``MIN(...)`` query; None
        when it has none (no item matched)."""
        ...

    def upsert(self, container: str, body: Document) -> Versioned: ...

    def delete(self, container: str, doc_id: str, partition_key: str, etag: str | None = None) -> bool:
        """Deletes the document; False when it was already gone (so a repeated erasure is harmless).
        With ``etag``, only the version read: DocumentChanged if it changed since."""
        ...

    def ping(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class WorkQueue(Protocol):
    """Storage queues the Functions host drains; messages are JSON objects."""

    def send(self, queue: str, message: Mapping[str, Any], delay: timedelta | None = None) -> None:
        """Queues the message; with ``delay`` it becomes visible only after that long."""
        ...

    def peek_poison(self, queue: str, limit: int) -> list[Document]:
        """Messages that kept failing and were moved to ``<queue>-poison`` (read-only look)."""
        ...

    def ping(self) -> None: ...


@dataclass(frozen=True)
class Confirmation:
    """What a third party said when it did something: kept in step logs and certificates."""

    system: str  # stripe | sendgrid | blob
    action: str  # e.g. customer.deleted, contact.deleted, suppression.added, archive.deleted
    reference: str  # the third party's id for it (deleted object id, job id, blob name)

    def to_document(self) -> dict[str, str]:
        return {"system": self.system, "action": self.action, "reference": self.reference}


class MailNotSent(DomainError):
    """The mail service did not take the mail: nothing was sent."""


class MailRejected(MailNotSent):
    """The mail service refused this mail for good (the address, say); sending it again will not help."""

    message = "The mail service refused the address."


class MailUnavailable(MailNotSent):
    """The mail service is down, slow or rate-limiting; the same mail can be sent again later."""

    message = "The mail service is not available right now; nothing was sent. Try again shortly."


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str, category: str) -> str:
        """Sends one transactional mail and returns the provider's message id; raises
        :class:`MailRejected` or :class:`MailUnavailable` when nothing was sent."""
        ...
