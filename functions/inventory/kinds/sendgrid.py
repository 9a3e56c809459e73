"""The marketing contact at the email provider: deleted, while the address stays on the global
suppression list so that no later import or sign-up sync mails the person again.

Retention deletes the contact of someone without a marketing consent: a month after they withdrew
(or refused) it, and a month after their account closed. Withdrawals are walked in windows of time
(each run takes those that became due since the last window), because the consent state they are
read from does not change when the contact goes; someone held when their window passed is
remembered and looked at again on every run until the hold ends. SendGrid is asked for the contact
before it is told to delete it, so a repeat deletes nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from core.containers import CONSENT_STATE, PROFILES
from core.ports import Document, InvalidContinuation
from functions.inventory.accounts import closed_accounts, mark_done
from functions.inventory.locations import (
    Outcome,
    Preview,
    PurgeScope,
    PurgeStep,
    StoredLocation,
    TimeLeft,
    location_kind,
)
from functions.inventory.periods import stored_cutoff
from functions.inventory.purging import Selection, moment, preview_of, purge_remaining
from functions.inventory.subject import Subject
from functions.inventory.third_parties import HELD_ACCOUNT_KEYS, held_account

USERS = "user:"


@location_kind("sendgrid")
class SendGridLocation(StoredLocation):
    purge_chunk = 100  # each item is a call to SendGrid

    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        """One row per record the provider holds under the address: the contact, the global
        suppression, each group unsubscribe."""
        if not subject.email:
            return
        held = self.systems.contacts.export_contact(subject.email)
        if held.get("contact"):
            yield {"record": "marketing-contact", **held["contact"]}
        if held.get("globalSuppression"):
            yield {"record": "global-suppression", **held["globalSuppression"]}
        for unsubscribe in held.get("unsubscribes") or []:
            yield {"record": "unsubscribe", **unsubscribe}

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        if not subject.email:
            return Outcome(counts={"contactsDeleted": 0, "suppressed": 0})
        contacts = self.systems.contacts
        outcome = Outcome()
        deleted = contacts.delete_contact(subject.email)
        if deleted is not None:
            outcome.confirmations.append(deleted.to_document())
        outcome.confirmations.append(contacts.suppress(subject.email).to_document())
        outcome.counts = {"contactsDeleted": int(deleted is not None), "suppressed": 1}
        return outcome

    # ---- retention -----------------------------------------------------------------------------

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        if scope.rule.clock == "closed":
            return self._purge_closed_accounts(scope, bookmark, limit, time_left)
        return self._purge_withdrawals(scope, bookmark, limit, time_left)

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        if scope.rule.clock == "closed":
            return preview_of(self.systems.store, [closed_accounts(scope.rule, scope.cutoff, scope.holds)])
        return preview_of(self.systems.store, [self._withdrawals(scope, scope.cutoff, bookmark.get("since"))])

    def _delete_contact_of(self, email: Any) -> bool:
        if not isinstance(email, str) or not email:
            return False
        return self.systems.contacts.delete_contact(email) is not None

    def _purge_closed_accounts(
        self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft
    ) -> PurgeStep:
        def purge_account(profile: Document) -> bool:
            deleted = self._delete_contact_of(profile.get("email"))
            return mark_done(self.systems.store, str(profile["userId"]), scope.rule.id, scope.now) and deleted

        selection = closed_accounts(scope.rule, scope.cutoff, scope.holds)
        chunk = self.chunk(scope, bookmark, limit, time_left)
        return purge_remaining(
            self.systems.store, [selection], HELD_ACCOUNT_KEYS, chunk, purge_account, held=held_account(scope)
        )

    def _withdrawals(self, scope: PurgeScope, until: datetime, since: str | None) -> Selection:
        """Users whose consent to the rule's purpose has not been in force since before ``until``
        and, after the first window, since the end of the last one (``since``, stored cutoff text:
        windows meet exactly, so no withdrawal falls between two)."""
        clock = f"c.withdrawnAt['{scope.rule.consent_purpose}']"
        clauses: tuple[str, ...] = (f"STARTSWITH(c.subjectId, '{USERS}')",)
        parameters: dict[str, Any] = {}
        if since is not None:
            clauses += (f"{clock} >= @since",)
            parameters["@since"] = since
        return Selection(
            CONSENT_STATE,
            clock,
            until,
            clauses,
            parameters,
            held=("NOT ARRAY_CONTAINS(@heldSubjects, c.subjectId)",),
            held_parameters={"@heldSubjects": sorted(scope.holds.consent_subjects)},
        )

    def _purge_withdrawals(
        self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft
    ) -> PurgeStep:
        """Walks one window of withdrawals, [since, until), a page at a time; the bookmark keeps the
        window, the page's continuation and the held subjects to look at again."""
        step = PurgeStep(bookmark=dict(bookmark))
        window = step.bookmark
        window.setdefault("until", scope.cutoff.isoformat())
        until = moment(window["until"]) or scope.cutoff
        deferred: list[str] = list(window.get("deferred") or [])
        still_held = [s for s in deferred if s in scope.holds.consent_subjects]
        for subject_id in (s for s in deferred if s not in still_held):
            step.examined += 1
            if self._purge_withdrawal(subject_id):
                step.purged += 1
            else:
                step.skipped += 1
        window["deferred"] = still_held
        selection = self._withdrawals(scope, until, window.get("since"))
        while time_left() and step.examined < limit:
            try:
                page = selection.page(self.systems.store, "c.subjectId", limit - step.examined, window.get("page"))
            except InvalidContinuation:  # a page token that expired: the window starts over (repeats are harmless)
                page = selection.page(self.systems.store, "c.subjectId", limit - step.examined, None)
            for item in page.items:
                if not time_left():  # the page is walked again next time: repeats ask, and delete nothing
                    return step
                subject_id = str(item["subjectId"])
                step.examined += 1
                if subject_id in scope.holds.consent_subjects:
                    step.held += 1
                    window["deferred"] = sorted({*window["deferred"], subject_id})
                elif self._purge_withdrawal(subject_id):
                    step.purged += 1
                else:
                    step.skipped += 1
            window["page"] = page.continuation
            if page.continuation is None:  # the window is done: the next one starts where it ended
                step.bookmark = {"since": stored_cutoff(until), "deferred": window["deferred"]}
                step.done = True
                return step
        return step

    def _purge_withdrawal(self, subject_id: str) -> bool:
        user_id = subject_id.removeprefix(USERS)
        profile = self.systems.store.read(PROFILES, user_id, user_id)
        return profile is not None and self._delete_contact_of(profile.body.get("email"))
