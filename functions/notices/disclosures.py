"""The register of legal disclosures, and telling the people concerned.

An entry records who asked (the authority), under what instrument and legal basis, what was handed
over about whom and when, and who approved it. Entries are append-only: their facts never change;
what happens later (the people told, a gag extended by the court) is appended to their log. The
people concerned get one notice, by mail and in the service, as soon as the law allows: at once,
or when a gag ends (the hourly watch sends it then, and warns staff a week before).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta

from core.containers import DISCLOSURES
from core.ports import Clock, DocumentConflict, DocumentStore, Mailer, MailNotSent
from core.repository import Repository
from functions.consent.errors import IdempotencyKeyReused
from functions.notices.board import Draft, NoticeBoard
from functions.notices.errors import AlreadyNotified, DisclosureNotFound
from functions.notices.lifecycle import Audience, Instrument, NoticeKind, Outcome
from functions.notices.notice_record import PEOPLE_NOTIFIED, Disclosure

log = logging.getLogger("privacy.notices")
ENTRY_NAMESPACE = uuid.UUID("0b8f5a1e-2c4d-4e0f-9a77-5d3c2b1a0e99")
INSTRUMENT_NAMES = {
    Instrument.COURT_ORDER: "a court order",
    Instrument.SUBPOENA: "a subpoena",
    Instrument.GOVERNMENT_REQUEST: "a government request",
    Instrument.OTHER: "a legal request",
}


@dataclass(frozen=True)
class DisclosureFacts:
    authority: str
    instrument: Instrument
    legal_basis: str
    categories: tuple[str, ...]
    subjects: tuple[str, ...]
    disclosed: str
    disclosed_at: datetime
    outcome: Outcome
    approved_by: str
    gag_until: datetime | None = None
    gag_reason: str | None = None


@dataclass
class WatchResult:
    notified: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DisclosureConfig:
    staff_email: str | None = None
    warn_before: timedelta = timedelta(days=7)  # time to ask the court for an extension, if one is needed


class DisclosureRegister:
    def __init__(
        self,
        store: DocumentStore,
        board: NoticeBoard,
        mailer: Mailer,
        clock: Clock,
        config: DisclosureConfig,
        category_names: dict[str, str],
    ) -> None:
        self._store = store
        self._entries = Repository(store, DISCLOSURES, Disclosure, lambda d: d.id, DisclosureNotFound)
        self._board = board
        self._mailer = mailer
        self._clock = clock
        self._config = config
        self._category_names = category_names

    def record(self, facts: DisclosureFacts, actor: str, key: str | None = None) -> tuple[Disclosure, bool]:
        """Appends an entry and tells the people concerned now unless a gag forbids it. The entry's id
        follows from the staff member's Idempotency-Key, or else from the facts: a repeated click is
        one entry; the same key with other facts is refused."""
        now = self._clock.now()
        entry_id = _entry_id(actor, key, facts)
        entry = Disclosure(
            id=entry_id,
            authority=facts.authority,
            instrument=facts.instrument,
            legal_basis=facts.legal_basis,
            categories=list(facts.categories),
            subjects=sorted(set(facts.subjects)),
            disclosed=facts.disclosed,
            disclosed_at=facts.disclosed_at,
            outcome=facts.outcome,
            approved_by=facts.approved_by,
            recorded_by=actor,
            recorded_at=now,
            gag_until=facts.gag_until,
            gag_reason=facts.gag_reason,
        )
        entry.note(now, actor, "recorded", f"gag until {facts.gag_until.isoformat()}" if facts.gag_until else "")
        try:
            entry, created = self._entries.save(entry), True
        except DocumentConflict:
            entry, created = self.get(entry_id), False
            if _without_gag(_facts_of(entry)) != _without_gag(_normalized(facts)):  # a gag may change later
                raise IdempotencyKeyReused() from None
        if self._may_tell(entry, now):  # again on a repeat: a crash after the save is completed now
            entry = self._notify(entry, actor)
        return entry, created

    def get(self, entry_id: str) -> Disclosure:
        return self._entries.require(entry_id, entry_id)

    def all(self) -> list[Disclosure]:
        rows = self._store.query_across_partitions(DISCLOSURES, "SELECT * FROM c ORDER BY c.disclosedAt DESC", {})
        return [self._entries.load(r) for r in rows]

    def change_gag(self, entry_id: str, until: datetime | None, reason: str | None, actor: str) -> Disclosure:
        """A court extended (or lifted) the gag: the new end is appended to the log."""
        now = self._clock.now()

        def change(entry: Disclosure) -> None:
            if entry.notice_id is not None:
                raise AlreadyNotified()
            before = entry.gag_until.isoformat() if entry.gag_until else "none"
            entry.gag_until, entry.gag_reason = until, reason or entry.gag_reason
            entry.gag_warning_sent = False
            entry.note(now, actor, "gag-changed", f"{before} -> {until.isoformat() if until else 'none'}")

        entry = self._entries.change(entry_id, entry_id, change)
        if self._may_tell(entry, now):
            entry = self._notify(entry, actor)
        return entry

    def watch(self) -> WatchResult:
        """Hourly: the people are told when a gag ends; staff are warned before it does."""
        now = self._clock.now()
        result = WatchResult()
        waiting = self._store.query_across_partitions(
            DISCLOSURES, "SELECT * FROM c WHERE NOT IS_STRING(c.noticeId)", {}
        )
        for entry in [self._entries.load(r) for r in waiting]:
            if self._may_tell(entry, now):
                self._notify(self.get(entry.id), "gag-watch")
                result.notified.append(entry.id)
            elif entry.gag_until and entry.gag_until - now <= self._config.warn_before and not entry.gag_warning_sent:
                result.warned.append(entry.id)
        if result.warned and self._warn_staff(result.warned, now):
            for entry_id in result.warned:
                self._entries.change(entry_id, entry_id, _warned(now))
        log.info("disclosure watch notified=%d warned=%d", len(result.notified), len(result.warned))
        return result

    def _may_tell(self, entry: Disclosure, now: datetime) -> bool:
        return entry.notice_id is None and (entry.gag_until is None or entry.gag_until <= now)

    def _notify(self, entry: Disclosure, actor: str) -> Disclosure:
        # The notice's id follows from its content: telling twice (two watches, a retry) is one notice.
        published = self._board.publish(self._draft(entry), actor)
        now = self._clock.now()

        def told(e: Disclosure) -> None:
            if e.notice_id is None:
                e.notice_id = published.notice.id
                e.note(now, actor, PEOPLE_NOTIFIED, f"notice {published.notice.id}")

        return self._entries.change(entry.id, entry.id, told)

    def _draft(self, entry: Disclosure) -> Draft:
        names = ", ".join(self._category_names.get(c, c) for c in entry.categories)
        asked = f"{entry.authority} asked for information about you under {INSTRUMENT_NAMES[entry.instrument]}"
        if entry.outcome == Outcome.REFUSED:
            title = "A request for your information, which we refused"
            what = (
                f"On {entry.disclosed_at:%d %B %Y} {asked} ({entry.legal_basis}). We refused it: nothing was disclosed."
            )
        else:
            title = "We disclosed some of your information as required by law"
            what = (
                f"On {entry.disclosed_at:%d %B %Y} {asked} ({entry.legal_basis}), and we disclosed "
                f"{'part of ' if entry.outcome == Outcome.PARTLY_DISCLOSED else ''}what it asked for.\n\n"
                f"What was disclosed: {entry.disclosed}"
            )
        text = (
            f"{what}\n\nThe kinds of information concerned: {names or 'none named'}.\n\n"
            "Our privacy policy promises to tell you about such a request. If you have questions, reply to "
            "this email or contact our privacy team."
        )
        return Draft(
            kind=NoticeKind.DISCLOSURE,
            title=title,
            text=text,
            audience=Audience.SUBJECTS,
            subjects=tuple(entry.subjects),
            occasion=f"disclosure:{entry.id}",
        )

    def _warn_staff(self, entry_ids: list[str], now: datetime) -> bool:
        if not self._config.staff_email:
            log.warning("disclosure gag ending soon for %d entries; no DISCLOSURE_STAFF_EMAIL to warn", len(entry_ids))
            return False
        lines = []
        for entry_id in entry_ids:
            entry = self.get(entry_id)
            assert entry.gag_until is not None
            lines.append(f"{entry.id}: gag ends {entry.gag_until.isoformat()}, {len(entry.subjects)} people")
        text = (
            "The gag on these legal disclosures ends soon. When it does, the people concerned are notified "
            "automatically. If the court extends it, record the new end before then.\n\n" + "\n".join(lines)
        )
        try:
            self._mailer.send(self._config.staff_email, "Legal disclosures: gag ending soon", text, "disclosure-gag")
        except MailNotSent:
            log.warning("disclosure gag warning not mailed (mail service); retried next hour")
            return False
        return True


def _entry_id(actor: str, key: str | None, facts: DisclosureFacts) -> str:
    occasion = f"{actor}:{key}" if key is not None else json.dumps(asdict(_normalized(facts)), default=str)
    return str(uuid.uuid5(ENTRY_NAMESPACE, occasion))


def _normalized(facts: DisclosureFacts) -> DisclosureFacts:
    """The facts as an entry keeps them (sets sorted, times in UTC), so two records of one act compare equal."""
    return replace(
        facts,
        categories=tuple(sorted(facts.categories)),
        subjects=tuple(sorted(set(facts.subjects))),
        disclosed_at=facts.disclosed_at.astimezone(UTC),
        gag_until=facts.gag_until.astimezone(UTC) if facts.gag_until else None,
    )


def _without_gag(facts: DisclosureFacts) -> DisclosureFacts:
    return replace(facts, gag_until=None, gag_reason=None)


def _facts_of(entry: Disclosure) -> DisclosureFacts:
    return _normalized(
        DisclosureFacts(
            authority=entry.authority,
            instrument=entry.instrument,
            legal_basis=entry.legal_basis,
            categories=tuple(entry.categories),
            subjects=tuple(entry.subjects),
            disclosed=entry.disclosed,
            disclosed_at=entry.disclosed_at,
            outcome=entry.outcome,
            approved_by=entry.approved_by,
            gag_until=entry.gag_until,
            gag_reason=entry.gag_reason,
        )
    )


def _warned(now: datetime) -> Callable[[Disclosure], None]:
    def mark(entry: Disclosure) -> None:
        if not entry.gag_warning_sent:
            entry.gag_warning_sent = True
            entry.note(now, "gag-watch", "staff-warned")

    return mark
