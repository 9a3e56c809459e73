"""Storage queues through the official SDK: by connection string locally, by managed identity in Azure."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.ports import Document
from core.settings import Settings

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient, QueueServiceClient


def queue_service(settings: Settings) -> QueueServiceClient:
    from azure.storage.queue import QueueServiceClient

    connection_string = settings.get("AzureWebJobsStorage")
    if connection_string:
        return QueueServiceClient.from_connection_string(connection_string)
    from azure.identity import DefaultAzureCredential

    account = settings.get("AzureWebJobsStorage__accountName")
    return QueueServiceClient(f"https://{account}.queue.core.windows.net", credential=DefaultAzureCredential())


class StorageWorkQueue:
    """Sends base64 JSON messages, the encoding the Functions host's queue trigger expects by default."""

    def __init__(self, service: QueueServiceClient) -> None:
        self._service = service
        self._clients: dict[str, QueueClient] = {}
        self._lock = threading.Lock()

    def _client(self, queue: str) -> QueueClient:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.queue import BinaryBase64DecodePolicy, TextBase64EncodePolicy

        with self._lock:
            client = self._clients.get(queue)
            if client is None:
                client = self._service.get_queue_client(
                    queue,
                    message_encode_policy=TextBase64EncodePolicy(),
                    message_decode_policy=BinaryBase64DecodePolicy(),
                )
                with contextlib.suppress(ResourceExistsError):
                    client.create_queue()
                self._clients[queue] = client
            return client

    def send(self, queue: str, message: Mapping[str, Any], delay: timedelta | None = None) -> None:
        visibility = int(delay.total_seconds()) if delay else None
        self._client(queue).send_message(
            json.dumps(dict(message), separators=(",", ":")), visibility_timeout=visibility
        )

    def ping(self) -> None:
        # A data-plane call (list one queue page): the app's Storage Queue Data role covers it, while
        # reading service properties would need a management role it does not have.
        next(iter(self._service.list_queues(results_per_page=1, timeout=5)), None)

    def peek_poison(self, queue: str, limit: int) -> list[Document]:
        peeked = self._client(f"{queue}-poison").peek_messages(max_messages=min(limit, 32))
        messages: list[Document] = []
        for item in peeked:
            try:
                body = json.loads(item.content)
            except (TypeError, ValueError):
                body = {"unreadable": True}
            messages.append({"messageId": item.id, "insertedOn": str(item.inserted_on), "message": body})
        return messages
