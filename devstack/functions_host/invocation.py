"""Calls a user function the way the Python worker does, and reports each invocation in one log line."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import secrets
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from azure.functions._abc import RetryContext, RpcException, TraceContext

from .catalog import CONTEXT_PARAMETER, RETURN_BINDING, FunctionSpec

logger = logging.getLogger("devstack.functions_host")


class FunctionReturnError(TypeError):
    """The function returned a value that no binding can take."""


class _LastFailure(RpcException):
    """The exception of the previous try, as the retry context reports it (empty on a first try)."""

    def __init__(self, error: BaseException | None) -> None:
        self._error = error

    @property
    def source(self) -> str:
        return type(self._error).__qualname__ if self._error else ""

    @property
    def stack_trace(self) -> str:
        return "".join(traceback.format_exception(self._error)) if self._error else ""

    @property
    def message(self) -> str:
        return str(self._error) if self._error else ""


class _TraceContext(TraceContext):
    def __init__(self, trace_parent: str) -> None:
        self._trace_parent = trace_parent

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return self._trace_parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class Attempt(RetryContext):
    """Which try of an invocation this is; functions without a retry policy only ever get the first."""

    count: int = 0
    max_count: int = 0
    last_error: BaseException | None = None

    @property
    def retry_count(self) -> int:
        return self.count

    @property
    def max_retry_count(self) -> int:
        return self.max_count

    @property
    def exception(self) -> RpcException:
        return _LastFailure(self.last_error)


FIRST_ATTEMPT = Attempt()


class InvocationContext(func.Context):
    def __init__(
        self, invocation_id: str, spec: FunctionSpec, function_directory: str, trace_parent: str, attempt: Attempt
    ) -> None:
        self._invocation_id = invocation_id
        self._function_name = spec.name
        self._function_directory = function_directory
        self._trace_context = _TraceContext(trace_parent)
        self._attempt = attempt
        self._thread_local = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._thread_local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> TraceContext:
        return self._trace_context

    @property
    def retry_context(self) -> RetryContext:
        return self._attempt


class OutputValue(func.Out[Any]):
    """What the function sets on an output binding parameter."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


@dataclass
class InvocationResult:
    return_value: Any
    outputs: dict[str, Any] = field(default_factory=dict)  # binding name -> value, $return included

    def output(self, binding_name: str) -> Any:
        return self.return_value if binding_name == RETURN_BINDING else self.outputs.get(binding_name)


OutputFlusher = Callable[[FunctionSpec, InvocationResult], Awaitable[None]]


def new_invocation_id() -> str:
    return str(uuid.uuid4())


def new_trace_parent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


class Invoker:
    """Runs sync functions in a thread pool and async ones on the loop, like the Python worker."""

    def __init__(self, function_directory: str, max_threads: int | None, flush_outputs: OutputFlusher) -> None:
        self._function_directory = function_directory
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="functions-worker")
        self._flush_outputs = flush_outputs

    async def invoke(
        self,
        spec: FunctionSpec,
        trigger_value: Any,
        invocation_id: str,
        trace_parent: str | None = None,
        attempt: Attempt = FIRST_ATTEMPT,
    ) -> InvocationResult:
        outputs = {name: OutputValue() for name in _output_parameters(spec)}
        context = InvocationContext(
            invocation_id, spec, self._function_directory, trace_parent or new_trace_parent(), attempt
        )
        arguments: dict[str, Any] = {spec.trigger_parameter: trigger_value, **outputs}
        if spec.takes_context:
            arguments[CONTEXT_PARAMETER] = context
        value = await self._call(spec, arguments, context)
        if value is not None and not spec.has_return_binding:
            raise FunctionReturnError(f"function {spec.name} returned a value but has no $return binding")
        result = InvocationResult(value, {name: out.get() for name, out in outputs.items()})
        # Output bindings are written only once the function has succeeded, as the host does.
        await self._flush_outputs(spec, result)
        return result

    async def _call(self, spec: FunctionSpec, arguments: Mapping[str, Any], context: InvocationContext) -> Any:
        if spec.is_async:
            return await spec.entry_point(**arguments)

        def run_in_worker_thread() -> Any:
            context.thread_local_storage.invocation_id = context.invocation_id
            return spec.entry_point(**arguments)

        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, run_in_worker_thread)
        return await loop.run_in_executor(self._executor, call)

    async def close(self) -> None:
        """Waits for functions still running in worker threads; a thread cannot be interrupted."""
        await asyncio.to_thread(self._executor.shutdown, wait=True)


def _output_parameters(spec: FunctionSpec) -> list[str]:
    names = [output.binding_name for output in spec.queue_outputs]
    if spec.http_output is not None:
        names.append(spec.http_output)
    return [name for name in names if name != RETURN_BINDING]


class Stopwatch:
    def __init__(self) -> None:
        self._started = time.perf_counter()

    @property
    def elapsed_ms(self) -> int:
        return round((time.perf_counter() - self._started) * 1000)


def log_invocation(spec: FunctionSpec, invocation_id: str, stopwatch: Stopwatch, outcome: str, **details: Any) -> None:
    """One line per invocation. Only identifiers and numbers: never bodies, paths, query strings or headers."""
    extra = "".join(f", {name}={value}" for name, value in details.items())
    logger.info(
        "Executed '%s' (%s, Id=%s%s, Duration=%dms)", spec.name, outcome, invocation_id, extra, stopwatch.elapsed_ms
    )
