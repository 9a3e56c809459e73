"""Shapes third-party records for people reading their own export: times as ISO 8601, not Unix seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso_times(value: Any, keys: frozenset[str]) -> Any:
    """A copy where every integer under one of ``keys`` (at any depth) is an ISO 8601 UTC time."""
    if isinstance(value, list):
        return [iso_times(item, keys) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: (
            datetime.fromtimestamp(item, UTC).isoformat()
            if key in keys and isinstance(item, int) and not isinstance(item, bool)
            else iso_times(item, keys)
        )
        for key, item in value.items()
    }
