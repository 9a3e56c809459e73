"""Withdrawing marketing email or push notifications, from wherever the person says it, and what
follows every decision on them: the ledger records it (with its source), SendGrid's unsubscribe
group follows marketing, and push tokens are turned off.

A withdrawal of what is already withdrawn records nothing: a replayed webhook event, a second
click on an unsubscribe link or a mail scanner's visit change nothing. Concurrent duplicates share
an idempotency key fixed by the ledger position they saw, so only one of them is written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from core.ports import Clock
from functions.consent.catalog_repository import CatalogRepository
from functions.consent.decisions import NOBODY, event_context
from functions.consent.ledger import Decision, EventKind, Source
from functions.consent.ledger_repository import ConsentLedger
from functions.fanout.ports import OptOutEvent
from functions.notices.devices import Devices
from functions.notices.lifecycle import MARKETING_PURPOSE, PUSH_PURPOSE
from functions.notices.marketing_sync import MarketingSync
from functions.notices.ports import Directory

log = logging.getLogger("privacy.notices")


@dataclass(frozen=True)
class OptedOut:
    withdrawn: bool  # False: it was withdrawn already, nothing was written
    event_seq: int


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

    def withdraw(self, subject_id: str, purpose: str, source: Source, key: str, actor: str | None = None) -> OptedOut:
        """Records the withdrawal unless the purpose is withdrawn already, then what follows from it."""
        loaded = self._ledger.load(subject_id)
        current = loaded.state.purposes.get(purpose)
        if current is not None and not current.granted:
            return OptedOut(False, loaded.state.seq)
        version = self._catalog.current().require_current_version()
        context = event_context(source, version, NOBODY, self._clock.now(), actor)
        decisions = {purpose: Decision(granted=False, source=source)}
        recorded = self._ledger.record(
            subject_id, EventKind.DECISION, decisions, context, f"{key}:{loaded.state.seq}", loaded=loaded
        )
        if not recorded.replayed:
            self.followed(subject_id, {purpose: False})
            log.info("opt-out recorded purpose=%s source=%s", purpose, source.value)
        return OptedOut(not recorded.replayed, recorded.event_seq)

    def followed(self, subject_id: str, decided: Mapping[str, bool]) -> None:
        """After any recorded decision: bring SendGrid and the devices in line with the ledger."""
        if MARKETING_PURPOSE in decided:
            self._sync.mark(subject_id)
        if decided.get(PUSH_PURPOSE) is False and subject_id.startswith("user:"):
            self._devices.disable_push(subject_id.removeprefix("user:"))

    def opted_out(self, events: list[OptOutEvent]) -> None:
        """SendGrid's unsubscribe, group unsubscribe and spam-report events, as withdrawals of
        marketing email with source sendgrid (the events name the address by its keyed hash)."""
        for event in events:
            if event.kind == "group_unsubscribe" and event.group_id is not None and event.group_id != self._group_id:
                log.info("sendgrid group unsubscribe ignored: not the marketing group")
                continue
            user_id = self._directory.user_for_email_key(event.recipient_key)
            if user_id is None:
                log.info("sendgrid %s for no user of ours ignored", event.kind)
                continue
            self.withdraw(f"user:{user_id}", MARKETING_PURPOSE, Source.SENDGRID, f"sendgrid:{event.event_id}")
