"""host.json and app settings, read the way the Functions host reads them.

Only the options this host implements are accepted; any other key under ``extensions.http`` or
``extensions.queues`` stops the host at start-up rather than being silently ignored.
"""

from __future__ import annotations

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
# This host's own settings.
DEFAULT_BODY_TIMEOUT_SECONDS = 15.0  # LOCAL_HOST_REQUEST_BODY_TIMEOUT_SECONDS
DEFAULT_QUEUE_LEASE_SECONDS = 600  # LOCAL_HOST_QUEUE_LEASE_SECONDS: the host's 10 minutes

_HTTP_KEYS = {"routeprefix"}
_QUEUE_KEYS = {"batchsize", "maxdequeuecount", "visibilitytimeout", "maxpollinginterval", "messageencoding"}
# App settings that change how the host behaves, for features this host does not implement.
_UNSUPPORTED_SETTINGS = re.compile(r"WEBSITE_TIME_ZONE|Host__CORS\w*|AzureWebJobs[._].+[._]Disabled")
_TIMESPAN = re.compile(
    r"^(?:(?P<days>\d+)\.)?(?P<hours>\d{1,2}):(?P<minutes>\d{1,2})"
    r"(?::(?P<seconds>\d{1,2})(?:\.(?P<fraction>\d{1,7}))?)?$"
)


class HostConfigError(ValueError):
    """host.json, an app setting or a function's declaration cannot be used as written."""


def refuse_unsupported_settings(settings: Mapping[str, str]) -> None:
    """Time zones, platform CORS and disabled functions would silently behave differently here: refused."""
    if found := sorted(name for name in settings if _UNSUPPORTED_SETTINGS.fullmatch(name)):
        raise HostConfigError(f"app setting {found[0]} is not supported by the local host")


def parse_timespan(text: str) -> timedelta:
    """A .NET TimeSpan as host.json writes it: [d.]hh:mm[:ss[.fffffff]]."""
    match = _TIMESPAN.match(text.strip())
    if match is None:
        raise HostConfigError(f"{text!r} is not a TimeSpan (expected hh:mm:ss)")
    parts = match.groupdict()
    hours, minutes, seconds = int(parts["hours"]), int(parts["minutes"]), int(parts["seconds"] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise HostConfigError(f"{text!r} is not a TimeSpan (a field is out of range)")
    fraction = float(f"0.{parts['fraction']}") if parts["fraction"] else 0.0
    return timedelta(days=int(parts["days"] or 0), hours=hours, minutes=minutes, seconds=seconds + fraction)


def lookup(section: Mapping[str, Any], *path: str) -> Any:
    """host.json keys are case-insensitive for the host, so "routePrefix" and "RoutePrefix" both count."""
    value: Any = section
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = next((item for name, item in value.items() if name.lower() == key.lower()), None)
    return value


def _section(host_json: Mapping[str, Any], name: str, known: set[str]) -> Mapping[str, Any]:
    section = lookup(host_json, "extensions", name) or {}
    if unknown := sorted(key for key in section if key.lower() not in known):
        raise HostConfigError(f"host.json extensions.{name}.{unknown[0]} is not supported by the local host")
    return section


def _positive_setting(settings: Mapping[str, str], name: str, default: float, unit: str = "seconds") -> float:
    text = settings.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise HostConfigError(f"{name} must be a positive number of {unit}")
    return value


@dataclass(frozen=True)
class HttpOptions:
    route_prefix: str = DEFAULT_ROUTE_PREFIX
    max_request_body_size: int = DEFAULT_REQUEST_BODY_LIMIT
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS

    @classmethod
    def from_config(cls, host_json: Mapping[str, Any], settings: Mapping[str, str]) -> HttpOptions:
        prefix = lookup(_section(host_json, "http", _HTTP_KEYS), "routePrefix")
        limit = _positive_setting(settings, "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT", DEFAULT_REQUEST_BODY_LIMIT, "bytes")
        return cls(
            route_prefix=DEFAULT_ROUTE_PREFIX if prefix is None else str(prefix).strip("/"),
            max_request_body_size=int(limit),
            body_timeout_seconds=_positive_setting(
                settings, "LOCAL_HOST_REQUEST_BODY_TIMEOUT_SECONDS", DEFAULT_BODY_TIMEOUT_SECONDS
            ),
        )


@dataclass(frozen=True)
class QueueOptions:
    batch_size: int = DEFAULT_BATCH_SIZE
    max_polling_interval: timedelta = DEFAULT_MAX_POLLING_INTERVAL
    visibility_timeout: timedelta = timedelta(0)
    max_dequeue_count: int = DEFAULT_MAX_DEQUEUE_COUNT
    lease: timedelta = timedelta(seconds=DEFAULT_QUEUE_LEASE_SECONDS)

    @property
    def new_batch_threshold(self) -> int:
        """The host fetches again once half a batch is left (the default on the Consumption plans)."""
        return self.batch_size // 2

    @classmethod
    def from_config(cls, host_json: Mapping[str, Any], settings: Mapping[str, str]) -> QueueOptions:
        queues = _section(host_json, "queues", _QUEUE_KEYS)
        encoding = str(lookup(queues, "messageEncoding") or "base64").strip().lower()
        if encoding != "base64":
            raise HostConfigError(f"extensions.queues.messageEncoding {encoding!r} is not supported (base64 is)")
        polling = _timespan_option(queues, "maxPollingInterval", DEFAULT_MAX_POLLING_INTERVAL)
        if polling < MIN_POLLING_INTERVAL:
            raise HostConfigError("extensions.queues.maxPollingInterval must be at least 00:00:00.1")
        lease = _positive_setting(settings, "LOCAL_HOST_QUEUE_LEASE_SECONDS", DEFAULT_QUEUE_LEASE_SECONDS)
        return cls(
            batch_size=_int_option(queues, "batchSize", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE),
            max_polling_interval=polling,
            visibility_timeout=_timespan_option(queues, "visibilityTimeout", timedelta(0)),
            max_dequeue_count=_int_option(queues, "maxDequeueCount", DEFAULT_MAX_DEQUEUE_COUNT, 1, None),
            lease=timedelta(seconds=max(1, round(lease))),  # the queue service counts whole seconds
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
