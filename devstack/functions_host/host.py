"""LocalFunctionsHost: runs a v2-model FunctionApp with the Functions host's semantics, without Core Tools."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import azure.functions as func
from aiohttp import web

from .catalog import FunctionSpec, HttpTriggerSpec, QueueTriggerSpec, TimerTriggerSpec, index_app
from .http_front import HttpFront
from .invocation import Invoker
from .options import HttpOptions, QueueOptions
from .queues import QueueClients, QueueListener, QueueOutputWriter
from .schedules import schedule_time_zone
from .timers import TimerRunner

logger = logging.getLogger("devstack.functions_host")

# In-flight HTTP requests get this long to finish when the host stops.
HTTP_SHUTDOWN_GRACE_SECONDS = 30.0


class LocalFunctionsHost:
    def __init__(
        self,
        app: func.FunctionRegister,
        host_json: Mapping[str, Any],
        settings: Mapping[str, str],
        host: str = "127.0.0.1",
        port: int = 7071,
        script_root: str | os.PathLike[str] = ".",
    ) -> None:
        self._settings = dict(settings)
        self.host = host
        self.port = port
        self.script_root = Path(script_root).resolve()
        self.http_options = HttpOptions.from_config(host_json, self._settings)
        self.queue_options = QueueOptions.from_config(host_json)
        self._zone = schedule_time_zone(self._settings)
        self.functions, self.functions_in_error = index_app(app, self._settings)
        self._stopping = asyncio.Event()
        self._queue_clients = QueueClients()
        self._runner: web.AppRunner | None = None
        self._background: list[asyncio.Task[None]] = []
        self._invoker: Invoker | None = None

    @property
    def base_url(self) -> str:
        prefix = self.http_options.route_prefix
        return f"http://{self.host}:{self.port}/{prefix}" if prefix else f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._stopping.clear()
        writer = QueueOutputWriter(self._queue_clients, self.queue_options)
        self._invoker = Invoker(str(self.script_root), self._thread_count(), writer.flush)
        self._report_loading_problems()
        await self._start_http(self._invoker)
        await self._start_queue_listeners(self._invoker)
        self._start_timers(self._invoker)

    def _report_loading_problems(self) -> None:
        for failed in self.functions_in_error:
            logger.error("Function '%s' is in error and will not run: %s", failed.name, failed.reason)
        for spec in self.functions:
            if spec.retry is not None and not isinstance(spec.trigger, TimerTriggerSpec):
                logger.warning("Function '%s': retry policies apply to timer triggers only; ignored", spec.name)

    async def stop(self) -> None:
        """Stops taking work, then waits for what is in flight: HTTP requests, timer runs, queue messages."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
            self._background = []
        if self._invoker is not None:
            await self._invoker.close()
            self._invoker = None
        await self._queue_clients.close()

    def run(self) -> None:
        """Serves until SIGINT or SIGTERM, then stops cleanly."""
        asyncio.run(self._serve_until_signalled())

    def listing(self) -> list[str]:
        """What func start prints: where the host listens, then one line per function."""
        lines = [f"Functions host listening on http://{self.host}:{self.port}/{self.http_options.route_prefix}"]
        lines += [f"  {spec.name}: {self._describe(spec)}" for spec in sorted(self.functions, key=lambda s: s.name)]
        return lines

    def _describe(self, spec: FunctionSpec) -> str:
        trigger = spec.trigger
        if isinstance(trigger, HttpTriggerSpec):
            url = f"{self.base_url}/{trigger.route.template}".rstrip("/")
            return f"[{','.join(sorted(trigger.methods))}] {url}" if trigger.methods else url
        if isinstance(trigger, TimerTriggerSpec):
            return f"timer {trigger.schedule.describe()}"
        return f"queue {trigger.queue_name}"

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

    def _thread_count(self) -> int | None:
        # PYTHON_THREADPOOL_THREAD_COUNT sizes the worker's pool for sync functions; unset, Python picks.
        configured = self._settings.get("PYTHON_THREADPOOL_THREAD_COUNT", "").strip()
        return int(configured) if configured else None

    async def _start_http(self, invoker: Invoker) -> None:
        front = HttpFront(self.functions, self.http_options, self._settings, invoker)
        # No access log: paths and query strings can carry personal data or keys.
        self._runner = web.AppRunner(
            front.application(), access_log=None, handle_signals=False, shutdown_timeout=HTTP_SHUTDOWN_GRACE_SECONDS
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # the real one when port 0 was asked for

    async def _start_queue_listeners(self, invoker: Invoker) -> None:
        listeners = [
            QueueListener(spec, self._queue_clients, self.queue_options, invoker, self._stopping)
            for spec in self.functions
            if isinstance(spec.trigger, QueueTriggerSpec)
        ]
        await asyncio.gather(*(listener.prepare() for listener in listeners))
        self._background += [asyncio.create_task(listener.run()) for listener in listeners]

    def _start_timers(self, invoker: Invoker) -> None:
        runners = [
            TimerRunner(spec, invoker, self._zone, self._stopping)
            for spec in self.functions
            if isinstance(spec.trigger, TimerTriggerSpec)
        ]
        self._background += [asyncio.create_task(runner.run()) for runner in runners]
