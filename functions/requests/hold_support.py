"""What legal holds need of data-subject requests (``functions.retention.ports.HeldRequests``): the
request a hold names, and the erasures to finish once a hold ends."""

from __future__ import annotations

from functions.requests.repository import RequestRepository
from functions.requests.staff import RequestStaff
from functions.retention.ports import RequestUnderHold


class RequestsUnderHold:
    def __init__(self, requests: RequestRepository, staff: RequestStaff) -> None:
        self._requests = requests
        self._staff = staff

    def target(self, request_id: str) -> RequestUnderHold | None:
        request = self._requests.get(request_id)
        if request is None:
            return None
        return RequestUnderHold(request.id, request.subject_key, request.user_id, request.archive_blob)

    def resume_after_hold(self, hold_id: str, actor: str) -> list[str]:
        return self._staff.resume_after_hold(hold_id, actor)

    def held_back_by(self, hold_id: str) -> list[str]:
        return [request.id for request in self._requests.awaiting_hold(hold_id)]
