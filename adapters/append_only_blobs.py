"""AppendOnlyStore on Azure Blob Storage: blobs are only ever created, never overwritten or deleted.

Creation is conditional (``If-None-Match: *``), so a second writer of the same name changes nothing.
In Azure the container also has version-level immutability with a time-based retention policy
(infra/modules/ledgerseals.bicep), so not even the app's identity could change what is written;
locally Azurite keeps only the create-only rule. A blob goes up in blocks of 256 KiB, of which the
SDK holds about two while it stages one, so memory stays flat whatever a blob's size: a seal of
100,000 chains (3.2 MB of leaves) holds what a seal of 10,000 does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from core.settings import Settings

BLOCK_BYTES = 256 * 1024  # Azure allows 50,000 blocks a blob: 12 GiB, 400 million leaves


def seal_blob_service(settings: Settings) -> BlobServiceClient:
    """The seals' account: its own endpoint in Azure (managed identity), the local Azurite otherwise."""
    options: dict[str, Any] = {"max_single_put_size": BLOCK_BYTES, "max_block_size": BLOCK_BYTES}
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
