"""ArchiveStore on Azure Blob Storage through the official ``azure-storage-blob`` SDK.

An export archive is a ZIP written as a stream: ``zipfile`` writes into a non-seekable sink that
stages a block of about 4 MiB whenever it has one, and the block list is committed on close. Memory
stays flat however many items go in. Links are read-only SAS URLs, signed with the account key
(local Azurite, connection string) or with a user delegation key (managed identity in Azure).

Blob names are ``{subject_key}/{request_id}.zip``: the subject key is a keyed hash, so no blob name,
URL or log line ever holds an email. Each archive carries the blob index tag ``legalHold``
(``declarations/storage.json``): ``none``, or ``held`` while a legal hold covers it; the storage
account's lifecycle rule deletes only archives tagged ``none``.
"""

from __future__ import annotations

import json
import re
import secrets
import stat
import threading
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import IO, Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import (
    BlobBlock,
    BlobClient,
    BlobSasPermissions,
    BlobServiceClient,
    ContentSettings,
    generate_blob_sas,
)

from core.ports import Confirmation
from core.settings import Settings, SettingsError

DEFAULT_CONTAINER = "exports"
HOLD_TAG, FREE, HELD = "legalHold", "none", "held"  # declarations/storage.json: exports.holdTag
DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024
MAX_BLOCKS = 50_000  # Azure's limit per block blob
MAX_LINK_VALIDITY = timedelta(days=7)  # a user delegation key lives at most seven days
CLOCK_SKEW = timedelta(minutes=5)
_ENTRY_FLUSH_BYTES = 64 * 1024  # items are handed to the compressor in batches of about this size

# Keyed hashes (hex), request ids (uuid, ulid, ...): no "@", no "/", nothing to traverse with.
_NAME_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_BLOB_NAME = re.compile(rf"({_NAME_PART.pattern})/({_NAME_PART.pattern})\.zip")


def archive_blob_name(subject_key: str, request_id: str) -> str:
    """``{subject_key}/{request_id}.zip``; refuses anything that does not look like a key or an id."""
    return f"{_name_part(subject_key, 'subject key')}/{_name_part(request_id, 'request id')}.zip"


def _name_part(value: str, label: str) -> str:
    if not _NAME_PART.fullmatch(value) or ".." in value:
        # The value is not repeated: a caller that passed an email by mistake must not log it.
        raise ValueError(f"the {label} must be 1-128 letters, digits, '_', '-' or '.'")
    return value


