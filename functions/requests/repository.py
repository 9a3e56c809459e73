"""Loading and saving requests: etag-guarded read-modify-write, and the few queries staff and timers need."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.containers import DSR_REQUESTS
from core.models import utc_text
from core.ports import DocumentStore
from core.repository import Repository
from functions.inventory.holds import HeldSet
from functions.inventory.periods import stored_cutoff
from functions.inventory.ports import DueRequest, RequestPurge
from functions.inventory.purging import moment
from functions.requests.errors import RequestNotFound
from functions.requests.lifecycle import OPEN_STATUSES, RequestType, Status
from functions.requests.request_record import DsrRequest

_OPEN = ", ".join(f"'{status.value}'" for status in sorted(OPEN_STATUSES))


@dataclass(frozen=True)
class RequestFilter:
    status: Status | None = None
    type: RequestType | None = None
    due_before: datetime | None = None
    subject_key: str | None = None  # the keyed hash of an address staff search for
    user_id: str | None = None


@dataclass(frozen=True)
class StaffSearch:
    """What staff search by: an address is turned into its keyed hash before any query."""

    status: Status | None = None
    type: RequestType | None = None
    due_before: datetime | None = None
    email: str | None = None
    user_id: str | None = None


class RequestRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._requests = Repository(store, DSR_REQUESTS, DsrRequest, lambda r: r.id, RequestNotFound)

    def get(self, request_id: str) -> DsrRequest | None:
        return self._requests.get(request_id, request_id)

    def require(self, request_id: str) -> DsrRequest:
        return self._requests.require(request_id, request_id)

    def save(self, request: DsrRequest) -> DsrRequest:
        """Creates a new request or replaces the one read (DocumentChanged if it changed since)."""
        return self._requests.save(request)

    def change(self, request_id: str, change: Callable[[DsrRequest], None]) -> DsrRequest:
        """Read, change, write if unchanged meanwhile (see core.repository)."""
        return self._requests.change(request_id, request_id, change)

    def open_for(self, subject_key: str) -> list[DsrRequest]:
        return self._find(f"c.subjectKey = @key AND c.status IN ({_OPEN})", {"@key": subject_key})

    def for_user(self, user_id: str) -> list[DsrRequest]:
        return sorted(self._find("c.userId = @user", {"@user": user_id}), key=lambda r: r.received_at)

    def open_requests(self) -> Iterator[DsrRequest]:
        for document in self._store.query_across_partitions(
            DSR_REQUESTS,
            f"SELECT * FROM c WHERE c.status IN ({_OPEN})",  # noqa: S608 - constants
            {},
        ):
            yield DsrRequest.from_document(document, None)

    def with_outstanding_mail(self) -> Iterator[DsrRequest]:
        """Closed requests whose mails are not all sent yet (open ones are reviewed anyway)."""
        for document in self._store.query_across_partitions(
            DSR_REQUESTS,
            f"SELECT * FROM c WHERE c.mailOutstanding = true AND NOT (c.status IN ({_OPEN}))",  # noqa: S608
            {},
        ):
            yield DsrRequest.from_document(document, None)

    def archived_exports(self) -> Iterator[DsrRequest]:
        """Completed access requests whose archive still exists."""
        for document in self._store.query_across_partitions(
            DSR_REQUESTS,
            "SELECT * FROM c WHERE c.type = 'access' AND c.status = 'completed' AND IS_STRING(c.archiveBlob)",
            {},
        ):
            yield DsrRequest.from_document(document, None)

    def awaiting_hold(self, hold_id: str) -> list[DsrRequest]:
        """Erasures part of which a legal hold kept back."""
        return self._find("ARRAY_CONTAINS(c.awaitingHolds, @hold)", {"@hold": hold_id})

    def page(
        self, where: RequestFilter, page_size: int, continuation: str | None
    ) -> tuple[list[DsrRequest], str | None]:
        """One page of requests, soonest due first."""
        clauses, parameters = ["1 = 1"], {}
        for column, value in (
            ("status", where.status),
            ("type", where.type),
            ("subjectKey", where.subject_key),
            ("userId", where.user_id),
        ):
            if value is not None:
                clauses.append(f"c.{column} = @{column}")
                parameters[f"@{column}"] = str(value)
        if where.due_before is not None:
            clauses.append("c.dueAt <= @dueBefore")
            parameters["@dueBefore"] = utc_text(where.due_before)
        sql = f"SELECT * FROM c WHERE {' AND '.join(clauses)} ORDER BY c.dueAt"  # noqa: S608 - fixed clauses
        page = self._store.query_page(DSR_REQUESTS, sql, parameters, page_size, continuation)
        return [DsrRequest.from_document(d, None) for d in page.items], page.continuation

    def forget_address(self, subject_key: str, except_request_id: str, keep: frozenset[str] = frozenset()) -> int:
        """The person's closed requests lose their address; open ones still need it to answer, held
        ones (``keep``) stay as they are."""
        cleared = 0
        for other in self._find("c.subjectKey = @key AND IS_STRING(c.email)", {"@key": subject_key}):
            if other.id == except_request_id or other.is_open or other.id in keep:
                continue

            def forget(request: DsrRequest) -> None:
                if not request.is_open:
                    request.email = None

            self.change(other.id, forget)
            cleared += 1
        return cleared

    # ---- retention (functions.inventory.ports.RequestRecords) ---------------------------------

    def due(self, purge: RequestPurge, cutoff: datetime, held: HeldSet, limit: int) -> list[DueRequest]:
        if purge == "archive":
            return self._archives_due(cutoff, held)[:limit]
        clock, where, parameters = self._due_where(purge, cutoff, held)
        found = self._store.query_across_partitions(
            DSR_REQUESTS,
            f"SELECT TOP {int(limit)} c.id, c.{clock} FROM c WHERE {where} ORDER BY c.{clock}",  # noqa: S608 - ours
            parameters,
        )
        return [DueRequest(str(d["id"]), moment(d.get(clock)) or cutoff) for d in found]

    def count_due(self, purge: RequestPurge, cutoff: datetime, held: HeldSet | None) -> tuple[int, datetime | None]:
        if purge == "archive":
            due = self._archives_due(cutoff, held)
            return len(due), due[0].since if due else None
        clock, where, parameters = self._due_where(purge, cutoff, held)
        count = self._store.query_value(DSR_REQUESTS, f"SELECT VALUE COUNT(1) FROM c WHERE {where}", parameters)  # noqa: S608
        oldest = self._store.query_value(DSR_REQUESTS, f"SELECT VALUE MIN(c.{clock}) FROM c WHERE {where}", parameters)  # noqa: S608
        return int(count or 0), moment(oldest)

    def held_by_subject(self, held: HeldSet) -> frozenset[str]:
        if not held.subjects_held:
            return frozenset()
        found = self._store.query_across_partitions(
            DSR_REQUESTS,
            "SELECT c.id FROM c WHERE ARRAY_CONTAINS(@heldKeys, c.subjectKey) OR ARRAY_CONTAINS(@heldUsers, c.userId)",
            {"@heldKeys": sorted(held.subject_keys), "@heldUsers": sorted(held.user_ids)},
        )
        return frozenset(str(d["id"]) for d in found)

    def purge(self, purge: RequestPurge, request_id: str, at: datetime) -> bool:
        done = False

        def archive_deleted(request: DsrRequest) -> None:
            nonlocal done
            if request.archive_blob is not None:
                request.note(at, "retention", "archive-deleted", request.archive_blob.rsplit("/", 1)[-1])
                request.archive_blob, done = None, True

        def close(request: DsrRequest) -> None:
            nonlocal done
            done = request.close_unconfirmed(at)

        if purge == "closed":
            request = self.get(request_id)
            if request is None or request.is_open:
                return False
            return self._store.delete(DSR_REQUESTS, request_id, request_id)
        try:
            self.change(request_id, archive_deleted if purge == "archive" else close)
        except RequestNotFound:
            return False
        return done

    def _archives_due(self, cutoff: datetime, held: HeldSet | None) -> list[DueRequest]:
        """Archives of requests closed before ``cutoff`` (the rule's clock is the closing, when the link
        was mailed: the person's time to download never starts before they are told): few (they live
        days), so read whole and filtered here."""
        due = [
            DueRequest(r.id, r.closed_at, r.archive_blob)
            for r in self.archived_exports()
            if r.closed_at is not None
            and r.closed_at < cutoff
            and (held is None or not held.covers_request(r.id, r.subject_key, r.user_id))
        ]
        return sorted(due, key=lambda d: d.since)

    @staticmethod
    def _due_where(purge: RequestPurge, cutoff: datetime, held: HeldSet | None) -> tuple[str, str, dict[str, Any]]:
        if purge == "unconfirmed":
            clock, clauses = "receivedAt", [f"c.status = '{Status.AWAITING_VERIFICATION.value}'"]
        else:
            clock, clauses = "closedAt", [f"NOT (c.status IN ({_OPEN}))"]
        clauses.append(f"c.{clock} < @cutoff")
        parameters: dict[str, Any] = {"@cutoff": stored_cutoff(cutoff)}
        if held is not None:
            clauses += [
                "NOT ARRAY_CONTAINS(@heldRequests, c.id)",
                "NOT ARRAY_CONTAINS(@heldKeys, c.subjectKey)",
                "NOT ARRAY_CONTAINS(@heldUsers, c.userId)",
            ]
            parameters |= {
                "@heldRequests": sorted(held.request_ids),
                "@heldKeys": sorted(held.subject_keys),
                "@heldUsers": sorted(held.user_ids),
            }
        return clock, " AND ".join(clauses), parameters

    def _find(self, where: str, parameters: dict[str, str]) -> list[DsrRequest]:
        documents = self._store.query_across_partitions(
            DSR_REQUESTS,
            f"SELECT * FROM c WHERE {where}",  # noqa: S608 - callers pass fixed clauses, values are parameters
            parameters,
        )
        return [DsrRequest.from_document(d, None) for d in documents]
