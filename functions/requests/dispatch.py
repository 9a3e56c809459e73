"""Step messages: one per step (or one for a whole export), fenced by the request's run number.

Every start and every staff retry raises the run number, so a message of an earlier run (a retry
pressed while a step was waiting in the queue, say) is recognised and dropped by the worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.ports import WorkQueue
from functions.requests.lifecycle import DELIVER_STEP, EXPORT_MESSAGE, RESOLVE_STEP, STEPS_QUEUE, RequestType

if TYPE_CHECKING:
    from functions.requests.request_record import DsrRequest


@dataclass(frozen=True)
class StepMessage:
    request_id: str
    step: str  # a step name, or EXPORT_MESSAGE for every location of an access request
    run: int

    def to_message(self) -> dict[str, Any]:
        return {"requestId": self.request_id, "step": self.step, "run": self.run}

    @classmethod
    def parse(cls, body: bytes) -> StepMessage | None:
        """None for anything that is not a step message (it is logged and dropped, never retried)."""
        try:
            data = json.loads(body)
            return cls(str(data["requestId"]), str(data["step"]), int(data.get("run", 0)))
        except (ValueError, KeyError, TypeError):
            return None


def message_step(request: DsrRequest, step_name: str) -> str:
    if request.type == RequestType.ACCESS and step_name not in (RESOLVE_STEP, DELIVER_STEP):
        return EXPORT_MESSAGE
    return step_name


def steps_of(request: DsrRequest, step: str) -> list[str]:
    """The step names one message covers."""
    if step == EXPORT_MESSAGE:
        return [s.name for s in request.steps if s.name not in (RESOLVE_STEP, DELIVER_STEP)]
    return [step]


class StepDispatcher:
    def __init__(self, queue: WorkQueue) -> None:
        self._queue = queue

    def send_next(self, request: DsrRequest) -> None:
        """Queue the message for the request's next unfinished step, under its current run."""
        pending = request.next_pending_step()
        if pending is not None:
            message = StepMessage(request.id, message_step(request, pending.name), request.run)
            self._queue.send(STEPS_QUEUE, message.to_message())