class BlobArchiveStore:
    def __init__(
        self,
        service: BlobServiceClient,
        container: str = DEFAULT_CONTAINER,
        *,
        block_size: int = DEFAULT_BLOCK_SIZE,
    ) -> None:
        if block_size < 1:
            raise ValueError("block_size must be positive")
        self._service = service
        self._container = service.get_container_client(container)
        self._block_size = block_size
        self._container_ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, container: str = DEFAULT_CONTAINER) -> BlobArchiveStore:
        connection_string = settings.get("AzureWebJobsStorage")
        if connection_string:
            return cls(BlobServiceClient.from_connection_string(connection_string), container)
        account = settings.get("AzureWebJobsStorage__accountName")
        if not account:
            raise SettingsError(
                "app setting AzureWebJobsStorage__accountName is required when AzureWebJobsStorage is empty"
            )
        from azure.identity import DefaultAzureCredential

        service = BlobServiceClient(f"https://{account}.blob.core.windows.net", credential=DefaultAzureCredential())
        return cls(service, container)

    @property
    def container_name(self) -> str:
        return str(self._container.container_name)

    def open_archive(self, subject_key: str, request_id: str, held: bool = False) -> BlobArchiveWriter:
        """A writer for a new archive; nothing is visible until ``close()`` commits it, tagged held or free.

        Writing the same subject and request again replaces the archive on commit (a retried step).
        """
        blob_name = archive_blob_name(subject_key, request_id)
        self._ensure_container()
        tags = {HOLD_TAG: HELD if held else FREE}
        return BlobArchiveWriter(self._container.get_blob_client(blob_name), self._block_size, tags)

    def archive_names(self, subject_key: str) -> list[str]:
        prefix = _name_part(subject_key, "subject key") + "/"
        try:
            return [blob.name for blob in self._container.list_blobs(name_starts_with=prefix)]
        except ResourceNotFoundError:  # no container yet: nothing was ever written
            return []

    def mark_held(self, blob_name: str, held: bool) -> None:
        if not _BLOB_NAME.fullmatch(blob_name) or ".." in blob_name:
            raise ValueError("not an archive blob name ({subject_key}/{request_id}.zip)")
        with suppress(ResourceNotFoundError):  # deleted meanwhile: nothing to mark
            self._container.get_blob_client(blob_name).set_blob_tags({HOLD_TAG: HELD if held else FREE})

    def share_link(self, blob_name: str, valid_for: timedelta) -> str:
        """A read-only SAS URL for one archive, valid from now (less clock skew) for ``valid_for``."""
        if not _BLOB_NAME.fullmatch(blob_name) or ".." in blob_name:
            raise ValueError("not an archive blob name ({subject_key}/{request_id}.zip)")
        if not timedelta(0) < valid_for <= MAX_LINK_VALIDITY:
            raise ValueError(f"a link is valid for more than 0 and at most {MAX_LINK_VALIDITY.days} days")
        now = datetime.now(UTC)
        start, expiry = now - CLOCK_SKEW, now + valid_for
        blob = self._container.get_blob_client(blob_name)
        options: dict[str, Any] = {
            "permission": BlobSasPermissions(read=True),
            "start": start,
            "expiry": expiry,
        }
        if blob.scheme == "https":
            options["protocol"] = "https"
        account_key = getattr(self._service.credential, "account_key", None)
        if isinstance(account_key, str) and account_key:
            sas = generate_blob_sas(
                self._service.account_name or "", self.container_name, blob_name, account_key=account_key, **options
            )
        else:
            delegation_key = self._service.get_user_delegation_key(key_start_time=start, key_expiry_time=expiry)
            sas = generate_blob_sas(
                self._service.account_name or "",
                self.container_name,
                blob_name,
                user_delegation_key=delegation_key,
                **options,
            )
        return f"{blob.url}?{sas}"

    def delete_archives(self, subject_key: str, keep: frozenset[str] = frozenset()) -> list[Confirmation]:
        """Deletes every archive under the subject's prefix (with its snapshots), one confirmation each,
        except those of the requests in ``keep``."""
        names = [n for n in self.archive_names(subject_key) if n.rsplit("/", 1)[-1].removesuffix(".zip") not in keep]
        confirmations: list[Confirmation] = []
        for name in names:
            # Deleted since it was listed (a concurrent retry): gone all the same.
            with suppress(ResourceNotFoundError):
                self._container.delete_blob(name, delete_snapshots="include")
            confirmations.append(Confirmation("blob", "archive.deleted", name))
        return confirmations

    def delete_archive(self, blob_name: str) -> Confirmation:
        """Deletes one archive (with its snapshots); one already gone is confirmed too."""
        with suppress(ResourceNotFoundError):
            self._container.delete_blob(blob_name, delete_snapshots="include")
        return Confirmation("blob", "archive.deleted", blob_name)

    def _ensure_container(self) -> None:
        if self._container_ready:
            return
        with self._lock:
            if not self._container_ready:
                with suppress(ResourceExistsError):
                    self._container.create_container()
                self._container_ready = True


class _BlockSink:
    """A non-seekable, write-only file for ``zipfile`` that stages blocks of the blob as it fills."""

    def __init__(self, blob: BlobClient, block_size: int, tags: Mapping[str, str] | None = None) -> None:
        self._blob = blob
        self._block_size = block_size
        self._tags = dict(tags or {})
        self._buffer = bytearray()
        # Ids are unique per writer, so a retried archive never mixes in blocks of an earlier attempt.
        self._prefix = secrets.token_hex(8)
        self._block_ids: list[str] = []
        self.bytes_written = 0

    def write(self, data: bytes, /) -> int:
        size = len(data)
        self._buffer += data
        self.bytes_written += size
        if len(self._buffer) >= self._block_size:
            self._stage()
        return size

    def flush(self) -> None:
        """Nothing: data goes out a whole block at a time, and the rest on commit."""

    def close(self) -> None:
        """Nothing: ``commit`` or ``discard`` end the sink, ``zipfile`` never closes a file it was given."""

    @property
    def blocks_staged(self) -> int:
        return len(self._block_ids)

    def commit(self, content_settings: ContentSettings) -> None:
        self._stage()
        blocks = [BlobBlock(block_id) for block_id in self._block_ids]
        self._blob.commit_block_list(blocks, content_settings=content_settings, tags=self._tags or None)

    def discard(self) -> None:
        self._buffer = bytearray()
        self._block_ids.clear()  # staged blocks that are never committed expire on their own

    def _stage(self) -> None:
        if not self._buffer:
            return
        if len(self._block_ids) >= MAX_BLOCKS:
            raise ValueError("the archive is larger than a block blob can hold with this block size")
        block_id = f"{self._prefix}-{len(self._block_ids):06d}"
        self._blob.stage_block(block_id, bytes(self._buffer))
        self._block_ids.append(block_id)
        self._buffer = bytearray()  # cleared only once staged: a failed stage can be retried by close()


