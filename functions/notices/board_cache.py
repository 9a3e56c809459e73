"""The notices in service for everyone, as the website reads them on every page: one point read of
the board, then kept a few seconds per instance. The cookie read carries them, so this needs nothing
of the notices capability but its repository: no fan-out, no mail."""

from __future__ import annotations

import threading
import time

from functions.notices.notice_record import ActiveNotice
from functions.notices.notices_repository import NoticeRepository


class BoardCache:
    def __init__(self, notices: NoticeRepository, cache_seconds: float) -> None:
        self._notices = notices
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, list[ActiveNotice]] | None = None
        self._lock = threading.Lock()

    def active(self) -> list[ActiveNotice]:
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        board = self._notices.board()
        notices = board.notices if board else []
        self.keep(notices)
        return notices

    def keep(self, notices: list[ActiveNotice]) -> None:
        """The board as this instance just wrote it: shown at once here, elsewhere within the cache time."""
        with self._lock:
            self._cached = (time.monotonic(), notices)

    def forget(self) -> None:
        """As a fresh instance: the next read goes to the store."""
        with self._lock:
            self._cached = None
