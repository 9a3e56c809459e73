"""LocalFunctionsHost: runs a v2-model FunctionApp with the Functions host's semantics, without Core Tools."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine, Mapping
from typing import Any

import azure.functions as func
from aiohttp import web

from .admin import AdminApi
from .catalog import FunctionSpec, HttpTriggerSpec, QueueTriggerSpec, TimerTriggerSpec, index_app
from .http_front import HttpFront
from .invocation import Invoker
from .keys import KeyAuthorizer
from .options import HttpOptions, QueueOptions, refuse_unsupported_settings
from .queues import QueueListener
from .server import serve
from .timers import TimerRunner

logger = logging.getLogger("devstack.functions_host")

# In-flight HTTP requests get this long to finish when the host stops.
HTTP_SHUTDOWN_GRACE_SECONDS = 30.0


class LocalFunctionsHost:
    """Refuses, with a HostConfigError, an app or host.json that uses what this host does not implement."""

    def __init__(
        self,
        app: func.FunctionRegister,
        host_json: Mapping[str, Any],
        settings: Mapping[str, str],
        host: str = "127.0.0.1",
        port: int = 7071,
    ) -> None:
        self.host = host
        self.port = port
        refuse_unsupported_settings(settings)
        self.http_options = HttpOptions.from_config(host_json, settings)
        self.queue_options = QueueOptions.from_config(host_json, settings)
        self.functions = index_app(app, settings)
        self._authorizer = KeyAuthorizer(settings)
        self._stopping = asyncio.Event()
        self._runner: web.ServerRunner | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._invoker: Invoker | None = None

    async def start(self) -> None:
        self._stopping.clear()
        invoker = self._invoker = Invoker()
        if not self._authorizer.keys_configured and any(
            isinstance(spec.trigger, HttpTriggerSpec) and spec.trigger.needs_key for spec in self.functions
        ):
            logger.warning(
                "No LOCAL_HOST_FUNCTION_KEYS or LOCAL_HOST_MASTER_KEY set: no key is checked, as under func start"
            )
        admin = AdminApi(self.functions, self._authorizer, self.http_options, invoker, self._start_background)
        front = HttpFront(self.functions, self.http_options, self._authorizer, invoker, admin)
        self._runner = await serve(front.handle, self.host, self.port, HTTP_SHUTDOWN_GRACE_SECONDS)
        self.port = int(self._runner.addresses[0][1])  # the real one when port 0 was asked for
        for spec in self.functions:
            if isinstance(spec.trigger, QueueTriggerSpec):
                self._start_background(QueueListener(spec, self.queue_options, invoker, self._stopping).run())
            elif isinstance(spec.trigger, TimerTriggerSpec):
                self._start_background(TimerRunner(spec, invoker, self._stopping).run())

    async def stop(self) -> None:
        """Stops taking work, then waits for what is in flight: HTTP requests, timer and manual runs, queue messages."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._invoker is not None:
            await self._invoker.close()
            self._invoker = None

    def run(self) -> None:
        """Serves until SIGINT or SIGTERM, then stops cleanly."""
        asyncio.run(self._serve_until_signalled())

    def listing(self) -> list[str]:
        """What func start prints: where the host listens, then one line per function."""
        root = f"http://{self.host}:{self.port}"
        lines = [f"Functions host listening on {root}/{self.http_options.route_prefix}"]
        lines += [
            f"  {spec.name}: {self._describe(spec, root)}" for spec in sorted(self.functions, key=lambda s: s.name)
        ]
        if any(not isinstance(spec.trigger, HttpTriggerSpec) for spec in self.functions):
            lines.append(f"  run a timer or queue function now: POST {root}/admin/functions/<name> (master key)")
        return lines

    def _describe(self, spec: FunctionSpec, root: str) -> str:
        trigger = spec.trigger
        if isinstance(trigger, HttpTriggerSpec):
            url = "/".join(part for part in (root, self.http_options.route_prefix, trigger.route.template) if part)
            return f"[{','.join(sorted(trigger.methods))}] {url}" if trigger.methods else url
        if isinstance(trigger, TimerTriggerSpec):
            return f"timer {trigger.schedule.expression}"
        return f"queue {trigger.queue_name}"

    def _start_background(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("A timer or queue listener stopped: %s", type(error).__name__)

    async def _serve_until_signalled(self) -> None:
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop_requested.set)
        await self.start()
        try:
            print("\n".join(self.listing()), flush=True)
            await stop_requested.wait()
            logger.info("Stopping: finishing in-flight invocations")
        finally:
            await self.stop()