class BlobArchiveWriter:
    """Writes one archive. Use it as a context manager, or call ``close()`` to commit it.

    If adding an entry fails (say, the item source raised mid-way) the writer refuses to commit:
    a half-written export is never published. Leaving the ``with`` block with an exception discards
    the archive; a blob already committed by an earlier attempt stays as it was.
    """

    def __init__(self, blob: BlobClient, block_size: int, tags: Mapping[str, str] | None = None) -> None:
        self._blob = blob
        self._sink = _BlockSink(blob, block_size, tags)
        self._zip = zipfile.ZipFile(self._sink, mode="w", compression=zipfile.ZIP_DEFLATED)
        self._names: set[str] = set()
        self._failed = False
        self._committed = False

    @property
    def blob_name(self) -> str:
        return str(self._blob.blob_name)

    @property
    def blocks_staged(self) -> int:
        return self._sink.blocks_staged

    def add_json_array(self, name: str, items: Iterable[Mapping[str, Any]]) -> int:
        """Streams ``items`` into ``name`` as a JSON array, one item a line; returns how many."""
        count = 0
        with self._entry(name) as entry:
            pending: list[bytes] = [b"["]
            pending_bytes = 1
            for item in items:
                encoded = _encode(item)
                pending.append(b"\n" if count == 0 else b",\n")
                pending.append(encoded)
                pending_bytes += len(encoded) + 2
                count += 1
                if pending_bytes >= _ENTRY_FLUSH_BYTES:
                    entry.write(b"".join(pending))
                    pending, pending_bytes = [], 0
            pending.append(b"\n]\n" if count else b"]\n")
            entry.write(b"".join(pending))
        return count

    def add_json(self, name: str, document: Mapping[str, Any]) -> None:
        encoded = json.dumps(_plain(document), default=str, ensure_ascii=False, indent=2).encode() + b"\n"
        with self._entry(name, size=len(encoded)) as entry:
            entry.write(encoded)

    def add_text(self, name: str, text: str) -> None:
        encoded = text.encode()
        with self._entry(name, size=len(encoded)) as entry:
            entry.write(encoded)

    def close(self) -> str:
        """Finishes the ZIP and commits the blob (``application/zip``); returns its name.

        Calling it again after a success changes nothing; after a failed commit it tries again.
        """
        if self._committed:
            return self.blob_name
        if self._failed:
            raise RuntimeError("an entry of this archive failed; open a new archive instead")
        try:
            self._zip.close()  # writes the central directory; a failure here leaves it incomplete
        except BaseException:
            self._failed = True
            raise
        request_id = self.blob_name.rsplit("/", 1)[-1]
        self._sink.commit(
            ContentSettings(
                content_type="application/zip",
                content_disposition=f'attachment; filename="privacy-export-{request_id}"',
            )
        )
        self._committed = True
        return self.blob_name

    def discard(self) -> None:
        """Drops what was written; nothing is committed."""
        self._failed = True
        self._sink.discard()

    def __enter__(self) -> BlobArchiveWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        elif not self._committed:
            self.discard()

    @contextmanager
    def _entry(self, name: str, size: int | None = None) -> Iterator[IO[bytes]]:
        """An entry to write; ``size`` when known up front, else ZIP64 (the sink cannot seek back to fix sizes)."""
        if self._committed or self._failed:
            raise RuntimeError("the archive is already closed or failed")
        if not name or name.startswith("/") or "\\" in name or ".." in name.split("/"):
            raise ValueError("an entry name must be a relative path without '..'")
        if name in self._names:
            raise ValueError("an entry with this name was already added")
        self._names.add(name)
        info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (stat.S_IFREG | 0o644) << 16  # a plain rw-r--r-- file when unpacked on Unix
        if size is not None:
            info.file_size = size
        try:
            with self._zip.open(info, mode="w", force_zip64=size is None) as entry:
                yield entry
        except BaseException:
            self._failed = True
            raise


def _plain(value: Mapping[str, Any]) -> dict[str, Any]:
    return value if isinstance(value, dict) else dict(value)


def _encode(item: Mapping[str, Any]) -> bytes:
    return json.dumps(_plain(item), default=str, ensure_ascii=False).encode()
