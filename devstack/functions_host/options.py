"""host.json and app settings, read the way the Functions host reads them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# The real host's defaults (Functions v4, storage extension v5).
DEFAULT_ROUTE_PREFIX = "api"
DEFAULT_REQUEST_BODY_LIMIT = 104_857_600  # 100 MB; FUNCTIONS_REQUEST_BODY_SIZE_LIMIT overrides it
DEFAULT_BATCH_SIZE = 16
MAX_BATCH_SIZE = 32
DEFAULT_MAX_DEQUEUE_COUNT = 5
MIN_POLLING_INTERVAL = timedelta(milliseconds=100)
DEFAULT_MAX_POLLING_INTERVAL = timedelta(minutes=1)
DEFAULT_STORAGE_CONNECTION = "AzureWebJobsStorage"

_TIMESPAN = re.compile(
    r"^(?:(?P<days>\d+)\.)?(?P<hours>\d{1,2}):(?P<minutes>\d{1,2})"
    r"(?::(?P<seconds>\d{1,2})(?:\.(?P<fraction>\d{1,7}))?)?$"
)
_SETTING_REFERENCE = re.compile(r"%([^%]+)%")


class HostConfigError(ValueError):
    """host.json, an app setting or a function's declaration cannot be used as written."""


def parse_timespan(text: str) -> timedelta:
    """A .NET TimeSpan string as host.json and timer schedules write it: [d.]hh:mm[:ss[.fffffff]] or d."""
    text = text.strip()
    if text.isdigit():
        return timedelta(days=int(text))
    match = _TIMESPAN.match(text)
    if match is None:
        raise HostConfigError(f"{text!r} is not a TimeSpan (expected hh:mm:ss)")
    parts = match.groupdict()
    hours, minutes, seconds = int(parts["hours"]), int(parts["minutes"]), int(parts["seconds"] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise HostConfigError(f"{text!r} is not a TimeSpan (a field is out of range)")
    fraction = float(f"0.{parts['fraction']}") if parts["fraction"] else 0.0
    return timedelta(days=int(parts["days"] or 0), hours=hours, minutes=minutes, seconds=seconds + fraction)


def resolve_setting_references(text: str, settings: Mapping[str, str]) -> str:
    """Replaces each %NAME% with that app setting, as the host's name resolver does for bindings."""

    def setting_value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise HostConfigError(f"app setting {name!r} (referenced as %{name}%) is not set")
        return settings[name]

    return _SETTING_REFERENCE.sub(setting_value, text)


def setting_is_true(settings: Mapping[str, str], name: str) -> bool:
    return settings.get(name, "").strip().lower() in {"1", "true"}


def lookup(section: Mapping[str, Any], *path: str) -> Any:
    """host.json keys are case-insensitive for the host, so "routePrefix" and "RoutePrefix" both count."""
    value: Any = section
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = next((item for name, item in value.items() if name.lower() == key.lower()), None)
    return value


@dataclass(frozen=True)
class HttpOptions:
    route_prefix: str = DEFAULT_ROUTE_PREFIX
    custom_headers: tuple[tuple[str, str], ...] = ()
    max_request_body_size: int = DEFAULT_REQUEST_BODY_LIMIT

    @classmethod
    def from_config(cls, host_json: Mapping[str, Any], settings: Mapping[str, str]) -> HttpOptions:
        http = lookup(host_json, "extensions", "http") or {}
        prefix = lookup(http, "routePrefix")
        headers = lookup(http, "customHeaders") or {}
        limit = settings.get("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT", "").strip()
        return cls(
            route_prefix=DEFAULT_ROUTE_PREFIX if prefix is None else str(prefix).strip("/"),
            custom_headers=tuple((str(name), str(value)) for name, value in headers.items()),
            max_request_body_size=int(limit) if limit else DEFAULT_REQUEST_BODY_LIMIT,
        )


@dataclass(frozen=True)
class QueueOptions:
    batch_size: int = DEFAULT_BATCH_SIZE
    new_batch_threshold: int = DEFAULT_BATCH_SIZE // 2
    max_polling_interval: timedelta = DEFAULT_MAX_POLLING_INTERVAL
    visibility_timeout: timedelta = timedelta(0)
    max_dequeue_count: int = DEFAULT_MAX_DEQUEUE_COUNT
    base64_messages: bool = True

    @classmethod
    def from_config(cls, host_json: Mapping[str, Any]) -> QueueOptions:
        queues = lookup(host_json, "extensions", "queues") or {}
        batch_size = _int_option(queues, "batchSize", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE)
        # Unset, the host fetches again once half a batch per processor is left.
        default_threshold = batch_size // 2 * (os.cpu_count() or 1)
        polling = _timespan_option(queues, "maxPollingInterval", DEFAULT_MAX_POLLING_INTERVAL)
        if polling < MIN_POLLING_INTERVAL:
            raise HostConfigError("extensions.queues.maxPollingInterval must be at least 00:00:00.1")
        return cls(
            batch_size=batch_size,
            new_batch_threshold=_int_option(queues, "newBatchThreshold", default_threshold, 0, None),
            max_polling_interval=polling,
            visibility_timeout=_timespan_option(queues, "visibilityTimeout", timedelta(0)),
            max_dequeue_count=_int_option(queues, "maxDequeueCount", DEFAULT_MAX_DEQUEUE_COUNT, 1, None),
            base64_messages=_message_encoding_is_base64(lookup(queues, "messageEncoding")),
        )


def _int_option(section: Mapping[str, Any], key: str, default: int, low: int, high: int | None) -> int:
    value = lookup(section, key)
    if value is None:
        return default
    number = int(value)
    if number < low or (high is not None and number > high):
        upper = "" if high is None else f" and at most {high}"
        raise HostConfigError(f"extensions.queues.{key} must be at least {low}{upper}, not {number}")
    return number


def _timespan_option(section: Mapping[str, Any], key: str, default: timedelta) -> timedelta:
    value = lookup(section, key)
    return default if value is None else parse_timespan(str(value))


def _message_encoding_is_base64(value: Any) -> bool:
    encoding = "base64" if value is None else str(value).strip().lower()
    if encoding not in {"base64", "none"}:
        raise HostConfigError(f"extensions.queues.messageEncoding must be base64 or none, not {value!r}")
    return encoding == "base64"
