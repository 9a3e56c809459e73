"""Turns the functions that azure-functions indexes from a FunctionApp into what this host can run."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

import azure.functions as func
from azure.functions.decorators.core import Binding, BindingDirection

from .options import (
    DEFAULT_STORAGE_CONNECTION,
    HostConfigError,
    parse_timespan,
    resolve_setting_references,
    setting_is_true,
)
from .routing import RouteTemplate
from .schedules import Schedule, parse_schedule

RETURN_BINDING = "$return"
CONTEXT_PARAMETER = "context"
_QUEUE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class HttpTriggerSpec:
    route: RouteTemplate
    methods: frozenset[str]  # empty: every method
    auth_level: str  # anonymous, function or admin


@dataclass(frozen=True)
class TimerTriggerSpec:
    schedule: Schedule  # %NAME% references resolved before parsing
    run_on_startup: bool
    use_monitor: bool | None


@dataclass(frozen=True)
class QueueTriggerSpec:
    queue_name: str
    connection_string: str


TriggerSpec = HttpTriggerSpec | TimerTriggerSpec | QueueTriggerSpec


@dataclass(frozen=True)
class QueueOutputSpec:
    binding_name: str  # a parameter name, or $return
    queue_name: str
    connection_string: str


@dataclass(frozen=True)
class RetryPolicySpec:
    """@app.retry: the host applies it to timer triggers (queues have their own dequeue count)."""

    max_retry_count: int  # -1: no limit
    fixed_delay: timedelta | None  # None: exponential back-off between the two intervals
    minimum_interval: timedelta = timedelta(0)
    maximum_interval: timedelta = timedelta(0)

    def allows(self, retry_count: int) -> bool:
        return self.max_retry_count < 0 or retry_count <= self.max_retry_count

    def delay_before(self, retry_count: int) -> timedelta:
        if self.fixed_delay is not None:
            return self.fixed_delay
        doubled: timedelta = self.minimum_interval * (1 << max(retry_count - 1, 0))
        return min(doubled, self.maximum_interval)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    entry_point: Callable[..., Any]
    trigger_parameter: str
    trigger: TriggerSpec
    http_output: str | None  # binding name of the HTTP response, usually $return
    queue_outputs: tuple[QueueOutputSpec, ...]
    takes_context: bool
    retry: RetryPolicySpec | None = None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.entry_point)

    @property
    def has_return_binding(self) -> bool:
        return self.http_output == RETURN_BINDING or any(
            output.binding_name == RETURN_BINDING for output in self.queue_outputs
        )


@dataclass(frozen=True)
class FunctionInError:
    """A function the host cannot load; like the real host, the others still run."""

    name: str
    reason: str


def index_app(
    app: func.FunctionRegister, settings: Mapping[str, str]
) -> tuple[list[FunctionSpec], list[FunctionInError]]:
    # get_functions() remembers the names of an earlier call and would reject them all as duplicates.
    app.functions_bindings = None
    try:
        functions = app.get_functions()
    except ValueError as error:  # e.g. two functions of one name: the host rejects the whole app
        raise HostConfigError(f"the app's functions cannot be indexed: {error}") from error
    loaded: list[FunctionSpec] = []
    in_error: list[FunctionInError] = []
    for function in functions:
        name = str(function.get_function_name())
        if is_disabled(name, settings):
            continue
        try:
            loaded.append(_function_spec(name, function, settings))
        except HostConfigError as error:
            in_error.append(FunctionInError(name, str(error)))
    return loaded, in_error


def is_disabled(name: str, settings: Mapping[str, str]) -> bool:
    """AzureWebJobs.<name>.Disabled, or its underscore form where dots cannot be used in names."""
    return setting_is_true(settings, f"AzureWebJobs.{name}.Disabled") or setting_is_true(
        settings, f"AzureWebJobs_{name}_Disabled"
    )


def _function_spec(name: str, function: func.Function, settings: Mapping[str, str]) -> FunctionSpec:
    trigger = function.get_trigger()
    if trigger is None:
        raise HostConfigError("it has no trigger")
    others = [binding for binding in function.get_bindings() if binding is not trigger]
    http_output: str | None = None
    queue_outputs: list[QueueOutputSpec] = []
    for binding in others:
        if binding.type == "http" and _is_output(binding):
            http_output = binding.name
        elif binding.type == "queue" and _is_output(binding):
            queue_outputs.append(_queue_output(binding, settings))
        else:
            raise HostConfigError(f"binding {binding.name!r} of type {binding.type!r} is not supported here")
    entry_point = function.get_user_function()
    takes_context = _check_parameters(entry_point, [trigger, *others])
    return FunctionSpec(
        name=name,
        entry_point=entry_point,
        trigger_parameter=trigger.name,
        trigger=_trigger_spec(trigger, settings),
        http_output=http_output,
        queue_outputs=tuple(queue_outputs),
        takes_context=takes_context,
        retry=_retry_policy(function.get_settings_dict("retry_policy")),
    )


def _retry_policy(declared: Mapping[str, Any] | None) -> RetryPolicySpec | None:
    if not declared:
        return None
    strategy = str(declared.get("strategy", "")).replace("_", "").lower()
    try:
        max_retry_count = int(declared["max_retry_count"])
        if strategy == "fixeddelay":
            return RetryPolicySpec(max_retry_count, parse_timespan(str(declared["delay_interval"])))
        if strategy == "exponentialbackoff":
            minimum = parse_timespan(str(declared["minimum_interval"]))
            maximum = parse_timespan(str(declared["maximum_interval"]))
            return RetryPolicySpec(max_retry_count, None, minimum, maximum)
    except (KeyError, TypeError, ValueError) as error:
        raise HostConfigError(f"retry policy is incomplete or malformed: {error}") from error
    raise HostConfigError(f"retry strategy {declared.get('strategy')!r} is neither fixed_delay nor exponential_backoff")


def _is_output(binding: Binding) -> bool:
    return binding.direction == BindingDirection.OUT.value


def _trigger_spec(trigger: Binding, settings: Mapping[str, str]) -> TriggerSpec:
    if trigger.type == "httpTrigger":
        route = str(_field(trigger, "route") or "")
        # The host reserves admin/... for itself and compares only the start of the route.
        if route.lstrip("/").lower().startswith("admin"):
            raise HostConfigError(f"route {route!r} conflicts with the host's built-in admin routes")
        return HttpTriggerSpec(
            route=RouteTemplate(route),
            methods=frozenset(_enum_text(method).upper() for method in _field(trigger, "methods") or ()),
            auth_level=_enum_text(_field(trigger, "auth_level") or func.AuthLevel.FUNCTION).lower(),
        )
    if trigger.type == "timerTrigger":
        return TimerTriggerSpec(
            schedule=parse_schedule(resolve_setting_references(str(_field(trigger, "schedule") or ""), settings)),
            run_on_startup=bool(_field(trigger, "run_on_startup")),
            use_monitor=_field(trigger, "use_monitor"),
        )
    if trigger.type == "queueTrigger":
        return QueueTriggerSpec(
            queue_name=_queue_name(_field(trigger, "queue_name"), settings),
            connection_string=_storage_connection(_field(trigger, "connection"), settings),
        )
    raise HostConfigError(f"trigger type {trigger.type!r} is not supported here")


def _queue_output(binding: Binding, settings: Mapping[str, str]) -> QueueOutputSpec:
    return QueueOutputSpec(
        binding_name=binding.name,
        queue_name=_queue_name(_field(binding, "queue_name"), settings),
        connection_string=_storage_connection(_field(binding, "connection"), settings),
    )


def _field(binding: Binding, attribute: str) -> Any:
    """Typed and generic bindings both keep their declared fields as attributes."""
    return getattr(binding, attribute, None)


def _enum_text(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _queue_name(declared: Any, settings: Mapping[str, str]) -> str:
    # The host lower-cases queue names before it checks them.
    name = resolve_setting_references(str(declared or ""), settings).lower()
    if not _QUEUE_NAME.match(name) or "--" in name:
        raise HostConfigError(f"{name!r} is not a valid queue name (3-63 of a-z, 0-9 and single hyphens)")
    return name


def _storage_connection(declared: Any, settings: Mapping[str, str]) -> str:
    """The connection is the name of an app setting; the host also tries it with an AzureWebJobs prefix."""
    name = str(declared or DEFAULT_STORAGE_CONNECTION)
    for candidate in (name, f"AzureWebJobs{name}"):
        if settings.get(candidate):
            return settings[candidate]
    raise HostConfigError(f"storage connection setting {name!r} is not set")


def _check_parameters(entry_point: Callable[..., Any], bindings: list[Binding]) -> bool:
    """Like the Python worker: every binding needs a parameter of its name, and every parameter a binding.

    Returns whether the function also asks for the invocation context.
    """
    parameters = set(inspect.signature(entry_point).parameters)
    binding_names = {binding.name for binding in bindings if binding.name != RETURN_BINDING}
    if missing := sorted(binding_names - parameters):
        raise HostConfigError(f"bindings {missing} have no parameter of that name")
    takes_context = CONTEXT_PARAMETER in parameters and CONTEXT_PARAMETER not in binding_names
    if unbound := sorted(parameters - binding_names - ({CONTEXT_PARAMETER} if takes_context else set())):
        raise HostConfigError(f"parameters {unbound} are not bound to anything")
    return takes_context
