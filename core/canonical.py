"""The one JSON form that is hashed and signed here: sorted keys, no spaces, UTF-8.

A module of its own so that the consent ledger, which hashes with it on every import path, does not
load the signature code (and ``cryptography``) with it.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
