"""Notices, the board of those in service for everyone, and what each person has seen."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from core.containers import NOTICE_RECEIPTS, NOTICES
from core.ports import DocumentConflict, DocumentStore
from core.repository import Repository
from functions.notices.errors import NoticeNotFound
from functions.notices.notice_record import ActiveNotices, Notice, Receipt

BOARD_ID = "active"  # the board lives beside the notices, under an id no notice takes (theirs are UUIDs)


class NoticeRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._notices = Repository(store, NOTICES, Notice, lambda n: n.id, NoticeNotFound)
        self._board = Repository(store, NOTICES, ActiveNotices, lambda b: b.id)

    def get(self, notice_id: str) -> Notice | None:
        return self._notices.get(notice_id, notice_id)

    def require(self, notice_id: str) -> Notice:
        return self._notices.require(notice_id, notice_id)

    def create(self, notice: Notice) -> tuple[Notice, bool]:
        """Stores a new notice; the stored one and False when its id exists (the same publication again)."""
        try:
            return self._notices.save(notice), True
        except DocumentConflict:
            return self.require(notice.id), False

    def change(self, notice_id: str, change: Callable[[Notice], None]) -> Notice:
        return self._notices.change(notice_id, notice_id, change)

    def all(self) -> list[Notice]:
        rows = self._store.query_across_partitions(
            NOTICES, "SELECT * FROM c WHERE c.id != @board ORDER BY c.createdAt DESC", {"@board": BOARD_ID}
        )
        return [self._notices.load(r) for r in rows]

    # ---- the board: one document, so the public list is one point read

    def board(self) -> ActiveNotices | None:
        return self._board.get(BOARD_ID, BOARD_ID)

    def change_board(self, change: Callable[[ActiveNotices], None]) -> ActiveNotices:
        if self.board() is None:
            with contextlib.suppress(DocumentConflict):  # created meanwhile by another publication
                self._board.save(ActiveNotices(id=BOARD_ID))
        return self._board.change(BOARD_ID, BOARD_ID, change)

    # ---- receipts, one partition per person

    def receipts(self, user_id: str) -> dict[str, Receipt]:
        rows = self._store.query(NOTICE_RECEIPTS, user_id, "SELECT * FROM c WHERE c.userId = @user", {"@user": user_id})
        return {str(r["id"]): Receipt.model_validate(r) for r in rows}

    def receipt(self, user_id: str, notice_id: str) -> Receipt | None:
        found = self._store.read(NOTICE_RECEIPTS, notice_id, user_id)
        return Receipt.model_validate(found.body) if found else None

    def put_receipt(self, receipt: Receipt) -> None:
        self._store.upsert(NOTICE_RECEIPTS, receipt.to_document())
