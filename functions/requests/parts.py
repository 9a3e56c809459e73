"""What every use case of data-subject requests works with, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from core.ports import Clock
from functions.requests.config import RequestConfig
from functions.requests.dispatch import StepDispatcher
from functions.requests.outbox import MailOutbox
from functions.requests.repository import RequestRepository


@dataclass(frozen=True)
class RequestParts:
    requests: RequestRepository
    outbox: MailOutbox
    dispatcher: StepDispatcher
    clock: Clock
    config: RequestConfig
