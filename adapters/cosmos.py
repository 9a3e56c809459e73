"""DocumentStore on Azure Cosmos DB (NoSQL API) through the official ``azure-cosmos`` SDK."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from azure.core import MatchConditions
from azure.cosmos import ContainerProxy, CosmosClient, PartitionKey, exceptions

from core.containers import DatabaseSpec
from core.ports import Document, DocumentChanged, DocumentConflict, InvalidContinuation, Page, Versioned

# Pages of a bounded size keep memory flat however many items a query finds.
QUERY_PAGE_SIZE = 500
# Operations in one transactional batch: Cosmos DB's limit.
BATCH_LIMIT = 100


class RequestCounter:
    """Counts the document requests that reach Cosmos DB (not account or metadata reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.document_requests = 0
        self.all_requests = 0

    def __call__(self, response: Any) -> None:
        url = str(response.http_request.url)
        with self._lock:
            self.all_requests += 1
            if "/docs" in url:
                self.document_requests += 1

    def reset(self) -> None:
        with self._lock:
            self.document_requests = 0
            self.all_requests = 0


def connect(
    endpoint: str,
    key: str,
    *,
    verify_tls: bool = True,
    counter: RequestCounter | None = None,
) -> CosmosClient:
    """A client by key (local stand-in) or by the app's managed identity (Azure: key empty)."""
    options: dict[str, Any] = {"connection_verify": verify_tls}
    if counter is not None:
        options["raw_response_hook"] = counter
    credential: Any
    if key:
        credential = key
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return CosmosClient(endpoint, credential, **options)


class CosmosDocumentStore:
    def __init__(self, client: CosmosClient, spec: DatabaseSpec) -> None:
        self._database = client.get_database_client(spec.database)
        self._containers: dict[str, ContainerProxy] = {}
        self._declared = {c.id for c in spec.containers}
        self._partition_fields = {c.id: c.partition_key.lstrip("/") for c in spec.containers}

    def _container(self, container: str) -> ContainerProxy:
        proxy = self._containers.get(container)
        if proxy is None:
            if container not in self._declared:
                raise KeyError(f"container {container} is not declared")
            proxy = self._database.get_container_client(container)
            self._containers[container] = proxy
        return proxy

    def read(self, container: str, doc_id: str, partition_key: str) -> Versioned | None:
        try:
            body = self._container(container).read_item(doc_id, partition_key=partition_key)
        except exceptions.CosmosResourceNotFoundError:
            return None
        return _versioned(body)

    def create(self, container: str, body: Document) -> Versioned:
        try:
            created = self._container(container).create_item(body)
        except exceptions.CosmosResourceExistsError:
            raise DocumentConflict(container) from None
        return _versioned(created)

    def create_all(self, container: str, partition_key: str, bodies: Sequence[Document]) -> list[bool]:
        """Per 100 bodies: one query for those that exist, one transactional batch creating the rest."""
        created = [False] * len(bodies)
        for start in range(0, len(bodies), BATCH_LIMIT):
            chunk = range(start, min(start + BATCH_LIMIT, len(bodies)))
            existing = self._existing_ids(container, partition_key, [str(bodies[i]["id"]) for i in chunk])
            pending = [i for i in chunk if str(bodies[i]["id"]) not in existing]
            while pending:
                pending = self._create_batch(container, partition_key, bodies, pending, created)
        return created

    def _existing_ids(self, container: str, partition_key: str, ids: list[str]) -> set[str]:
        field = self._partition_fields[container]
        rows = self._query(
            container,
            f"SELECT c.id FROM c WHERE c.{field} = @partition AND ARRAY_CONTAINS(@ids, c.id)",  # noqa: S608 - declared name
            {"@partition": partition_key, "@ids": ids},
            partition_key=partition_key,
        )
        return {str(row["id"]) for row in rows}

    def _create_batch(
        self, container: str, partition_key: str, bodies: Sequence[Document], pending: list[int], created: list[bool]
    ) -> list[int]:
        """Creates the pending bodies in one batch, marking ``created``; returns those to try again."""
        operations: list[tuple[str, tuple[Any, ...]]] = [("create", (bodies[i],)) for i in pending]
        try:
            self._container(container).execute_item_batch(operations, partition_key=partition_key)
        except exceptions.CosmosBatchOperationError as failure:
            # A document created since the query (409) fails the batch; Cosmos DB applies none of the
            # others (424) and they go again. The local stand-in applies those before it (201).
            statuses = [response.get("statusCode") for response in failure.operation_responses]
            if len(statuses) != len(pending) or 409 not in statuses:
                raise
            for i, status in zip(pending, statuses, strict=True):
                created[i] = status == 201
            return [i for i, status in zip(pending, statuses, strict=True) if status == 424]
        for i in pending:
            created[i] = True
        return []

    def replace(self, container: str, body: Document, etag: str) -> Versioned:
        try:
            replaced = self._container(container).replace_item(
                body["id"], body, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except exceptions.CosmosAccessConditionFailedError:
            raise DocumentChanged(container) from None
        return _versioned(replaced)

    def query(self, container: str, partition_key: str, sql: str, parameters: Mapping[str, Any]) -> Iterator[Document]:
        # The partition key goes both to the SDK and into the WHERE clause of every caller's
        # query: the local stand-in ignores the former.
        return self._query(container, sql, parameters, partition_key=partition_key)

    def query_across_partitions(self, container: str, sql: str, parameters: Mapping[str, Any]) -> Iterator[Document]:
        return self._query(container, sql, parameters, enable_cross_partition_query=True)

    def _query(self, container: str, sql: str, parameters: Mapping[str, Any], **scope: Any) -> Iterator[Document]:
        items = self._container(container).query_items(
            sql,
            parameters=[{"name": name, "value": value} for name, value in parameters.items()],
            max_item_count=QUERY_PAGE_SIZE,
            **scope,
        )
        for item in items:
            yield _strip_system(item)

    def query_page(
        self, container: str, sql: str, parameters: Mapping[str, Any], page_size: int, continuation: str | None
    ) -> Page:
        items = self._container(container).query_items(
            sql,
            parameters=[{"name": name, "value": value} for name, value in parameters.items()],
            max_item_count=page_size,
            enable_cross_partition_query=True,
        )
        sdk_token = _unwrap(continuation) if continuation is not None else None
        try:
            pages: Any = items.by_page(sdk_token)  # its continuation_token is set once a page is read
            page = [_strip_system(item) for item in next(pages, [])]
        except exceptions.CosmosHttpResponseError as exc:
            if sdk_token is not None and exc.status_code == 400:
                raise InvalidContinuation() from None
            raise
        except (ValueError, TypeError, KeyError):  # the SDK could not read a token that looked like one
            if sdk_token is None:
                raise
            raise InvalidContinuation() from None
        token = pages.continuation_token
        return Page(page, base64.urlsafe_b64encode(token.encode()).decode() if token else None)

    def query_value(self, container: str, sql: str, parameters: Mapping[str, Any]) -> Any:
        # The SDK aggregates COUNT and MIN across partitions itself and yields the one result.
        values = self._container(container).query_items(
            sql,
            parameters=[{"name": name, "value": value} for name, value in parameters.items()],
            enable_cross_partition_query=True,
        )
        return next(iter(values), None)

    def upsert(self, container: str, body: Document) -> Versioned:
        return _versioned(self._container(container).upsert_item(body))

    def delete(self, container: str, doc_id: str, partition_key: str, etag: str | None = None) -> bool:
        condition: dict[str, Any] = {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}
        try:
            self._container(container).delete_item(doc_id, partition_key=partition_key, **condition)
        except exceptions.CosmosResourceNotFoundError:
            return False
        except exceptions.CosmosAccessConditionFailedError:
            raise DocumentChanged(container) from None
        return True

    def ping(self) -> None:
        self._database.read()


def _unwrap(continuation: str) -> str:
    """The SDK's token inside ours (base64url of its JSON); anything else was not handed out here."""
    try:
        token = base64.urlsafe_b64decode(continuation.encode("ascii")).decode()
        json.loads(token)
    except (ValueError, UnicodeError):
        raise InvalidContinuation() from None
    return token


def _strip_system(item: Mapping[str, Any]) -> Document:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _versioned(item: Mapping[str, Any]) -> Versioned:
    return Versioned(body=_strip_system(item), etag=str(item.get("_etag", "")))


def provision(client: CosmosClient, spec: DatabaseSpec, on_created: Callable[[str], None] | None = None) -> None:
    """Create the database and every declared container if missing (local stack, tests)."""
    database = client.create_database_if_not_exists(spec.database)
    for container in spec.containers:
        options: dict[str, Any] = {"indexing_policy": container.indexing or None}
        if container.default_ttl is not None:
            options["default_ttl"] = container.default_ttl
        database.create_container_if_not_exists(
            id=container.id, partition_key=PartitionKey(path=container.partition_key), **options
        )
        if on_created:
            on_created(container.id)
