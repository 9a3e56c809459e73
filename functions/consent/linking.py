"""Signing in: an anonymous visitor's consents are carried over to the user, recorded on both chains."""

from __future__ import annotations

from datetime import datetime

from functions.consent.catalog import Catalog
from functions.consent.decisions import Caller, event_context
from functions.consent.errors import VisitorAlreadyLinked
from functions.consent.ledger import ConsentState, Decision, EventKind, Source
from functions.consent.ledger_repository import ConsentLedger, Recorded


def link_visitor_to_user(
    ledger: ConsentLedger,
    catalog: Catalog,
    visitor_id: str,
    user_id: str,
    caller: Caller,
    now: datetime,
) -> Recorded:
    """Carry a visitor's decisions over to the user who just signed in, on both chains.

    The user's own decisions win where they are newer. A repeated link call is a no-op, whenever it
    comes: each side is written only if it is not there yet (so a call that died between the two
    finishes on the next), and a visitor already linked to someone else cannot be taken over.
    """

    def not_linked_elsewhere(state: ConsentState) -> None:
        if state.linked_to not in (None, user_id):
            raise VisitorAlreadyLinked()

    visitor = ledger.load(visitor_id)
    not_linked_elsewhere(visitor.state)
    version = catalog.require_current_version()
    user = ledger.load(user_id)
    key = f"link-from:{visitor_id}"
    if (seen := user.state.key_use(key, now)) is not None and visitor.state.linked_to == user_id:
        # Linked already: what is carried now would differ (the first link made the user's decisions
        # newer), but the key is ours and names this very link, so this is its replay.
        return Recorded(user.state, seen.seq, replayed=True, event=ledger.event(user_id, seen.seq))
    carried = {
        purpose: Decision(granted=p.granted, source=Source.LINK)
        for purpose, p in visitor.state.purposes.items()
        if purpose not in user.state.purposes or user.state.purposes[purpose].decided_at < p.decided_at
    }
    if visitor.state.linked_to != user_id:
        ledger.record(
            visitor_id,
            EventKind.LINKED_TO_USER,
            {},
            event_context(Source.LINK, version, caller, now),
            f"link-to:{user_id}",
            linked_subject=user_id,
            loaded=visitor,
            precondition=not_linked_elsewhere,
        )
    done = ledger.link_event(user_id, visitor_id)
    if done is not None:
        return Recorded(ledger.load(user_id).state, done.seq, replayed=True, event=done)
    return ledger.record(
        user_id,
        EventKind.VISITOR_LINKED,
        carried,
        event_context(Source.LINK, version, caller, now),
        key,
        linked_subject=visitor_id,
        loaded=user,
    )
