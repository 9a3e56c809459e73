"""The subjects a purpose may be used for now, page by page: what a product backend builds a
SendGrid list or a campaign audience from. Read from the consent ledger's current states, so a
withdrawn person never appears, nor one whose consent the current policy asks to renew, nor an
erased one (erasure withdraws everything, and their profile and address are gone)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.containers import CONSENT_STATE
from core.ports import DocumentStore
from functions.consent.catalog_repository import CatalogRepository
from functions.consent.decisions import may_use
from functions.consent.ledger import STATE_DOCUMENT_ID, ConsentState
from functions.notices.ports import Directory


@dataclass(frozen=True)
class AllowedSubject:
    subject_id: str
    email: str | None  # a user's address, from their profile
    unsubscribe_url: str | None  # the one-click link to put in the mail (marketing purposes)


@dataclass(frozen=True)
class AllowedPage:
    subjects: list[AllowedSubject]
    continuation: str | None


class AllowedSubjects:
    def __init__(
        self,
        store: DocumentStore,
        catalog: CatalogRepository,
        directory: Directory,
        unsubscribe_url: Callable[[str, str], str],
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._directory = directory
        self._unsubscribe_url = unsubscribe_url

    def page(self, purpose: str, page_size: int, continuation: str | None) -> AllowedPage:
        catalog = self._catalog.current()
        may_use(ConsentState(subject_id=""), catalog, purpose)  # refuses a purpose that is not published
        # The purpose id is a published one (checked just above): safe to name in the query.
        path = f"c.purposes['{purpose}'].granted"
        page = self._store.query_page(
            CONSENT_STATE,
            f"SELECT * FROM c WHERE c.id = @state AND {path} = true",  # noqa: S608 - published purpose id
            {"@state": STATE_DOCUMENT_ID},
            page_size,
            continuation,
        )
        # Renewal required: not until the person decides again.
        states = [s for s in map(ConsentState.from_document, page.items) if may_use(s, catalog, purpose).allowed]
        users = [s.subject_id.removeprefix("user:") for s in states if s.subject_id.startswith("user:")]
        emails = self._directory.emails_of(users)  # one query for the page
        found = []
        for state in states:
            email = None
            if state.subject_id.startswith("user:"):
                email = emails.get(state.subject_id.removeprefix("user:"))
                if email is None:
                    continue  # no profile any more: erased or closed
            found.append(AllowedSubject(state.subject_id, email, self._unsubscribe_url(state.subject_id, purpose)))
        return AllowedPage(found, page.continuation)
