"""Storage queue triggers and queue output bindings, with the storage extension's polling and poison rules."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.functions import _queue as function_queue
from azure.functions.queue import QueueMessage as TriggerMessage
from azure.storage.queue import QueueMessage as StoredMessage
from azure.storage.queue.aio import QueueClient

from .catalog import FunctionSpec, QueueOutputSpec, QueueTriggerSpec
from .invocation import FunctionReturnError, InvocationResult, Invoker, Stopwatch, log_invocation, new_invocation_id
from .options import MIN_POLLING_INTERVAL, QueueOptions

logger = logging.getLogger("devstack.functions_host")

# The listener takes messages for 10 minutes and renews that lease halfway, as the host does.
# Crash tests shorten it (LOCAL_HOST_QUEUE_LEASE_SECONDS) so a killed worker's message returns soon.
LEASE = timedelta(seconds=int(os.environ.get("LOCAL_HOST_QUEUE_LEASE_SECONDS", "600")))
POISON_SUFFIX = "-poison"
_QUEUE_NAME_MAX = 63


def poison_queue_name(queue_name: str) -> str | None:
    """None for queues that have no poison queue: those that are one, or whose name has no room left."""
    if queue_name.endswith(POISON_SUFFIX) or len(queue_name) + len(POISON_SUFFIX) > _QUEUE_NAME_MAX:
        return None
    return queue_name + POISON_SUFFIX


class QueueClients:
    """One client per queue, shared by listeners and output bindings, plus wake-ups for listeners.

    Like the host's shared queue watcher: a message this host enqueues wakes that queue's listener
    instead of leaving it to finish its back-off.
    """

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], QueueClient] = {}
        self._wake_ups: dict[tuple[str, str], asyncio.Event] = {}

    def client(self, connection_string: str, queue_name: str) -> QueueClient:
        key = (connection_string, queue_name)
        if key not in self._clients:
            self._clients[key] = QueueClient.from_connection_string(connection_string, queue_name)
        return self._clients[key]

    def wake_up_event(self, connection_string: str, queue_name: str) -> asyncio.Event:
        return self._wake_ups.setdefault((connection_string, queue_name), asyncio.Event())

    def notify(self, connection_string: str, queue_name: str) -> None:
        if event := self._wake_ups.get((connection_string, queue_name)):
            event.set()

    async def send(self, connection_string: str, queue_name: str, text: str) -> None:
        client = self.client(connection_string, queue_name)
        try:
            await client.send_message(text)
        except ResourceNotFoundError:
            await create_if_missing(client)
            await client.send_message(text)
        self.notify(connection_string, queue_name)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()


async def create_if_missing(client: QueueClient) -> None:
    with contextlib.suppress(ResourceExistsError):
        await client.create_queue()


def encode_message(body: bytes, base64_messages: bool) -> str:
    return base64.b64encode(body).decode("ascii") if base64_messages else body.decode("utf-8")


def decode_message(text: str, base64_messages: bool) -> bytes:
    """Raises ValueError when a base64 queue holds something that is not base64."""
    if not base64_messages:
        return text.encode("utf-8")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as error:
        raise ValueError("message body is not base64") from error


class QueueOutputWriter:
    """Writes what functions set on queue output bindings, after the function has succeeded."""

    def __init__(self, clients: QueueClients, options: QueueOptions) -> None:
        self._clients = clients
        self._base64 = options.base64_messages

    async def flush(self, spec: FunctionSpec, result: InvocationResult) -> None:
        for output in spec.queue_outputs:
            for body in _message_bodies(result.output(output.binding_name), output):
                await self._clients.send(
                    output.connection_string, output.queue_name, encode_message(body, self._base64)
                )


def _message_bodies(value: Any, output: QueueOutputSpec) -> list[bytes]:
    if value is None:
        return []
    items: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
    bodies = []
    for item in items:
        if isinstance(item, str):
            bodies.append(item.encode("utf-8"))
        elif isinstance(item, bytes | bytearray):
            bodies.append(bytes(item))
        elif isinstance(item, function_queue.QueueMessage):
            bodies.append(item.get_body())
        else:
            raise FunctionReturnError(
                f"queue output {output.binding_name!r} got {type(item).__name__}; use str, bytes or QueueMessage"
            )
    return bodies


@dataclass
class _Lease:
    """A received message; its pop receipt changes each time its visibility is updated."""

    message: StoredMessage
    pop_receipt: str

    @property
    def message_id(self) -> str:
        return str(self.message.id)

    @property
    def dequeue_count(self) -> int:
        return int(self.message.dequeue_count or 0)


class QueueListener:
    """Polls one queue for one function: batches, exponential back-off, and the poison queue."""

    def __init__(
        self,
        spec: FunctionSpec,
        clients: QueueClients,
        options: QueueOptions,
        invoker: Invoker,
        stopping: asyncio.Event,
    ) -> None:
        assert isinstance(spec.trigger, QueueTriggerSpec)
        self.spec = spec
        self.queue_name = spec.trigger.queue_name
        self._connection = spec.trigger.connection_string
        self._queue = clients.client(self._connection, self.queue_name)
        self._poison_name = poison_queue_name(self.queue_name)
        self._clients = clients
        self._options = options
        self._invoker = invoker
        self._stopping = stopping
        self._wake_up = clients.wake_up_event(self._connection, self.queue_name)
        self._in_flight: set[asyncio.Task[None]] = set()

    async def prepare(self) -> None:
        """Creates the trigger queue when it is missing, so a fresh Azurite works at once."""
        try:
            await create_if_missing(self._queue)
        except AzureError as error:
            logger.error(
                "Queue '%s' for function '%s' could not be created: %s", self.queue_name, self.spec.name, error
            )

    async def run(self) -> None:
        delay = MIN_POLLING_INTERVAL
        while not self._stopping.is_set():
            batch = await self._receive_batch()
            if batch:
                for message in batch:
                    self._start_processing(message)
                delay = MIN_POLLING_INTERVAL
                await self._wait_for_new_batch_threshold()
                continue
            if await self._pause(delay):
                delay = MIN_POLLING_INTERVAL
            else:
                delay = min(delay * 2, self._options.max_polling_interval)
        await self.drain()

    async def drain(self) -> None:
        """Lets messages already taken finish, and be deleted or released, before the host stops."""
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _receive_batch(self) -> list[StoredMessage]:
        try:
            pages = self._queue.receive_messages(
                messages_per_page=self._options.batch_size, visibility_timeout=int(LEASE.total_seconds())
            ).by_page()
            return [message async for message in await anext(pages)]
        except StopAsyncIteration:
            return []
        except ResourceNotFoundError:
            await self.prepare()
        except AzureError as error:
            logger.warning("Polling queue '%s' failed: %s", self.queue_name, type(error).__name__)
        return []

    async def _pause(self, delay: timedelta) -> bool:
        """Sleeps up to the delay; True when woken because this host enqueued a message."""
        waiters = {asyncio.ensure_future(self._stopping.wait()), asyncio.ensure_future(self._wake_up.wait())}
        try:
            await asyncio.wait(waiters, timeout=delay.total_seconds(), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        woken = self._wake_up.is_set()
        self._wake_up.clear()
        return woken

    async def _wait_for_new_batch_threshold(self) -> None:
        while len(self._in_flight) > self._options.new_batch_threshold:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)

    def _start_processing(self, message: StoredMessage) -> None:
        task = asyncio.create_task(self._process(_Lease(message, str(message.pop_receipt))))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _process(self, lease: _Lease) -> None:
        try:
            await self._process_message(lease)
        except Exception:
            logger.exception("Handling queue message %s of '%s' failed", lease.message_id, self.queue_name)

    async def _process_message(self, lease: _Lease) -> None:
        # A message dequeued more often than allowed (a host died while holding it) goes straight to poison.
        if lease.dequeue_count > self._options.max_dequeue_count:
            await self._move_to_poison(lease)
            return
        try:
            body = decode_message(str(lease.message.content), self._options.base64_messages)
        except ValueError:
            logger.warning(
                "Message decoding has failed! Check MessageEncoding settings. MessageId=%s.", lease.message_id
            )
            await self._move_to_poison(lease)
            return
        succeeded = await self._invoke(lease, body)
        await self._complete(lease, succeeded)

    async def _invoke(self, lease: _Lease, body: bytes) -> bool:
        message = TriggerMessage(
            id=lease.message_id,
            body=body,
            dequeue_count=lease.dequeue_count,
            insertion_time=lease.message.inserted_on,
            expiration_time=lease.message.expires_on,
            time_next_visible=lease.message.next_visible_on,
            pop_receipt=lease.pop_receipt,
        )
        invocation_id = new_invocation_id()
        stopwatch = Stopwatch()
        renewal = asyncio.create_task(self._keep_invisible(lease))
        try:
            await self._invoker.invoke(self.spec, message, invocation_id)
            succeeded = True
        except Exception:
            logger.exception("Function '%s' failed (Id=%s)", self.spec.name, invocation_id)
            succeeded = False
        finally:
            renewal.cancel()
        log_invocation(
            self.spec,
            invocation_id,
            stopwatch,
            "Succeeded" if succeeded else "Failed",
            MessageId=lease.message_id,
            DequeueCount=lease.dequeue_count,
        )
        return succeeded

    async def _keep_invisible(self, lease: _Lease) -> None:
        """Renews the lease halfway through, so a long run does not hand its message to another poll."""
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 2)
            updated = await self._queue.update_message(
                lease.message_id, lease.pop_receipt, visibility_timeout=int(LEASE.total_seconds())
            )
            lease.pop_receipt = str(updated.pop_receipt)

    async def _complete(self, lease: _Lease, succeeded: bool) -> None:
        if succeeded:
            await self._delete(lease)
        elif self._poison_name is None:
            # Without a poison queue the host leaves a failed message invisible, to avoid a hot retry loop.
            return
        elif lease.dequeue_count >= self._options.max_dequeue_count:
            await self._move_to_poison(lease)
        else:
            await self._release(lease)

    async def _release(self, lease: _Lease) -> None:
        try:
            await self._queue.update_message(
                lease.message_id,
                lease.pop_receipt,
                visibility_timeout=int(self._options.visibility_timeout.total_seconds()),
            )
        except HttpResponseError as error:
            _log_lost_message("release", lease, error)

    async def _delete(self, lease: _Lease) -> None:
        try:
            await self._queue.delete_message(lease.message_id, lease.pop_receipt)
        except HttpResponseError as error:
            _log_lost_message("delete", lease, error)

    async def _move_to_poison(self, lease: _Lease) -> None:
        if self._poison_name is None:
            return
        logger.warning(
            "Message %s has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            lease.message_id,
            self._options.max_dequeue_count,
            self._poison_name,
        )
        # The stored text moves unchanged, so it keeps whatever encoding it was sent with.
        await self._clients.send(self._connection, self._poison_name, str(lease.message.content))
        await self._delete(lease)


def _log_lost_message(action: str, lease: _Lease, error: Exception) -> None:
    """Another receiver took the message over, or it is gone: nothing left to do, as in the host."""
    logger.info("Could not %s queue message %s: %s", action, lease.message_id, type(error).__name__)
