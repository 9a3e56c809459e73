"""A signed-in user downloads the archive of their own access request again, from the privacy page.

The mail's link is short-lived; while the archive is kept, the person can ask for a fresh one with
their token. Only their own request answers: another's is the same 404 as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.ports import Clock
from functions.inventory.ports import ArchiveStore
from functions.requests.errors import ExportNotReady, RequestNotFound
from functions.requests.lifecycle import RequestType
from functions.requests.repository import RequestRepository


@dataclass(frozen=True)
class ExportLink:
    url: str
    expires_at: datetime


class ExportDownloads:
    def __init__(self, requests: RequestRepository, archives: ArchiveStore, clock: Clock, link_hours: int) -> None:
        self._requests = requests
        self._archives = archives
        self._clock = clock
        self._valid_for = timedelta(hours=link_hours)

    def link_for(self, user_id: str, request_id: str) -> ExportLink:
        request = self._requests.get(request_id)
        if request is None or request.user_id != user_id:
            raise RequestNotFound()
        if request.type != RequestType.ACCESS or request.archive_blob is None:
            raise ExportNotReady()
        url = self._archives.share_link(request.archive_blob, self._valid_for)
        return ExportLink(url, self._clock.now() + self._valid_for)
