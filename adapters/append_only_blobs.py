"""AppendOnlyStore on Azure Blob Storage: blobs are only ever created, never overwritten or deleted.

Creation is conditional (``If-None-Match: *``), so a second writer of the same name changes nothing.
In Azure the container also has version-level immutability with a time-based retention policy
(infra/modules/ledgerseals.bicep), so not even the app's identity could change what is written;
locally Azurite keeps only the create-only rule. A blob goes up in blocks of ``UPLOAD_BLOCK_BYTES``:
chunks of exactly that size pass through the SDK without being copied or joined, so memory holds
two blocks at most whatever a blob's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from core.settings import Settings
from functions.proof.ports import UPLOAD_BLOCK_BYTES


def seal_blob_service(settings: Settings) -> BlobServiceClient:
    """The seals' account: its own endpoint in Azure (managed identity), the local Azurite otherwise."""
    options: dict[str, Any] = {"max_single_put_size": UPLOAD_BLOCK_BYTES, "max_block_size": UPLOAD_BLOCK_BYTES}
    endpoint = settings.get("PROOF_SEALS_BLOB_ENDPOINT")
    if endpoint:
        from azure.identity import DefaultAzureCredential

        return BlobServiceClient(endpoint, credential=DefaultAzureCredential(), **options)
    return BlobServiceClient.from_connection_string(settings.get("AzureWebJobsStorage"), **options)


class BlobAppendOnlyStore:
    def __init__(self, service: BlobServiceClient, container: str) -> None:
        self._container = service.get_container_client(container)

    def add(self, name: str, chunks: Iterable[bytes], content_type: str) -> bool:
        try:
            self._container.upload_blob(
                name, iter(chunks), overwrite=False, content_settings=ContentSettings(content_type=content_type)
            )
        except ResourceExistsError:
            return False
        return True

    def read(self, name: str) -> bytes | None:
        try:
            return self._container.download_blob(name).readall()
        except ResourceNotFoundError:
            return None
