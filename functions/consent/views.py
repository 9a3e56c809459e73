"""Domain values → API bodies."""

from __future__ import annotations

from typing import get_args

from functions.consent.catalog import Catalog
from functions.consent.chain import ChainVerification
from functions.consent.ledger import ConsentEvent, ConsentState
from functions.consent.models import (
    CatalogView,
    ChainProblemView,
    CheckpointView,
    ConsentStateView,
    CookieCategory,
    CookieCategoryView,
    EventView,
    PolicyVersionView,
    ProofView,
    PurposeConsent,
    PurposeView,
    VerificationView,
)
from functions.proof.models import SealInclusionView


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
        actor=event.context.actor,
        prev_hash=event.prev_hash,
        hash=event.hash,
        content=content,
    )


def proof_view(
    events: list[ConsentEvent], verification: ChainVerification, seal: SealInclusionView | None
) -> ProofView:
    return ProofView(
        seal=seal,
        events=[event_view(e) for e in events],
        verification=VerificationView(
            valid=verification.valid,
            event_count=verification.event_count,
            head_hash=verification.head_hash,
            problems=[ChainProblemView(seq=p.seq, problem=p.problem) for p in verification.problems],
            checkpoint=_checkpoint_view(verification.checkpoint),
        ),
    )


def _checkpoint_view(checkpoint: tuple[int, str] | None) -> CheckpointView | None:
    return CheckpointView(seq=checkpoint[0], hash=checkpoint[1]) if checkpoint else None


COOKIE_CATEGORY_ORDER = get_args(CookieCategory)


def catalog_view(catalog: Catalog, policy_url: str) -> CatalogView:
    current = catalog.current_version
    by_category = catalog.cookie_purposes()
    return CatalogView(
        current_version=PolicyVersionView.model_validate(current) if current else None,
        policy_url=policy_url,
        cookie_categories=[
            CookieCategoryView(
                category=category,
                purpose_id=purpose.id,
                title=purpose.title,
                description=purpose.description,
                always_on=purpose.always_on,
            )
            for category in COOKIE_CATEGORY_ORDER
            if (purpose := by_category.get(category)) is not None
        ],
        purposes=[PurposeView.model_validate(p) for p in catalog.purposes.values()],
    )
