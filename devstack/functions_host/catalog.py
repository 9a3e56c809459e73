"""The app's functions, as azure-functions indexes them, checked against what this host implements.

The host implements the triggers and forms the app uses: HTTP (anonymous or function keys; literal
and {name} route segments), six-field NCRONTAB timers (also read from app settings named as
``%NAME%``) and storage queue triggers, each with just its trigger parameter. Anything else stops
the host at start-up with a HostConfigError that names the function and the feature, so nothing
runs here with semantics it would not have in Azure.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import azure.functions as func
from azure.functions.decorators.core import Binding

from .options import HostConfigError
from .routing import RouteTemplate
from .schedules import CronSchedule, resolve_app_settings

RETURN_BINDING = "$return"
POISON_SUFFIX = "-poison"
DEFAULT_STORAGE_CONNECTION = "AzureWebJobsStorage"
# 3-63 characters with room left for the -poison twin the host makes for each trigger queue.
_QUEUE_NAME = re.compile(rf"^[a-z0-9][a-z0-9-]{{1,{61 - len(POISON_SUFFIX)}}}[a-z0-9]$")


@dataclass(frozen=True)
class HttpTriggerSpec:
    route: RouteTemplate
    methods: frozenset[str]  # empty: every method
    needs_key: bool  # AuthLevel.FUNCTION


@dataclass(frozen=True)
class TimerTriggerSpec:
    schedule: CronSchedule
    run_on_startup: bool


@dataclass(frozen=True)
class QueueTriggerSpec:
    queue_name: str
    connection_string: str


TriggerSpec = HttpTriggerSpec | TimerTriggerSpec | QueueTriggerSpec


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    entry_point: Callable[..., Any]
    trigger_parameter: str
    trigger: TriggerSpec


def index_app(app: func.FunctionRegister, settings: Mapping[str, str]) -> list[FunctionSpec]:
    # get_functions() remembers the names of an earlier call and would reject them all as duplicates.
    app.functions_bindings = None
    try:
        functions = app.get_functions()
    except ValueError as error:  # e.g. two functions of one name: the host rejects the whole app
        raise HostConfigError(f"the app's functions cannot be indexed: {error}") from error
    specs = []
    for function in functions:
        name = str(function.get_function_name())
        try:
            specs.append(_function_spec(name, function, settings))
        except HostConfigError as error:
            raise HostConfigError(f"function {name!r}: {error}") from None
    return specs


def _function_spec(name: str, function: func.Function, settings: Mapping[str, str]) -> FunctionSpec:
    trigger = function.get_trigger()
    if trigger is None:
        raise HostConfigError("it has no trigger")
    entry_point = function.get_user_function()
    if inspect.iscoroutinefunction(entry_point):
        raise HostConfigError("async functions are not supported by the local host; define it with def")
    if function.get_settings_dict("retry_policy"):
        raise HostConfigError("retry policies are not supported by the local host")
    for binding in function.get_bindings():
        if binding is not trigger and not (binding.type == "http" and binding.name == RETURN_BINDING):
            raise HostConfigError(
                f"binding {binding.name!r} of type {binding.type!r} is not supported by the local host "
                "(only the trigger, and the HTTP response as the return value)"
            )
    if list(inspect.signature(entry_point).parameters) != [trigger.name]:
        raise HostConfigError(
            f"it must take just its trigger parameter {trigger.name!r}; "
            "the invocation context and other parameters are not supported by the local host"
        )
    return FunctionSpec(name, entry_point, trigger.name, _trigger_spec(name, trigger, settings))


def _trigger_spec(name: str, trigger: Binding, settings: Mapping[str, str]) -> TriggerSpec:
    if trigger.type == "httpTrigger":
        route = str(_field(trigger, "route") or name)  # unset, the host uses the function's name
        # The host reserves admin/... for itself and compares only the start of the route.
        if route.lstrip("/").lower().startswith("admin"):
            raise HostConfigError(f"route {route!r} conflicts with the host's built-in admin routes")
        level = _enum_text(_field(trigger, "auth_level") or func.AuthLevel.FUNCTION).lower()
        if level not in {"anonymous", "function"}:
            raise HostConfigError(f"auth level {level!r} is not supported by the local host (anonymous, function)")
        methods = frozenset(_enum_text(method).upper() for method in _field(trigger, "methods") or ())
        return HttpTriggerSpec(RouteTemplate(route), methods, needs_key=level == "function")
    if trigger.type == "timerTrigger":
        if _field(trigger, "use_monitor") is not None:
            raise HostConfigError("use_monitor is not supported by the local host")
        schedule = resolve_app_settings(str(_field(trigger, "schedule") or ""), settings)
        return TimerTriggerSpec(CronSchedule(schedule), bool(_field(trigger, "run_on_startup")))
    if trigger.type == "queueTrigger":
        return QueueTriggerSpec(
            _queue_name(_field(trigger, "queue_name")), _connection(_field(trigger, "connection"), settings)
        )
    raise HostConfigError(f"trigger type {trigger.type!r} is not supported by the local host (http, timer, queue)")


def _field(binding: Binding, attribute: str) -> Any:
    """Typed and generic bindings both keep their declared fields as attributes."""
    return getattr(binding, attribute, None)


def _enum_text(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _queue_name(declared: Any) -> str:
    name = str(declared or "").lower()  # the host lower-cases queue names before it checks them
    if not _QUEUE_NAME.match(name) or "--" in name or name.endswith(POISON_SUFFIX):
        raise HostConfigError(
            f"queue {name!r} cannot be a trigger queue here: 3-56 of a-z, 0-9 and single hyphens, "
            f"leaving room for its {POISON_SUFFIX} twin"
        )
    return name


def _connection(declared: Any, settings: Mapping[str, str]) -> str:
    """The connection is the name of an app setting that holds a storage connection string."""
    name = str(declared or DEFAULT_STORAGE_CONNECTION)
    if not settings.get(name):
        raise HostConfigError(f"storage connection setting {name!r} is not set")
    return settings[name]
