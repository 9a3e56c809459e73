"""Storage queue triggers, with the storage extension's polling, lease and poison rules.

A received message stays invisible for the lease (``LOCAL_HOST_QUEUE_LEASE_SECONDS``, the host's
10 minutes by default), renewed halfway while the function runs. When the host dies while holding
it, the message comes back once the lease runs out, with its dequeue count raised.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage as TriggerMessage
from azure.storage.queue import QueueMessage as StoredMessage
from azure.storage.queue.aio import QueueClient

from .catalog import POISON_SUFFIX, FunctionSpec, QueueTriggerSpec
from .invocation import Invoker, returns_nothing
from .options import MIN_POLLING_INTERVAL, QueueOptions

logger = logging.getLogger("devstack.functions_host")


def manual_message(body: str) -> TriggerMessage:
    """The message an on-demand run passes: it never was in a queue, so it has no id and was never dequeued."""
    return TriggerMessage(body=body.encode("utf-8"), dequeue_count=0)


def decode_message(text: str) -> bytes:
    """Raises ValueError when the stored text is not base64, the host's message encoding."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as error:
        raise ValueError("message body is not base64") from error


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

    def __init__(self, spec: FunctionSpec, options: QueueOptions, invoker: Invoker, stopping: asyncio.Event) -> None:
        assert isinstance(spec.trigger, QueueTriggerSpec)
        self.spec = spec
        self.queue_name = spec.trigger.queue_name
        self._poison_name = self.queue_name + POISON_SUFFIX
        self._queue = QueueClient.from_connection_string(spec.trigger.connection_string, self.queue_name)
        self._poison = QueueClient.from_connection_string(spec.trigger.connection_string, self._poison_name)
        self._options = options
        self._lease_seconds = int(options.lease.total_seconds())
        self._invoker = invoker
        self._stopping = stopping
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        delay = MIN_POLLING_INTERVAL
        try:
            while not self._stopping.is_set():
                batch = await self._receive_batch()
                if batch:
                    for message in batch:
                        self._start_processing(message)
                    delay = MIN_POLLING_INTERVAL
                    await self._wait_for_new_batch_threshold()
                    continue
                await self._pause(delay)
                delay = min(delay * 2, self._options.max_polling_interval)
            # Messages already taken finish, and are deleted or released, before the host stops.
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
        finally:
            await self._queue.close()
            await self._poison.close()

    async def _receive_batch(self) -> list[StoredMessage]:
        try:
            pages = self._queue.receive_messages(
                messages_per_page=self._options.batch_size, visibility_timeout=self._lease_seconds
            ).by_page()
            return [message async for message in await anext(pages)]
        except (StopAsyncIteration, ResourceNotFoundError):  # like the host, a missing queue is polled until it exists
            return []
        except AzureError as error:
            logger.warning("Polling queue '%s' failed: %s", self.queue_name, type(error).__name__)
        return []

    async def _pause(self, delay: timedelta) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay.total_seconds())

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
        except Exception as error:
            logger.error(
                "Handling queue message %s of '%s' failed: %s", lease.message_id, self.queue_name, type(error).__name__
            )

    async def _process_message(self, lease: _Lease) -> None:
        # A message dequeued more often than allowed (a host died while holding it) goes straight to poison.
        if lease.dequeue_count > self._options.max_dequeue_count:
            await self._move_to_poison(lease)
            return
        try:
            body = decode_message(str(lease.message.content))
        except ValueError:
            logger.warning(
                "Message decoding has failed! Check MessageEncoding settings. MessageId=%s.", lease.message_id
            )
            await self._move_to_poison(lease)
            return
        if await self._invoke(lease, body):
            await self._delete(lease)
        elif lease.dequeue_count >= self._options.max_dequeue_count:
            await self._move_to_poison(lease)
        else:
            await self._release(lease)

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
        renewal = asyncio.create_task(self._keep_invisible(lease))
        try:
            succeeded = await self._invoker.run(
                self.spec, message, returns_nothing, MessageId=lease.message_id, DequeueCount=lease.dequeue_count
            )
        finally:
            renewal.cancel()
        return bool(succeeded)

    async def _keep_invisible(self, lease: _Lease) -> None:
        """Renews the lease halfway through, so a long run does not hand its message to another poll."""
        while True:
            await asyncio.sleep(self._lease_seconds / 2)
            updated = await self._queue.update_message(
                lease.message_id, lease.pop_receipt, visibility_timeout=self._lease_seconds
            )
            lease.pop_receipt = str(updated.pop_receipt)

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
        logger.warning(
            "Message %s has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            lease.message_id,
            self._options.max_dequeue_count,
            self._poison_name,
        )
        # The stored text moves unchanged, so it keeps its encoding; the host makes the poison queue if need be.
        try:
            await self._poison.send_message(str(lease.message.content))
        except ResourceNotFoundError:
            with contextlib.suppress(ResourceExistsError):  # another message got there first
                await self._poison.create_queue()
            await self._poison.send_message(str(lease.message.content))
        await self._delete(lease)


def _log_lost_message(action: str, lease: _Lease, error: Exception) -> None:
    """Another receiver took the message over, or it is gone: nothing left to do, as in the host."""
    logger.info("Could not %s queue message %s: %s", action, lease.message_id, type(error).__name__)
