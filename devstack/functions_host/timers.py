"""Timer triggers, fired one invocation at a time per function."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from azure.functions.timer import TimerRequest

from .catalog import FunctionSpec, TimerTriggerSpec
from .invocation import Invoker, returns_nothing
from .schedules import now

# An invocation that starts this much later than its scheduled time is reported as past due.
PAST_DUE_TOLERANCE = timedelta(seconds=1)
# Sleeps are cut into slices so a machine that was suspended notices the missed time soon after waking.
_LONGEST_SLEEP_SECONDS = 15.0


def timer_request(past_due: bool) -> TimerRequest:
    return TimerRequest(past_due=past_due, schedule={"AdjustForDST": True})


class TimerRunner:
    """Waits for each occurrence, then awaits the invocation before scheduling the next one.

    So a run never overlaps the previous one: occurrences missed while a run was still going
    collapse into one invocation right after it, reported as past due.
    """

    def __init__(self, spec: FunctionSpec, invoker: Invoker, stopping: asyncio.Event) -> None:
        assert isinstance(spec.trigger, TimerTriggerSpec)
        self.spec = spec
        self._trigger = spec.trigger
        self._invoker = invoker
        self._stopping = stopping

    async def run(self) -> None:
        if self._trigger.run_on_startup:
            await self._fire(past_due=False, reason="RunOnStartup")
        due = self._trigger.schedule.next_after(now())
        while await self._sleep_until(due):
            started = now()
            await self._fire(past_due=started - due > PAST_DUE_TOLERANCE, reason="Schedule")
            # As the host does: the next occurrence counts from when this run started, never before its slot.
            due = self._trigger.schedule.next_after(max(started, due))

    async def _sleep_until(self, due: datetime) -> bool:
        """False as soon as the host stops; True once the due time has come."""
        while (remaining := (due - now()).total_seconds()) > 0:
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=min(remaining, _LONGEST_SLEEP_SECONDS))
            except TimeoutError:
                continue
            return False
        return not self._stopping.is_set()

    async def _fire(self, past_due: bool, reason: str) -> None:
        await self._invoker.run(self.spec, timer_request(past_due), returns_nothing, Reason=reason, PastDue=past_due)
