"""Notices as the fan-out sends them: everyone with an address, only those whose consent the new
policy asks to renew, or the people a legal disclosure concerns. Owed to the person (transactional):
an unsubscribe from marketing does not stop them."""

from __future__ import annotations

import html
from collections.abc import Iterator

from core.ports import Clock
from core.pseudonyms import keyed_hash
from functions.consent.catalog_repository import CatalogRepository
from functions.consent.ledger_repository import ConsentLedger
from functions.fanout.batch_record import Addressee, BatchSummary
from functions.fanout.lifecycle import BatchStatus
from functions.fanout.mailing import Letter
from functions.notices.lifecycle import Audience
from functions.notices.notice_record import MailingStatus, Notice
from functions.notices.notices_repository import NoticeRepository
from functions.notices.ports import Directory
from functions.requests.profiles import Addressed

KIND = "notice"
CATEGORY = "privacy-notice"
SCAN_PAGE = 1000  # profiles read per query while looking for those whose consent must be renewed
FOOTER = (
    "Our privacy policy promises to tell you about changes like this one by email. This message is sent "
    "to every person it concerns, including those who unsubscribed from marketing email."
)


class NoticeMailing:
    kind = KIND

    def __init__(
        self,
        notices: NoticeRepository,
        directory: Directory,
        ledger: ConsentLedger,
        catalog: CatalogRepository,
        clock: Clock,
        pepper: str,
    ) -> None:
        self._notices = notices
        self._directory = directory
        self._ledger = ledger
        self._catalog = catalog
        self._clock = clock
        self._pepper = pepper

    def sending(self, owner: str, mailing_id: str) -> bool:
        notice = self._notices.get(mailing_id)  # retiring a notice takes it off the board, not out of the mail
        return notice is not None and notice.mailing == MailingStatus.SENDING

    def addressees_after(self, owner: str, mailing_id: str, after: str, limit: int) -> list[Addressee]:
        notice = self._notices.require(mailing_id)
        if notice.audience == Audience.SUBJECTS:
            return self._subjects_after(notice, after, limit)
        chosen: list[Addressee] = []
        for page in self._pages_after(after):
            renewing = self._renewing(page, notice) if notice.audience == Audience.RENEWAL else None
            for person in page:
                if renewing is None or person.user_id in renewing:
                    chosen.append(Addressee(id=person.email_hash, email=person.email))
                    if len(chosen) == limit:
                        return chosen
        return chosen

    def letter(self, owner: str, mailing_id: str) -> Letter:
        notice = self._notices.require(mailing_id)
        text, page = render(notice)
        return Letter(notice.title, text, page, CATEGORY, transactional=True, custom_args={"notice_id": notice.id})

    def unsubscribe_url(self, addressee: Addressee) -> str | None:
        return None  # owed to every person concerned: no unsubscribe link

    def finished(self, owner: str, mailing_id: str, batches: list[BatchSummary]) -> None:
        now = self._clock.now()

        def finish(notice: Notice) -> None:
            if notice.mailing != MailingStatus.SENDING:
                return
            notice.mailing, notice.mailed_at = MailingStatus.SENT, now
            notice.recipients = sum(b.size for b in batches if b.status == BatchStatus.SENT)
            notice.note(now, "dispatch", "mailed", f"batches={len(batches)} recipients={notice.recipients}")

        self._notices.change(mailing_id, finish)

    def _pages_after(self, after: str) -> Iterator[list[Addressed]]:
        while True:
            page = self._directory.addressed_after(after, SCAN_PAGE)
            if page:
                yield page
            if len(page) < SCAN_PAGE:
                return
            after = page[-1].email_hash

    def _renewing(self, page: list[Addressed], notice: Notice) -> set[str]:
        """Those on the page who granted a purpose the new policy version asks to renew (one query)."""
        catalog = self._catalog.current()
        states = self._ledger.states_of([f"user:{p.user_id}" for p in page])
        return {
            state.subject_id.removeprefix("user:")
            for state in states.values()
            if any(
                decision.granted and catalog.needs_renewal(purpose, decision.policy_version)
                for purpose, decision in state.purposes.items()
                if not notice.renew_purposes or purpose in notice.renew_purposes
            )
        }

    def _subjects_after(self, notice: Notice, after: str, limit: int) -> list[Addressee]:
        # A disclosure names a bounded number of people (the register caps it): sorted in memory.
        people = []
        for start in range(0, len(notice.subjects), SCAN_PAGE):
            emails = self._directory.emails_of(notice.subjects[start : start + SCAN_PAGE])
            people += [Addressee(id=keyed_hash(self._pepper, email), email=email) for email in emails.values()]
        people.sort(key=lambda a: a.id)
        return [a for a in people if a.id > after][:limit]


def render(notice: Notice) -> tuple[str, str]:
    """The notice as plain text and HTML (every value escaped)."""
    link = f"\n\nRead more: {notice.link}" if notice.link else ""
    text = f"{notice.title}\n\n{notice.text}{link}\n\n--\n{FOOTER}\n"
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in notice.text.split("\n\n") if p.strip())
    link_html = f'<p><a href="{html.escape(notice.link)}">Read more</a></p>' if notice.link else ""
    page = (
        f"<!doctype html><html><body><h1>{html.escape(notice.title)}</h1>{paragraphs}{link_html}"
        f"<hr><p><small>{html.escape(FOOTER)}</small></p></body></html>"
    )
    return text, page
