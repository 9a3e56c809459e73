"""One notice in service as the banner and the dashboard show it: its view, apart from the rest of
the notices API, for the cookie read that carries the board imports it."""

from __future__ import annotations

from core.models import UtcDateTime, View
from functions.notices.lifecycle import NoticeKind
from functions.notices.notice_record import ActiveNotice


class ActiveNoticeView(View):
    id: str
    kind: NoticeKind
    title: str
    text: str
    link: str | None
    since: UtcDateTime


def active_view(notice: ActiveNotice) -> ActiveNoticeView:
    return ActiveNoticeView(
        id=notice.id, kind=notice.kind, title=notice.title, text=notice.text, link=notice.link, since=notice.since
    )
