"""The notice board: notices go up (in the service and by mail) and come down; each signed-in
person's notices show until they have seen them.

Publishing is idempotent: a notice's id is fixed by what it says and to whom, so a repeated click
(or a retry after a crash) finds the same notice and never mails anyone twice; the fan-out's
batches are fixed by the notice id too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from core.ports import Clock
from functions.fanout.dispatch import FanOut
from functions.notices.board_cache import BoardCache
from functions.notices.lifecycle import Audience, NoticeKind
from functions.notices.mailing import KIND as MAILING_KIND
from functions.notices.notice_record import ActiveNotice, ActiveNotices, MailingStatus, Notice, NoticeStatus, Receipt
from functions.notices.notices_repository import NoticeRepository

NOTICE_NAMESPACE = uuid.UUID("6f1d1b52-37a4-4c36-9d0b-0c1e7b6f7a10")


@dataclass(frozen=True)
class Draft:
    kind: NoticeKind
    title: str
    text: str
    audience: Audience
    link: str | None = None
    renew_purposes: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()  # user ids, for Audience.SUBJECTS
    in_service: bool = True
    by_email: bool = True
    # What makes a publication this one: the policy version it announces, the staff member's
    # Idempotency-Key, the disclosure it tells of. The same draft with the same occasion is one notice.
    occasion: str = ""

    def notice_id(self) -> str:
        content = json.dumps(asdict(self), sort_keys=True, default=str)
        return str(uuid.uuid5(NOTICE_NAMESPACE, content))


@dataclass(frozen=True)
class Published:
    notice: Notice
    created: bool  # False: the same notice was published before, nothing new happened


class NoticeBoard:
    def __init__(self, notices: NoticeRepository, board: BoardCache, fan_out: FanOut, clock: Clock) -> None:
        self._notices = notices
        self._board = board
        self._fan_out = fan_out
        self._clock = clock

    def publish(self, draft: Draft, actor: str) -> Published:
        now = self._clock.now()
        notice = Notice(
            id=draft.notice_id(),
            kind=draft.kind,
            title=draft.title,
            text=draft.text,
            link=draft.link,
            audience=draft.audience,
            renew_purposes=list(draft.renew_purposes),
            subjects=list(draft.subjects),
            in_service=draft.in_service,
            by_email=draft.by_email,
            created_by=actor,
            created_at=now,
            mailing=MailingStatus.SENDING if draft.by_email else MailingStatus.NONE,
        )
        notice.note(now, actor, "published")
        notice, created = self._notices.create(notice)
        if notice.status == NoticeStatus.ACTIVE:
            # Again on a repeat: a publication interrupted after its first write completes now.
            self._put_up(notice)
            if notice.mailing == MailingStatus.SENDING:
                self._fan_out.start(MAILING_KIND, "", notice.id)  # a repeated start finds its batches
        return Published(notice, created)

    def retire(self, notice_id: str, actor: str) -> Notice:
        now = self._clock.now()

        def retire(notice: Notice) -> None:
            if notice.status == NoticeStatus.ACTIVE:
                notice.status, notice.retired_at = NoticeStatus.RETIRED, now
                notice.note(now, actor, "retired")

        notice = self._notices.change(notice_id, retire)
        self._change_board(lambda board: [n for n in board if n.id != notice_id])
        return notice

    def get(self, notice_id: str) -> Notice:
        return self._notices.require(notice_id)

    def all(self) -> list[Notice]:
        return self._notices.all()

    def active(self) -> list[ActiveNotice]:
        """Every notice in service for everyone: one point read, then kept a few seconds per instance."""
        return self._board.active()

    def mine(self, user_id: str) -> list[ActiveNotice]:
        """The person's notices not yet seen: those for everyone, and those meant for them alone."""
        receipts = self._notices.receipts(user_id)
        shown = [n for n in self.active() if not (n.id in receipts and receipts[n.id].seen_at)]
        for receipt in receipts.values():
            if receipt.targeted and receipt.seen_at is None:
                notice = self._notices.get(receipt.id)
                if notice is not None and notice.status == NoticeStatus.ACTIVE:
                    shown.append(summary(notice))
        return shown

    def seen(self, user_id: str, notice_id: str) -> None:
        """Recorded once per person: a notice they have seen no longer shows for them."""
        self._notices.require(notice_id)
        receipt = self._notices.receipt(user_id, notice_id) or Receipt(id=notice_id, user_id=user_id, targeted=False)
        if receipt.seen_at is None:
            receipt.seen_at = self._clock.now()
            self._notices.put_receipt(receipt)

    def _put_up(self, notice: Notice) -> None:
        if not notice.in_service:
            return
        if notice.audience == Audience.SUBJECTS:
            for user_id in notice.subjects:  # shown to these people alone, until each has seen it
                if self._notices.receipt(user_id, notice.id) is None:
                    self._notices.put_receipt(Receipt(id=notice.id, user_id=user_id, targeted=True))
            return
        shown = summary(notice)
        self._change_board(lambda board: [*[n for n in board if n.id != notice.id], shown])

    def _change_board(self, change: Callable[[list[ActiveNotice]], list[ActiveNotice]]) -> None:
        def update(board: ActiveNotices) -> None:
            board.notices = change(board.notices)

        self._board.keep(self._notices.change_board(update).notices)


def summary(notice: Notice) -> ActiveNotice:
    return ActiveNotice(
        id=notice.id, kind=notice.kind, title=notice.title, text=notice.text, link=notice.link, since=notice.created_at
    )
