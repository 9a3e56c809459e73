"""Timer triggers, fired one invocation at a time per function."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, tzinfo
from typing import Any

from azure.functions.timer import TimerRequest

from .catalog import FunctionSpec, TimerTriggerSpec
from .invocation import FIRST_ATTEMPT, Attempt, Invoker, Stopwatch, log_invocation, new_invocation_id
from .schedules import Schedule

logger = logging.getLogger("devstack.functions_host")

# An invocation that starts this much later than its scheduled time is reported as past due.
PAST_DUE_TOLERANCE = timedelta(seconds=1)
# Sleeps are cut into slices so a machine that was suspended notices the missed time soon after waking.
_LONGEST_SLEEP_SECONDS = 15.0
_NEVER_RAN = "0001-01-01T00:00:00"


def _uses_monitor(trigger: TimerTriggerSpec, schedule: Schedule, now: datetime) -> bool:
    """Unset, the host keeps schedule status only for schedules at least a minute apart."""
    if trigger.use_monitor is not None:
        return bool(trigger.use_monitor)
    first = schedule.next_after(now)
    return schedule.next_after(first) - first >= timedelta(minutes=1)


class TimerRunner:
    """Waits for each occurrence, then awaits the invocation before scheduling the next one.

    So a run never overlaps the previous one: occurrences missed while a run was still going
    collapse into one invocation right after it, reported as past due.
    """

    def __init__(self, spec: FunctionSpec, invoker: Invoker, zone: tzinfo | None, stopping: asyncio.Event) -> None:
        assert isinstance(spec.trigger, TimerTriggerSpec)
        self.spec = spec
        self.trigger = spec.trigger
        self.schedule = spec.trigger.schedule
        self._invoker = invoker
        self._zone = zone
        self._stopping = stopping
        self._monitor = _uses_monitor(self.trigger, self.schedule, self._now())
        self._last: datetime | None = None
        self._next = self.schedule.next_after(self._now())

    def _now(self) -> datetime:
        return datetime.now(self._zone) if self._zone is not None else datetime.now().astimezone()

    async def run(self) -> None:
        if self.trigger.run_on_startup:
            await self._fire(past_due=False, reason="RunOnStartup")
        while await self._sleep_until(self._next):
            late_by = self._now() - self._next
            await self._fire(past_due=late_by > PAST_DUE_TOLERANCE, reason="Schedule")

    async def _sleep_until(self, due: datetime) -> bool:
        """False as soon as the host stops; True once the due time has come."""
        while (remaining := (due - self._now()).total_seconds()) > 0:
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=min(remaining, _LONGEST_SLEEP_SECONDS))
            except TimeoutError:
                continue
            return False
        return not self._stopping.is_set()

    async def _fire(self, past_due: bool, reason: str) -> None:
        started = self._now()
        request = TimerRequest(
            past_due=past_due, schedule_status=self._schedule_status(), schedule={"AdjustForDST": True}
        )
        attempt = Attempt(0, self.spec.retry.max_retry_count) if self.spec.retry else FIRST_ATTEMPT
        while (error := await self._invoke(request, attempt, reason)) is not None:
            retry = self._next_attempt(attempt, error)
            # Stopping the host cancels pending retries, as it does in the real host.
            if retry is None or not await self._sleep_until(self._now() + self._retry_delay(retry)):
                break
            attempt = retry
        # As the host does: the next occurrence counts from when this run started (never before its slot).
        self._last = max(started, self._next) if reason == "Schedule" else started
        self._next = self.schedule.next_after(self._last)

    async def _invoke(self, request: TimerRequest, attempt: Attempt, reason: str) -> Exception | None:
        invocation_id = new_invocation_id()
        stopwatch = Stopwatch()
        failure: Exception | None = None
        try:
            await self._invoker.invoke(self.spec, request, invocation_id, attempt=attempt)
        except Exception as error:
            logger.exception("Function '%s' failed (Id=%s)", self.spec.name, invocation_id)
            failure = error
        details: dict[str, Any] = {"Reason": reason, "PastDue": request.past_due}
        if attempt.count:
            details["RetryCount"] = attempt.count
        log_invocation(self.spec, invocation_id, stopwatch, "Failed" if failure else "Succeeded", **details)
        return failure

    def _next_attempt(self, attempt: Attempt, error: Exception) -> Attempt | None:
        policy = self.spec.retry
        if policy is None or not policy.allows(attempt.count + 1):
            return None
        return Attempt(attempt.count + 1, policy.max_retry_count, error)

    def _retry_delay(self, attempt: Attempt) -> timedelta:
        assert self.spec.retry is not None
        return self.spec.retry.delay_before(attempt.count)

    def _schedule_status(self) -> dict[str, Any] | None:
        if not self._monitor:
            return None
        last = self._last.isoformat() if self._last else _NEVER_RAN
        return {"Last": last, "Next": self._next.isoformat(), "LastUpdated": last}
