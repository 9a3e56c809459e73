"""Domain values → API bodies."""

from __future__ import annotations

from functions.consent.catalog import Catalog, PolicyVersion, Purpose
from functions.consent.ledger import ChainVerification, ConsentEvent, ConsentState
from functions.consent.models import (
    CatalogView,
    ChainProblemView,
    ConsentStateView,
    EventView,
    PolicyVersionView,
    ProofView,
    PurposeConsent,
    PurposeView,
    VerificationView,
)


def state_view(state: ConsentState, catalog: Catalog) -> ConsentStateView:
    current = catalog.current_version
    return ConsentStateView(
        purposes={
            purpose_id: PurposeConsent(
                granted=p.granted,
                source=p.source.value,
                policy_version=p.policy_version,
                decided_at=p.decided_at,
                renewal_required=catalog.needs_renewal(purpose_id, p.policy_version),
            )
            for purpose_id, p in sorted(state.purposes.items())
        },
        event_count=state.seq,
        current_policy_version=current.version if current else None,
    )


def event_view(event: ConsentEvent) -> EventView:
    content = event.content()
    return EventView(
        seq=event.seq,
        kind=event.kind.value,
        decisions=content["decisions"],
        source=content["source"],
        policy_version=content["policyVersion"],
        notice_text_hash=content["noticeTextHash"],
        recorded_at=event.context.recorded_at,
        jurisdiction=content["jurisdiction"],
        ip_truncated=event.context.ip_truncated,
        user_agent=event.context.user_agent,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


def proof_view(events: list[ConsentEvent], verification: ChainVerification) -> ProofView:
    return ProofView(
        events=[event_view(e) for e in events],
        verification=VerificationView(
            valid=verification.valid,
            event_count=verification.event_count,
            head_hash=verification.head_hash,
            problems=[ChainProblemView(seq=p.seq, problem=p.problem) for p in verification.problems],
        ),
    )


def purpose_view(p: Purpose) -> PurposeView:
    return PurposeView(
        id=p.id,
        title=p.title,
        description=p.description,
        legal_basis=p.legal_basis,
        always_on=p.always_on,
        cookie_category=p.cookie_category,
    )


def version_view(v: PolicyVersion) -> PolicyVersionView:
    return PolicyVersionView(
        version=v.version,
        text_hash=v.text_hash,
        published_at=v.published_at,
        renew_purposes=list(v.renew_purposes),
    )


def catalog_view(catalog: Catalog) -> CatalogView:
    current = catalog.current_version
    return CatalogView(
        current_version=version_view(current) if current else None,
        purposes=[purpose_view(p) for p in catalog.purposes.values()],
    )
