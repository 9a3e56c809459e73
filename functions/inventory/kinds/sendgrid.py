"""The marketing contact at the email provider: deleted, while the address stays on the global
suppression list so that no later import or sign-up sync mails the person again.

Retention deletes the contact of someone without a marketing consent: a month after they withdrew
(or refused) it, and a month after their account closed. Withdrawals are walked in windows of time
(each run takes those that became due since the last window), because the consent state they are
read from does not change when the contact goes. Before each deletion the consent is read again: a
person who agreed again since keeps their contact.

SendGrid deletes contacts in jobs that take a while, and until one has ended it still finds the
contact, so asking first does not stop a second deletion. Each deletion is therefore marked on the
person's profile before SendGrid is called and confirmed after: the other rule, a page walked again,
a run that takes over from one that died, all find the mark and call nothing. A mark that was never
confirmed (the run died, or SendGrid's answer was lost) is in flight: left alone for
``IN_FLIGHT_FOR``; a contact SendGrid still has after that was never deleted, and is asked for again.

Someone the walk passes while a hold covers them, or whose deletion is in flight, is noted on their
profile to be looked at again (``contactRevisitAt``), so nothing about them is kept in the purge's own
records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum
from functools import partial
from typing import Any

from core.containers import CONSENT_STATE, PROFILES
from core.models import utc_text
from core.ports import Confirmation, Document, DocumentChanged, InvalidContinuation, Versioned
from functions.inventory.accounts import MAX_MARK_ATTEMPTS, closed_accounts, mark_done
from functions.inventory.locations import (
    Chunk,
    Outcome,
    Preview,
    PurgeScope,
    PurgeStep,
    StoredLocation,
    TimeLeft,
    location_kind,
)
from functions.inventory.periods import stored_cutoff
from functions.inventory.ports import ContactNotDeleted
from functions.inventory.purging import Attempts, Result, Selection, moment, preview_of, purge_remaining
from functions.inventory.subject import Subject
from functions.inventory.third_parties import HELD_ACCOUNT_KEYS, held_account

USERS = "user:"
DELETION = "contactDeletion"  # on the profile: {askedAt, emailHash, doneAt, jobId}
REVISIT = "contactRevisitAt"  # on the profile: when the withdrawal rule looks at it again
IN_FLIGHT_FOR = timedelta(hours=20)  # an unconfirmed deletion is left alone this long: until the next daily run
LEGACY_DEFERRED = "deferred"  # bookmarks once listed held subjects by user id
WALK_AGAIN = "again"  # in the bookmark: the window is walked once more when done
WALKING_AGAIN = "rewalk"  # this walk of the window is such a second one


class Deletion(Enum):
    DELETED = "deleted"
    NOTHING = "nothing"  # no address, no profile, or SendGrid has no contact for it
    ASKED_BEFORE = "asked-before"  # confirmed by an earlier call
    IN_FLIGHT = "in-flight"  # asked for, not confirmed yet


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
        deleted = self._erase_contact(subject.email, subject.user_id)
        if deleted is not None:
            outcome.confirmations.append(deleted)
        outcome.confirmations.append(contacts.suppress(subject.email).to_document())
        outcome.counts = {"contactsDeleted": int(deleted is not None), "suppressed": 1}
        return outcome

    def _erase_contact(self, email: str, user_id: str | None) -> dict[str, Any] | None:
        """The contact of the person's address, deleted. Where their profile has that address it goes
        through the profile's deletion mark: a deletion SendGrid confirmed with a job less than
        ``IN_FLIGHT_FOR`` ago (retention's) is still under way and stands for this one, since asking
        again would start a second job. Anything else is asked for now: an erasure may not wait on
        a deletion that was never confirmed, and the profile it was marked on goes next."""
        store, now = self.systems.store, self.systems.clock.now()
        profile = store.read(PROFILES, user_id, user_id) if user_id else None
        address = str(profile.body.get("email") or "") if profile else ""
        if user_id is None or profile is None or address.strip().lower() != email.strip().lower():
            deleted = self.systems.contacts.delete_contact(email)
            return deleted.to_document() if deleted is not None else None
        mark = profile.body.get(DELETION)
        under_way = _asked_since(profile.body, now - IN_FLIGHT_FOR) is not None
        if under_way and isinstance(mark, dict) and mark.get("doneAt") and mark.get("jobId"):
            return Confirmation("sendgrid", "contact.deleted", str(mark["jobId"])).to_document()
        _, confirmation = self._delete_once(profile, now, now, again_at=None)  # marked as of now, then asked
        return confirmation.to_document() if confirmation is not None else None

    # ---- retention -----------------------------------------------------------------------------

    def purge(self, scope: PurgeScope, bookmark: dict[str, Any], limit: int, time_left: TimeLeft) -> PurgeStep:
        chunk = self.chunk(scope, bookmark, limit, time_left)
        if scope.rule.clock == "closed":
            return self._purge_closed_accounts(chunk)
        return self._purge_withdrawals(chunk)

    def preview(self, scope: PurgeScope, bookmark: dict[str, Any]) -> Preview:
        if scope.rule.clock == "closed":
            return preview_of(self.systems.store, [closed_accounts(scope.rule, scope.cutoff, scope.holds)])
        window = self._withdrawals(scope, scope.cutoff, bookmark.get("since"))
        return preview_of(self.systems.store, [window, self._revisits(scope)])

    def _purge_closed_accounts(self, chunk: Chunk) -> PurgeStep:
        scope, store = chunk.scope, self.systems.store

        def purge_account(profile: Document) -> bool:
            user_id = str(profile["userId"])
            found = store.read(PROFILES, user_id, user_id)
            if found is None:
                return False
            closed = moment(found.body.get(scope.rule.field or "closedAt"))
            deletion, _ = self._delete_once(found, closed, scope.now, again_at=None)
            if deletion is Deletion.IN_FLIGHT:  # not done with it: the selection shows it again
                return False
            return mark_done(store, user_id, scope.rule.id, scope.now) and deletion is Deletion.DELETED

        selection = closed_accounts(scope.rule, scope.cutoff, scope.holds)
        return purge_remaining(store, [selection], HELD_ACCOUNT_KEYS, chunk, purge_account, held=held_account(scope))

    # ---- withdrawals ---------------------------------------------------------------------------

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

    def _revisits(self, scope: PurgeScope) -> Selection:
        """Profiles to look at again whose time has come, without the held ones (left out as held
        closed accounts are)."""
        return replace(closed_accounts(scope.rule, scope.now, scope.holds), clock=f"c.{REVISIT}", clauses=())

    def _purge_withdrawals(self, chunk: Chunk) -> PurgeStep:
        """The profiles to look at again first, then one window of withdrawals, [since, until), a page
        at a time; the bookmark keeps the window and the page's continuation."""
        scope = chunk.scope
        for subject_id in chunk.bookmark.get(LEGACY_DEFERRED) or []:  # noted on their profiles instead
            user_id = str(subject_id).removeprefix(USERS)
            self._revisit(self.systems.store.read(PROFILES, user_id, user_id), _at_once(scope))
        bookmark = {k: v for k, v in chunk.bookmark.items() if k != LEGACY_DEFERRED}

        def look_again(profile: Document) -> bool:
            return self._withdrawal(str(profile["userId"]), scope) == "purged"

        revisited = purge_remaining(
            self.systems.store,
            [self._revisits(scope)],
            HELD_ACCOUNT_KEYS,
            replace(chunk, bookmark=bookmark),
            look_again,
            held=held_account(scope),
        )
        if not revisited.done or revisited.broken:
            return revisited
        walked = self._walk(replace(chunk, bookmark=revisited.bookmark, limit=chunk.limit - revisited.examined))
        for counted in ("examined", "purged", "skipped", "held"):
            setattr(walked, counted, getattr(walked, counted) + getattr(revisited, counted))
        walked.failed[:0] = revisited.failed
        return walked

    def _walk(self, chunk: Chunk) -> PurgeStep:
        scope, attempts = chunk.scope, Attempts(chunk)
        step = attempts.step
        window = step.bookmark
        window.setdefault("until", scope.cutoff.isoformat())
        until = moment(window["until"]) or scope.cutoff
        selection, store = self._withdrawals(scope, until, window.get("since")), self.systems.store
        while chunk.time_left() and step.examined < chunk.limit:
            try:
                page = selection.page(store, "c.subjectId", chunk.limit - step.examined, window.get("page"))
            except InvalidContinuation:  # a page token that expired: the window starts over (repeats are harmless)
                page = selection.page(store, "c.subjectId", chunk.limit - step.examined, None)
            for item in page.items:
                user_id = str(item["subjectId"]).removeprefix(USERS)
                if attempts.passes_over(user_id):
                    if window.get(WALKING_AGAIN):  # perhaps the one never noted, parked: not yet given up
                        window[WALK_AGAIN] = True
                    continue
                if not chunk.time_left():  # the page is walked again next time: the marks make repeats call nothing
                    return attempts.finish()
                if not attempts.attempt(user_id, partial(self._walked, user_id, scope, window)):
                    return attempts.finish()  # failing item after item: the page is walked again
            window["page"] = page.continuation
            if page.continuation is None and window.get(WALK_AGAIN):  # someone in it was not noted: once more
                step.bookmark = {**{k: v for k, v in window.items() if k in ("since", "until")}, WALKING_AGAIN: True}
                return attempts.finish(done=True)
            if page.continuation is None:  # the window is done: the next one starts where it ended
                step.bookmark = {"since": stored_cutoff(until)}
                return attempts.finish(done=True)
        return attempts.finish()

    def _walked(self, user_id: str, scope: PurgeScope, window: dict[str, Any]) -> Result:
        """A withdrawal the walk passes; if it fails, it is noted to be looked at again, as the walk
        moves on. If even the note fails (the store is down), nothing would bring the walk back to
        them once the window is done: the window is then walked again by the next run, and again
        while that walk passes over someone on record as failing (parked, it may be the one never
        noted), so the window waits for them rather than losing them."""
        try:
            return self._withdrawal(user_id, scope, walking=True)
        except Exception:
            try:
                self._revisit(self.systems.store.read(PROFILES, user_id, user_id), _at_once(scope))
            except Exception:  # the item's own error is the one reported
                window[WALK_AGAIN] = True
            raise

    def _withdrawal(self, user_id: str, scope: PurgeScope, walking: bool = False) -> Result:
        """Deletes the contact of one user whose consent is still not in force, and has not been since
        before the cutoff, as the ledger holds it now."""
        found = self.systems.store.read(PROFILES, user_id, user_id)
        if found is None:
            return "skipped"
        key = found.body.get("emailHash")
        if scope.held_now(user_id, key if isinstance(key, str) else None):
            if walking:
                self._revisit(found, _at_once(scope))  # left out while held
            return "held"
        purpose = self.systems.ledger.load(f"{USERS}{user_id}").state.purposes.get(scope.rule.consent_purpose or "")
        if purpose is not None and (purpose.granted or purpose.decided_at >= scope.cutoff):
            # Agreed again, or withdrew again lately: a withdrawal to come, or this one, has its own window.
            self._revisit(found, None)
            return "skipped"
        # No decision left at all (its proof was retired): nothing is in force, any deletion counts.
        since = purpose.decided_at if purpose is not None else None
        deletion, _ = self._delete_once(found, since, scope.now, again_at=_at_once(scope))
        if deletion is Deletion.IN_FLIGHT:
            self._revisit(found, scope.now + IN_FLIGHT_FOR)
        elif deletion is not Deletion.DELETED:
            self._revisit(found, None)
        return "purged" if deletion is Deletion.DELETED else "skipped"

    # ---- one deletion, marked on the profile ---------------------------------------------------

    def _delete_once(
        self, found: Versioned, since: datetime | None, now: datetime, again_at: datetime | None
    ) -> tuple[Deletion, Confirmation | None]:
        """Deletes the contact of the profile's address unless a deletion was asked for since ``since``
        (when the rule's clock started: a deletion from before it, of a contact made again since,
        does not count). With ``again_at``, the withdrawal rule comes back to a deletion not
        confirmed: once it had time to end, or from ``again_at`` if it surely failed."""
        store, user_id = self.systems.store, str(found.body["userId"])
        current: Versioned | None = found
        for _ in range(MAX_MARK_ATTEMPTS):
            if current is None:
                return Deletion.NOTHING, None
            body = current.body
            email = body.get("email")
            if not isinstance(email, str) or not email.strip():
                return Deletion.NOTHING, None
            asked = _asked_since(body, since)
            if asked is not None:
                if body[DELETION].get("doneAt"):
                    return Deletion.ASKED_BEFORE, None
                if now < asked + IN_FLIGHT_FOR:
                    return Deletion.IN_FLIGHT, None
            mark = {"askedAt": utc_text(now), "emailHash": body.get("emailHash")}
            intent = {**body, DELETION: mark} | ({} if again_at is None else {REVISIT: utc_text(now + IN_FLIGHT_FOR)})
            try:
                marked = store.replace(PROFILES, intent, current.etag)
            except DocumentChanged:  # the product wrote meanwhile: read it again
                current = store.read(PROFILES, user_id, user_id)
                continue
            try:
                confirmation = self.systems.contacts.delete_contact(email)
            except ContactNotDeleted:  # surely nothing happened: as it was, so the next run asks at once
                self._change(marked, partial(_unmarked, mark, body.get(DELETION), again_at))
                raise
            done = {**mark, "doneAt": utc_text(now), "jobId": confirmation.reference if confirmation else None}
            self._change(marked, partial(_confirmed, mark, done))
            return (Deletion.DELETED if confirmation is not None else Deletion.NOTHING), confirmation
        raise DocumentChanged(PROFILES)

    def _revisit(self, found: Versioned | None, at: datetime | None) -> None:
        """Notes when the withdrawal rule looks at the profile again; None: no more."""

        def noted(body: Document) -> Document | None:
            if at is None:
                return {k: v for k, v in body.items() if k != REVISIT} if REVISIT in body else None
            return {**body, REVISIT: utc_text(at)}

        self._change(found, noted)

    def _change(self, found: Versioned | None, change: Callable[[Document], Document | None]) -> None:
        """Writes ``change(profile)`` (None: nothing to write), etag-guarded, reading it again after
        a conflict; nothing when the profile is gone."""
        store = self.systems.store
        for _ in range(MAX_MARK_ATTEMPTS):
            if found is None:
                return
            changed = change(found.body)
            if changed is None:
                return
            try:
                store.replace(PROFILES, changed, found.etag)
                return
            except DocumentChanged:
                user_id = str(found.body["userId"])
                found = store.read(PROFILES, user_id, user_id)
        raise DocumentChanged(PROFILES)


def _at_once(scope: PurgeScope) -> datetime:
    """A time to look again that every later run has passed."""
    return scope.cutoff


def _asked_since(profile: Document, since: datetime | None) -> datetime | None:
    """When a deletion was asked for that counts for a clock started at ``since``: asked no earlier,
    and for the address the profile has now."""
    mark = profile.get(DELETION)
    if not isinstance(mark, dict) or mark.get("emailHash") != profile.get("emailHash"):
        return None
    asked = moment(mark.get("askedAt"))
    if asked is None or (since is not None and asked < since):
        return None
    return asked


def _confirmed(mark: dict[str, Any], done: dict[str, Any], body: Document) -> Document | None:
    if body.get(DELETION) != mark:  # not ours any more
        return None
    return {**{k: v for k, v in body.items() if k != REVISIT}, DELETION: done}


def _unmarked(mark: dict[str, Any], before: Any, revisit: datetime | None, body: Document) -> Document | None:
    if body.get(DELETION) != mark:
        return None
    restored = {k: v for k, v in body.items() if k not in (DELETION, REVISIT)}
    if before is not None:
        restored[DELETION] = before
    if revisit is not None:
        restored[REVISIT] = utc_text(revisit)
    return restored
