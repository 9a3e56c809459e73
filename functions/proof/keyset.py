"""The published key set (JWKS) of this instance, read from the vault key's versions now and then.

Served at ``GET /api/proof/jwks.json`` and used to check documents this service is shown. A document
certified by a version this instance has not seen yet (just rotated) makes it read the versions
again, at most every 30 seconds.
"""

from __future__ import annotations

import threading
import time

from functions.proof.ports import RootKey
from functions.proof.trust import NotAuthentic, PublishedKeys, Verified, verify_document

REFRESH_SECONDS = 600
UNKNOWN_KEY_REFRESH_SECONDS = 30


class KeySet:
    def __init__(self, root: RootKey, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._root = root
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._keys: PublishedKeys | None = None
        self._loaded_at = 0.0

    def published(self, force: bool = False) -> PublishedKeys:
        with self._lock:
            if force or self._keys is None or time.monotonic() - self._loaded_at > self._refresh:
                versions = self._root.published_versions()
                self._keys = PublishedKeys({v.kid: dict(v.public_jwk) for v in versions})
                self._loaded_at = time.monotonic()
            return self._keys

    def verify(self, token: str, expected_type: str) -> Verified:
        try:
            return verify_document(token, self.published(), expected_type)
        except NotAuthentic:
            if time.monotonic() - self._loaded_at < UNKNOWN_KEY_REFRESH_SECONDS:
                raise
            return verify_document(token, self.published(force=True), expected_type)
