"""Host keys as the host checks them, from LOCAL_HOST_FUNCTION_KEYS and LOCAL_HOST_MASTER_KEY.

FUNCTION-level routes take a function key or the master key; the admin API only the master key.
The key comes in the x-functions-key header or the code query parameter; the header wins when both
are sent. With no keys configured nothing is checked, as under func start.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

KEY_HEADER = "x-functions-key"
KEY_QUERY_PARAMETER = "code"


class KeyAuthorizer:
    def __init__(self, settings: Mapping[str, str]) -> None:
        self._master_key = settings.get("LOCAL_HOST_MASTER_KEY", "").strip()
        keys = settings.get("LOCAL_HOST_FUNCTION_KEYS", "").split(",")
        self._function_keys = [key.strip() for key in keys if key.strip()]

    @property
    def keys_configured(self) -> bool:
        return bool(self._master_key or self._function_keys)

    def allows(self, headers: Mapping[str, str], query: Mapping[str, str], admin: bool) -> bool:
        if not self.keys_configured:
            return True
        presented = (headers.get(KEY_HEADER) or query.get(KEY_QUERY_PARAMETER) or "").encode()
        accepted = [self._master_key] if admin else [self._master_key, *self._function_keys]
        return any(key and hmac.compare_digest(presented, key.encode()) for key in accepted)
