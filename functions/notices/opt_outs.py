"""Withdrawing marketing email or push notifications, from wherever the person says it, and what
follows every decision on them: the ledger records it (with its source), SendGrid's unsubscribe
group follows marketing, and push tokens are turned off.

The sync is told before the ledger records (``before``): a crash between the two leaves a mark
whose sync finds nothing changed, never a withdrawal SendGrid is not told of. Push tokens are turned
off after it (``after``), also on a replay, so a retry completes what a crash left undone. A
withdrawal of what is already withdrawn records nothing: a replayed webhook event, a second click on
an unsubscribe link or a mail scanner's visit change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from core.ports import Clock
from functions.consent.catalog_repository import CatalogRepository
from functions.consent.decisions import NOBODY, event_context
from functions.consent.ledger import ConsentEvent, Decision, EventKind, Source
from functions.consent.ledger_repository import ConsentLedger
from functions.fanout.ports import OptOutEvent
from functions.notices.devices import Devices
from functions.notices.lifecycle import MARKETING_PURPOSE, PUSH_PURPOSE
from functions.notices.marketing_sync import MarketingSync
from functions.notices.ports import Directory

log = logging.getLogger("privacy.notices")
GROUP_EVENTS = frozenset({"group_unsubscribe", "group_resubscribe"})


@dataclass(frozen=True)
class OptedOut:
    withdrawn: bool  # False: it was withdrawn already, nothing was written
    event_seq: int
    event: ConsentEvent | None = None  # the event recorded (or, for a retry, recorded before); None if none was


class OptOuts:
    def __init__(
        self,
        ledger: ConsentLedger,
        catalog: CatalogRepository,
        sync: MarketingSync,
        devices: Devices,
        directory: Directory,
        marketing_group_id: int | None,
        clock: Clock,
    ) -> None:
        self._ledger = ledger
        self._catalog = catalog
        self._sync = sync
        self._devices = devices
        self._directory = directory
        self._group_id = marketing_group_id
        self._clock = clock

    def withdraw(
        self,
        subject_id: str,
        purpose: str,
        source: Source,
        key: str,
        actor: str | None = None,
        per_position: bool = False,
    ) -> OptedOut:
        """Records the withdrawal unless the purpose is withdrawn already, then what follows from it.

        ``key`` makes a retry of the same act one event; ``per_position`` binds it to the ledger's
        position too, for a link that may be used again after the person subscribed again."""
        decided = {purpose: False}
        loaded = self._ledger.load(subject_id)
        current = loaded.state.purposes.get(purpose)
        if current is not None and not current.granted:
            self.after(subject_id, decided)
            return OptedOut(False, loaded.state.seq)
        version = self._catalog.current().require_current_version()
        context = event_context(source, version, NOBODY, self._clock.now(), actor)
        decisions = {purpose: Decision(granted=False, source=source)}
        self.before(subject_id, decided)
        idempotency_key = f"{key}:{loaded.state.seq}" if per_position else key
        recorded = self._ledger.record(
            subject_id, EventKind.DECISION, decisions, context, idempotency_key, loaded=loaded
        )
        self.after(subject_id, decided)
        if not recorded.replayed:
            log.info("opt-out recorded purpose=%s source=%s", purpose, source.value)
        return OptedOut(not recorded.replayed, recorded.event_seq, recorded.event)

    def before(self, subject_id: str, decided: Mapping[str, bool]) -> None:
        """Before a decision is recorded: the marketing sync will look at this subject."""
        if MARKETING_PURPOSE in decided:
            self._sync.mark(subject_id)

    def after(self, subject_id: str, decided: Mapping[str, bool]) -> None:
        """After a decision is recorded (or replayed): the devices follow a push withdrawal."""
        if decided.get(PUSH_PURPOSE) is False and subject_id.startswith("user:"):
            self._devices.disable_push(subject_id.removeprefix("user:"))

    def opted_out(self, events: list[OptOutEvent]) -> None:
        """SendGrid's unsubscribe, group unsubscribe and spam-report events, as withdrawals of
        marketing email with source sendgrid (the events name the address by its keyed hash)."""
        for event in events:
            other_group = self._group_id is not None and event.group_id not in (None, self._group_id)
            if event.kind in GROUP_EVENTS and other_group:
                log.info("sendgrid %s ignored: not the marketing group", event.kind)
                continue
            user_id = self._directory.user_for_email_key(event.recipient_key)
            if user_id is None:
                log.info("sendgrid %s for no user of ours ignored", event.kind)
                continue
            if event.kind == "group_resubscribe":
                # SendGrid took the address out of the group; the ledger decides whether it stays out.
                self._sync.mark(f"user:{user_id}")
                continue
            self.withdraw(f"user:{user_id}", MARKETING_PURPOSE, Source.SENDGRID, f"sendgrid:{event.event_id}")
