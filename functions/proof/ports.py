"""What public proof needs from outside: an asymmetric key whose private half never leaves its vault,
and a store that only ever adds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class RootKeyVersion:
    """One version of the vault key: its public half as a JWK, and its key id in the published set."""

    kid: str
    public_jwk: Mapping[str, str]
    created_on: datetime


class RootKey(Protocol):
    """An EC P-256 key held by a vault (Key Vault in Azure, a key file in the local stack's state folder).

    Rotation adds a version: the newest usable one signs, every enabled one stays published, so
    what older versions signed still verifies. Disabling a version withdraws it from the key set.
    """

    def signing_version(self) -> RootKeyVersion:
        """The newest version that may sign now (one read of the vault)."""
        ...

    def published_versions(self) -> list[RootKeyVersion]:
        """Every enabled version, oldest first: the published key set."""
        ...

    def sign_digest(self, version: RootKeyVersion, digest: bytes) -> bytes:
        """ES256 over a SHA-256 digest, done by the vault; the raw 64-byte r||s JWS signature."""
        ...


# Chunks of this size are uploaded as one block each, as they come: memory holds two at most (one being
# staged, the next being filled), whatever the blob's size. Azure takes 50,000 blocks a blob: 3.2 GB,
# a hundred million leaves in one seal.
UPLOAD_BLOCK_BYTES = 64 * 1024


class AppendOnlyStore(Protocol):
    """Blobs that are written once and never changed or deleted (an immutable container in Azure)."""

    def add(self, name: str, chunks: Iterable[bytes], content_type: str) -> bool:
        """Stores a new blob from its chunks (best given in pieces of ``UPLOAD_BLOCK_BYTES``); False,
        changing nothing, when that name exists already."""
        ...

    def read(self, name: str) -> bytes | None: ...
