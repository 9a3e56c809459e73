from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidValues
from functions.consent.catalog import Catalog, PolicyVersion, Purpose
from functions.consent.decisions import may_use
from functions.consent.ledger import ConsentState, Decision, EventContext, EventKind, Source
from functions.cookies.preferences import banner_decisions, gpc_withdrawal, preferences

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(days=365)


def catalog(*versions: tuple[str, tuple[str, ...]]) -> Catalog:
    purposes = {
        "essential": Purpose("essential", "E", "d", "contract", always_on=True),
        "analytics": Purpose("analytics", "A", "d", "consent"),
        "cookie.functional": Purpose("cookie.functional", "F", "d", "consent", cookie_category="functional"),
        "cookie.analytics": Purpose("cookie.analytics", "A", "d", "consent", cookie_category="analytics"),
        "cookie.marketing": Purpose("cookie.marketing", "M", "d", "consent", cookie_category="marketing"),
    }
    return Catalog(
        purposes=purposes,
        versions=tuple(PolicyVersion(v, f"sha256:{i}", NOW, renew, i + 1) for i, (v, renew) in enumerate(versions)),
    )


def decide(state: ConsentState, decisions: dict[str, Decision], version: str, at: datetime) -> ConsentState:
    ctx = EventContext(Source.BANNER, version, "sha256:x", at)
    return state.apply(state.next_event(EventKind.DECISION, decisions, ctx, f"k-{state.seq}"))


def test_may_use_follows_grant_withdrawal_and_renewal() -> None:
    cat = catalog(("v1", ()), ("v2", ("analytics",)))
    state = ConsentState("user:alice")
    assert may_use(state, cat, "analytics").reason == "not-granted"
    assert may_use(state, cat, "essential").allowed
    granted_v1 = decide(state, {"analytics": Decision(True, Source.DASHBOARD)}, "v1", NOW)
    assert may_use(granted_v1, cat, "analytics").reason == "renewal-required"  # v2 asks to renew
    granted_v2 = decide(granted_v1, {"analytics": Decision(True, Source.DASHBOARD)}, "v2", NOW)
    assert may_use(granted_v2, cat, "analytics").allowed
    withdrawn = decide(granted_v2, {"analytics": Decision(False, Source.DASHBOARD)}, "v2", NOW)
    assert may_use(withdrawn, cat, "analytics").reason == "withdrawn"


def test_may_use_rejects_an_unknown_purpose() -> None:
    with pytest.raises(InvalidValues) as caught:
        may_use(ConsentState("user:a"), catalog(("v1", ())), "telepathy")
    assert [e.path for e in caught.value.errors] == ["purpose"]


def test_preferences_without_a_decision_ask_for_consent() -> None:
    prefs = preferences(ConsentState("visitor:x"), catalog(("v1", ())), MAX_AGE, NOW, gpc=False)
    assert prefs.reason == "no-decision"
    assert prefs.reconsent_required
    assert prefs.categories == {"necessary": True, "functional": False, "analytics": False, "marketing": False}


def test_preferences_expire_and_follow_policy_changes() -> None:
    cat = catalog(("v1", ()))
    decisions = banner_decisions(cat, {"functional": True, "analytics": True, "marketing": False}, False, False)
    state = decide(ConsentState("visitor:x"), decisions, "v1", NOW - timedelta(days=10))
    fresh = preferences(state, cat, MAX_AGE, NOW, gpc=False)
    assert fresh.reason == "current"
    assert fresh.expires_at == NOW - timedelta(days=10) + MAX_AGE
    assert fresh.categories["analytics"] is True
    assert preferences(state, cat, timedelta(days=5), NOW, gpc=False).reason == "expired"
    newer = catalog(("v1", ()), ("v2", ()))
    assert preferences(state, newer, MAX_AGE, NOW, gpc=False).reason == "policy-changed"


def test_gpc_turns_marketing_off_unless_explicitly_overridden() -> None:
    cat = catalog(("v1", ()))
    plain = banner_decisions(cat, {"functional": False, "analytics": False, "marketing": True}, True, False)
    assert plain["cookie.marketing"] == Decision(False, Source.GPC)
    override = banner_decisions(cat, {"functional": False, "analytics": False, "marketing": True}, True, True)
    assert override["cookie.marketing"] == Decision(True, Source.BANNER, overrides_gpc=True)
    with pytest.raises(InvalidValues):
        banner_decisions(cat, {"functional": False, "analytics": False, "marketing": True}, False, True)


def test_gpc_withdraws_an_earlier_marketing_grant_once() -> None:
    cat = catalog(("v1", ()))
    granted = banner_decisions(cat, {"functional": False, "analytics": False, "marketing": True}, False, False)
    state = decide(ConsentState("visitor:x"), granted, "v1", NOW)
    assert gpc_withdrawal(state, cat, gpc=False) is None
    withdrawal = gpc_withdrawal(state, cat, gpc=True)
    assert withdrawal == {"cookie.marketing": Decision(False, Source.GPC)}
    after = decide(state, withdrawal, "v1", NOW)
    assert gpc_withdrawal(after, cat, gpc=True) is None
    assert preferences(after, cat, MAX_AGE, NOW, gpc=True).categories["marketing"] is False


def test_explicit_opt_in_after_gpc_survives_the_signal() -> None:
    cat = catalog(("v1", ()))
    opted = banner_decisions(cat, {"functional": False, "analytics": False, "marketing": True}, True, True)
    state = decide(ConsentState("visitor:x"), opted, "v1", NOW)
    assert gpc_withdrawal(state, cat, gpc=True) is None
    prefs = preferences(state, cat, MAX_AGE, NOW, gpc=True)
    assert prefs.categories["marketing"] is True
    assert not prefs.gpc_honoured
