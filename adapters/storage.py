"""Storage queues through the official SDK: by connection string locally, by managed identity in Azure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from azure.storage.queue import QueueServiceClient


def queue_service(settings: Settings) -> QueueServiceClient:
    from azure.storage.queue import QueueServiceClient

    connection_string = settings.get("AzureWebJobsStorage")
    if connection_string:
        return QueueServiceClient.from_connection_string(connection_string)
    from azure.identity import DefaultAzureCredential

    account = settings.get("AzureWebJobsStorage__accountName")
    return QueueServiceClient(f"https://{account}.queue.core.windows.net", credential=DefaultAzureCredential())
