"""Calls a function the way the Python worker calls a sync one, and reports each invocation in one log line."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .catalog import FunctionSpec

logger = logging.getLogger("devstack.functions_host")

T = TypeVar("T")


class FunctionReturnError(TypeError):
    """The function returned a value its trigger cannot take."""


def returns_nothing(value: Any) -> bool:
    """Timer and queue functions have no return binding: like the worker, a returned value is an error."""
    if value is not None:
        raise FunctionReturnError(f"the function returned {type(value).__name__} but has no return binding")
    return True


class Invoker:
    """Runs functions in a thread pool, as the Python worker runs sync functions."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(thread_name_prefix="functions-worker")

    async def run(self, spec: FunctionSpec, trigger_value: Any, result: Callable[[Any], T], **details: Any) -> T | None:
        """The function's return value as ``result`` converts it; None when the function or conversion failed.

        One line per invocation, with only identifiers and numbers: never bodies, paths, queries or headers.
        """
        invocation_id = str(uuid.uuid4())
        started = time.perf_counter()
        call = functools.partial(
            contextvars.copy_context().run, spec.entry_point, **{spec.trigger_parameter: trigger_value}
        )
        converted: T | None = None
        try:
            converted = result(await asyncio.get_running_loop().run_in_executor(self._executor, call))
        except Exception:
            logger.exception("Function '%s' failed (Id=%s)", spec.name, invocation_id)
        extra = "".join(f", {name}={value}" for name, value in details.items())
        outcome = "Failed" if converted is None else "Succeeded"
        elapsed = round((time.perf_counter() - started) * 1000)
        logger.info("Executed '%s' (%s, Id=%s%s, Duration=%dms)", spec.name, outcome, invocation_id, extra, elapsed)
        return converted

    async def close(self) -> None:
        """Waits for functions still running in worker threads; a thread cannot be interrupted."""
        await asyncio.to_thread(self._executor.shutdown, wait=True)
