"""The retention purge over in-memory fakes of every port, with the app's own wiring: items on both sides
of every cutoff, held data, dry runs, interrupted and concurrent runs, a failing third party."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from azure.functions.timer import TimerRequest

from bootstrap import use_services
from core.containers import CONSENT_EVENTS, CONSENT_STATE
from core.errors import StillChanging
from core.models import utc_text
from core.ports import Confirmation, Versioned
from core.pseudonyms import keyed_hash
from core.settings import Settings, SettingsError
from functions.consent.decisions import Caller
from functions.consent.ledger import Decision, EventContext, EventKind, Source
from functions.consent.linking import link_visitor_to_user
from functions.inventory.kinds.sendgrid import IN_FLIGHT_FOR
from functions.inventory.locations import PurgeStep
from functions.inventory.periods import stored_cutoff
from functions.inventory.ports import ContactNotDeleted
from functions.inventory.purging import FAILURE_STREAK, MAX_TRIES, PARKED_FOR
from functions.inventory.subject import Subject
from functions.retention import blueprint
from functions.retention.config import RetentionConfig
from functions.retention.errors import RetentionRunFailed
from functions.retention.models import RuleReportView
from functions.retention.purge import RetentionRun
from functions.retention.run_records import RuleCursor, RuleReport
from functions.retention.staff import HoldTarget
from tests.retention_cases import Seeded
from tests.retention_checks import wrong
from tests.unit.retention_world import PEPPER, SETTINGS, Account, RetentionWorld, retention_world


@pytest.fixture
def world() -> RetentionWorld:
    return retention_world()


def hold_the_held_subject(world: RetentionWorld, seeded: Seeded) -> str:
    hold, _ = world.services.retention_staff.place_hold(
        HoldTarget("subject", user_id=seeded.held_user), "Litigation 2027-3", None, "dpo-1"
    )
    return hold.id


def test_only_what_is_past_its_period_goes_and_held_data_stays(world: RetentionWorld) -> None:
    seeded = world.seed()
    hold_the_held_subject(world, seeded)
    report = world.services.retention_run.run()
    assert report.outcome == "finished"
    assert wrong(world, seeded, held=True) == []
    by_rule = {r.rule: r for r in report.rules}
    assert all(r.finished and not r.errors for r in report.rules)
    gone, _ = seeded.expected(held=True)
    for rule, ids in gone.items():
        assert by_rule[rule].purged == len(ids), rule
    assert by_rule["navigation-events"].held == 1
    assert by_rule["stripe-customer"].held == 1  # the held subject's closed account
    assert by_rule["consent-ledger"].held == 1
    # Each third party was told once per item: the deletion carries the customer's own key.
    assert sorted(c for c, _ in world.payments.deletes) == sorted(seeded.customers_gone)
    assert {key for _, key in world.payments.deletes} == {f"retention-{c}" for c in seeded.customers_gone}


def test_a_second_run_finds_nothing_and_tells_no_third_party_anything(world: RetentionWorld) -> None:
    world.seed()
    world.services.retention_run.run()
    deletes, contacts = list(world.payments.deletes), list(world.contacts.deletes)
    again = world.services.retention_run.run()
    assert again.outcome == "finished"
    assert sum(r.purged for r in again.rules) == 0
    assert (world.payments.deletes, world.contacts.deletes) == (deletes, contacts)


def test_reports_hold_no_personal_data(world: RetentionWorld) -> None:
    seeded = world.seed()
    hold_the_held_subject(world, seeded)
    report = world.services.retention_run.run()
    stored = str(world.store.all("retention"))
    for secret in (seeded.held_user, seeded.held_email, *seeded.contacts_gone, *seeded.customers_gone):
        assert secret not in stored
    assert report.id in stored


def test_a_dry_run_counts_what_the_run_then_purges_and_changes_nothing(world: RetentionWorld) -> None:
    seeded = world.seed()
    hold_the_held_subject(world, seeded)
    before = {name: world.store.all(name) for name in ("navigation-events", "profiles", "consent-state")}
    dry = world.services.retention_staff.dry_run()
    assert {name: world.store.all(name) for name in before} == before
    assert world.payments.deletes == []
    assert world.contacts.deletes == []
    due = {r.rule: r for r in dry.rules}
    assert due["navigation-events"].held == 1
    assert due["orders"].oldest is not None
    assert (dry.at - due["orders"].oldest).days > 8 * 365
    report = world.services.retention_run.run()
    purged = {r.rule: r.purged for r in report.rules}
    assert {rule: r.due for rule, r in due.items()} == purged


def test_a_run_without_time_stops_before_any_rule_and_releases_its_lease() -> None:
    world = retention_world(RETENTION_TIME_BUDGET_SECONDS="0")
    seeded = world.seed()
    stopped = world.services.retention_run.run()
    assert stopped.outcome == "unfinished"
    assert stopped.rules == []
    state = world.services.retention_parts.runs.state()
    assert state.resume_at == "stripe-customer"
    assert state.lease_run_id is None  # released: the next run need not wait for it
    done = world.rewired().services.retention_run.run()
    assert done.outcome == "finished"
    assert wrong(world, seeded, held=False) == []


def test_a_budget_ending_inside_a_rule_resumes_that_rule_first_and_purges_nothing_twice(
    world: RetentionWorld,
) -> None:
    seeded = world.seed()
    services = world.services
    ticks = iter(range(10**6))

    def budget_runs_out_after_40_checks() -> float:
        return 0.0 if next(ticks) < 40 else 10.0**9

    run = RetentionRun(services.retention_parts, services.retention_follow_up, budget_runs_out_after_40_checks)
    first = run.run()
    assert first.outcome == "unfinished"
    resume_at = services.retention_parts.runs.state().resume_at
    assert resume_at not in (None, "stripe-customer")
    second = services.retention_run.run()
    assert second.outcome == "finished"
    assert second.rules[0].rule == resume_at
    assert wrong(world, seeded, held=False) == []
    gone, _ = seeded.expected(held=False)
    for rule, ids in gone.items():  # never counted twice (a cut chunk's count may be lost)
        assert sum(r.purged for r in first.rules + second.rules if r.rule == rule) <= len(ids), rule
    assert len(world.payments.deletes) == len(seeded.customers_gone) + 1  # and the subject nobody held


def test_two_runs_at_once_the_second_skips_and_a_dead_runs_lease_is_taken_over(world: RetentionWorld) -> None:
    seeded = world.seed()
    parts = world.services.retention_parts
    assert parts.runs.take_lease("a-run-in-progress", world.clock.now(), parts.config.lease) is not None
    skipped = world.services.retention_run.run()
    assert (skipped.outcome, skipped.rules) == ("skipped", [])
    assert world.payments.deletes == []
    # The other run died holding the lease: once the lease has run out, the next run takes over.
    world.clock.advance(seconds=parts.config.lease.total_seconds() + 1)
    took_over = world.services.retention_run.run()
    assert took_over.outcome == "finished"
    assert wrong(world, seeded, held=False) == []
    assert len(world.payments.deletes) == len(seeded.customers_gone) + 1  # and the subject nobody held


def test_a_run_that_lost_its_lease_stops_at_once(world: RetentionWorld) -> None:
    world.seed()
    parts = world.services.retention_parts
    location = parts.locations["navigation-events"]
    original = location.purge

    def lease_taken_meanwhile(*args: Any) -> PurgeStep:
        state = parts.runs.state()
        state.lease_run_id = "another-run"
        parts.runs.save(state, world.clock.now(), parts.config.lease)
        return original(*args)

    location.purge = lease_taken_meanwhile  # type: ignore[method-assign,assignment]
    report = world.services.retention_run.run()
    assert report.outcome == "unfinished"
    assert [r.rule for r in report.rules] == [
        "stripe-customer",
        "sendgrid-contact",
        "sendgrid-contact.closed-accounts",
        "profiles",
    ]
    assert parts.runs.state().lease_run_id == "another-run"


def test_a_failing_third_party_is_reported_alerts_and_is_retried_while_the_others_go_on(
    world: RetentionWorld,
) -> None:
    seeded = world.seed()
    working = world.payments.delete_customer

    def down(customer_id: str, idempotency_key: str) -> object:
        raise ConnectionError("stripe unreachable")

    world.payments.delete_customer = down  # type: ignore[method-assign,assignment]
    use_services(world.services)
    try:
        with pytest.raises(RetentionRunFailed, match="stripe-customer: ConnectionError"):
            blueprint.purge(TimerRequest(past_due=False))  # the timer's invocation fails: the alert's signal
    finally:
        use_services(None)
    (report,) = world.services.retention_staff.reports(5)
    assert report.outcome == "failed"
    assert report.failures == {"stripe-customer": ["ConnectionError"]}
    by_rule = {r.rule: r for r in report.rules}
    assert [f.error for f in by_rule["stripe-customer"].failed] == ["ConnectionError"] * 2  # both customers due
    assert by_rule["navigation-events"].purged == 2
    assert by_rule["orders"].purged == 1
    assert by_rule["profiles"].purged == 0  # the closed profile waits for its Stripe customer
    world.payments.delete_customer = working  # type: ignore[method-assign]
    again = world.services.retention_run.run()
    assert again.outcome == "finished"
    assert wrong(world, seeded, held=False) == []


def test_a_consent_chain_goes_whole_and_a_subject_who_comes_back_keeps_a_verifiable_proof(
    world: RetentionWorld,
) -> None:
    ledger = world.services.ledger
    subject = "visitor:returning-visitor-0001"
    old = world.clock.now() - timedelta(days=2000)

    def decide(granted: bool, at: datetime) -> None:
        context = EventContext(Source.BANNER, "2026-11", "sha256:x", at)
        decision = {"cookie.analytics": Decision(granted, Source.BANNER)}
        ledger.record(subject, EventKind.DECISION, decision, context, f"k{at.isoformat()}")

    decide(True, old)
    decide(False, old + timedelta(days=1))
    # The visitor comes back while the purge removes the chain: between retiring the state and deleting it.
    real_delete = world.store.delete

    def delete(container: str, doc_id: str, partition_key: str, etag: str | None = None) -> bool:
        if container == CONSENT_STATE and etag is not None:
            decide(True, world.clock.now())
        return real_delete(container, doc_id, partition_key, etag)

    world.store.delete = delete  # type: ignore[method-assign]
    world.services.retention_run.run()
    events, verification = ledger.history(subject)
    assert [e.seq for e in events] == [3]  # the old events are gone, the new one chains on from them
    assert verification.valid, verification.problems
    assert ledger.load(subject).state.purposes["cookie.analytics"].granted is True
    world.store.delete = real_delete  # type: ignore[method-assign]
    gone = "visitor:gone-visitor-00000001"
    subject = gone
    decide(False, old)
    world.services.retention_run.run()
    assert not [e for e in world.store.all(CONSENT_EVENTS) if e["subjectId"] == gone]
    assert not [s for s in world.store.all(CONSENT_STATE) if s["subjectId"] == gone]


def test_a_visitor_linked_to_a_user_keeps_to_its_own_clock_and_is_held_with_its_user(world: RetentionWorld) -> None:
    ledger, now = world.services.ledger, world.clock.now()
    long_ago = now - timedelta(days=1096 + 400 + 30)
    world.services.catalog.publish_version("2026-11", "policy text", (), long_ago)

    def decide(subject: str, purpose: str, granted: bool, at: datetime) -> None:
        context = EventContext(Source.BANNER, "2026-11", "sha256:x", at)
        decision = {purpose: Decision(granted, Source.BANNER)}
        ledger.record(subject, EventKind.DECISION, decision, context, f"{subject}-{at.isoformat()}")

    def linked_pair(visitor_active: bool) -> tuple[str, str]:
        user, visitor = f"user:{uuid.uuid4().hex}", f"visitor:{uuid.uuid4().hex}"
        decide(visitor, "cookie.analytics", True, long_ago)
        catalog = world.services.catalog.current()
        link_visitor_to_user(ledger, catalog, visitor, user, Caller(None, None, None), long_ago)
        decide(user, "cookie.analytics", False, long_ago)  # withdraws what the link carried over
        if visitor_active:
            decide(visitor, "cookie.analytics", True, now - timedelta(days=1))  # still browsing the website
        return user, visitor

    browsing_user, browsing_visitor = linked_pair(visitor_active=True)
    held_user, held_visitor = linked_pair(visitor_active=False)
    gone_user, gone_visitor = linked_pair(visitor_active=False)
    world.services.retention_staff.place_hold(
        HoldTarget("subject", user_id=held_user.removeprefix("user:")), "Case", None, "dpo-1"
    )
    world.services.retention_run.run()
    kept = {s["subjectId"] for s in world.store.all(CONSENT_STATE)}
    assert browsing_user not in kept  # its own proof ended three years after its last withdrawal
    assert browsing_visitor in kept  # the visitor's recent cookie decision is in force
    assert {held_user, held_visitor} <= kept
    assert not {gone_user, gone_visitor} & kept


def test_a_slow_third_party_never_lets_the_lease_lapse_under_a_chunk(world: RetentionWorld) -> None:
    accounts = world.close_accounts(40)
    parts = world.services.retention_parts
    lapsed: list[str] = []
    deleting = world.payments.delete_customer

    def ten_seconds_each(customer_id: str, idempotency_key: str) -> Confirmation:
        world.clock.advance(seconds=10)
        lease_until = parts.runs.state().lease_until
        if lease_until is None or lease_until <= world.clock.now():  # another run could take over now
            lapsed.append(customer_id)
        return deleting(customer_id, idempotency_key)

    world.payments.delete_customer = ten_seconds_each  # type: ignore[method-assign]
    # 40 calls of 10 s: inside the 480 s budget, longer than the 300 s lease.
    report = RetentionRun(parts, world.services.retention_follow_up, world.seconds).run()
    assert report.outcome == "finished", report.failures
    assert lapsed == []
    assert sorted(c for c, _ in world.payments.deletes) == sorted(a.customer for a in accounts)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"RETENTION_LEASE_SECONDS": "20"}, "RETENTION_LEASE_SECONDS must be at least 30"),
        ({"RETENTION_TIME_BUDGET_SECONDS": "-1"}, "RETENTION_TIME_BUDGET_SECONDS must not be negative"),
    ],
)
def test_a_lease_too_short_to_renew_before_it_lapses_stops_the_app(settings: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        RetentionConfig.from_settings(Settings({**SETTINGS, **settings}))
    with pytest.raises(SettingsError, match=named):
        retention_world(**settings).services.retention_parts  # noqa: B018 - building it refuses


@pytest.mark.parametrize("third_party", ["stripe", "sendgrid"])
def test_a_hold_placed_during_a_third_party_chunk_keeps_items_the_chunk_already_selected(
    world: RetentionWorld, third_party: str
) -> None:
    *others, last = world.close_accounts(10)
    fake, name = (world.payments, "delete_customer") if third_party == "stripe" else (world.contacts, "delete_contact")
    calling: Callable[..., Confirmation | None] = getattr(fake, name)
    placed: list[str] = []

    def a_hold_arrives_with_the_first_call(*args: str) -> Confirmation | None:
        if not placed:  # staff hold the last account while the chunk's first call is under way
            hold, _ = world.services.retention_staff.place_hold(
                HoldTarget("subject", email=last.email), "Claim 2027-9", None, "dpo-1"
            )
            placed.append(hold.id)
            world.clock.advance(seconds=6)  # the call takes longer than holds stay fresh
        return calling(*args)

    setattr(fake, name, a_hold_arrives_with_the_first_call)
    report = RetentionRun(world.services.retention_parts, world.services.retention_follow_up, world.seconds).run()
    assert report.outcome == "finished", report.failures
    assert world.contact_exists(last.email)  # its rule comes after Stripe's: the hold is read when it starts
    assert world.customer_exists(last.customer) == (third_party == "stripe")
    assert world.store.read("profiles", last.user, last.user) is not None
    assert not any(world.customer_exists(a.customer) or world.contact_exists(a.email) for a in others)
    rule = "stripe-customer" if third_party == "stripe" else "sendgrid-contact.closed-accounts"
    assert {r.rule: r.held for r in report.rules}[rule] == 1


class Refused(Exception):
    """What Stripe answers for one customer, every time (an open invoice, say)."""


def test_a_customer_stripe_always_refuses_is_reported_and_never_holds_the_others_up(world: RetentionWorld) -> None:
    (refused,) = world.close_accounts(1, closed_days_ago=60)  # the oldest: every run's selection starts with it
    others = world.close_accounts(4)
    deleting, calls = world.payments.delete_customer, []

    def refuses_one(customer_id: str, idempotency_key: str) -> Confirmation:
        calls.append(customer_id)
        if customer_id == refused.customer:
            raise Refused()
        return deleting(customer_id, idempotency_key)

    world.payments.delete_customer = refuses_one  # type: ignore[method-assign]

    def run_next_day() -> RuleReport:
        world.clock.advance(days=1)
        report = world.services.retention_run.run()
        return {r.rule: r for r in report.rules}["stripe-customer"]

    first = run_next_day()
    assert not any(world.customer_exists(a.customer) for a in others)  # the others went
    assert not any(world.store.read("profiles", a.user, a.user) for a in others)  # and their profiles after them
    assert world.customer_exists(refused.customer)
    assert world.store.read("profiles", refused.user, refused.user) is not None  # waits for its customer
    assert first.errors == ["Refused"]
    assert first.failing == 1
    (failed,) = first.failed
    assert (failed.error, failed.tries, failed.parked) == ("Refused", 1, False)
    stored = str(world.store.all("retention"))
    assert failed.item in stored
    assert not any(secret in stored for secret in (refused.user, refused.email, refused.customer))
    shown = RuleReportView.model_validate(first).model_dump(by_alias=True)  # what staff read
    assert (shown["failing"], [f["item"] for f in shown["failed"]]) == (1, [failed.item])
    # Tried again by each later run, MAX_TRIES in all, then only once a week.
    tries = [failed.tries] + [run_next_day().failed[0].tries for _ in range(MAX_TRIES - 1)]
    assert tries == list(range(1, MAX_TRIES + 1))
    assert calls.count(refused.customer) == MAX_TRIES
    resting = run_next_day()
    assert (resting.failed, resting.errors, resting.failing) == ([], [], 1)
    assert calls.count(refused.customer) == MAX_TRIES
    # Stripe accepts it at last (the invoice was settled): the week's try deletes it.
    world.payments.delete_customer = deleting  # type: ignore[method-assign]
    world.clock.advance(days=6)
    settled = run_next_day()
    assert (settled.purged, settled.failing) == (1, 0)
    assert not world.customer_exists(refused.customer)


def test_a_third_party_failing_for_one_item_after_another_stops_its_rule_until_the_next_run(
    world: RetentionWorld,
) -> None:
    world.close_accounts(20)
    calls = []

    def down(customer_id: str, idempotency_key: str) -> Confirmation:
        calls.append(customer_id)
        raise ConnectionError("stripe unreachable")

    world.payments.delete_customer = down  # type: ignore[method-assign]
    report = world.services.retention_run.run()
    stripe = {r.rule: r for r in report.rules}["stripe-customer"]
    assert len(calls) == FAILURE_STREAK  # not one call for each of the 20
    assert (stripe.finished, stripe.errors) == (False, ["ConnectionError"])
    assert report.outcome == "failed"


# ---- the marketing contact at SendGrid ------------------------------------------------------------


class Crash(BaseException):
    """The host dies (SIGKILL) right after a call: nothing after it runs, the lease is still held."""


def deletions_of(world: RetentionWorld, *accounts: Account) -> list[int]:
    """How many deletion calls SendGrid had for each account's contact."""
    return [world.contacts.deletes.count(world.contact_ids[a.email]) for a in accounts]


def test_a_contact_two_rules_want_gone_is_deleted_once_while_sendgrid_still_shows_it(world: RetentionWorld) -> None:
    both = world.account(closed_days_ago=40, withdrew_days_ago=40)  # withdrew, then closed the account
    report = world.services.retention_run.run()
    assert report.outcome == "finished", report.failures
    assert deletions_of(world, both) == [1]  # the withdrawal's rule; the closed account's finds it asked
    assert world.store.read("profiles", both.user, both.user) is None  # and the profile goes after it
    assert not world.contact_exists(both.email)


def test_an_erasure_after_retention_deleted_the_contact_asks_sendgrid_for_no_second_deletion(
    world: RetentionWorld,
) -> None:
    account = world.account(withdrew_days_ago=40)
    world.contacts.asynchronous = True  # as at SendGrid: the contact is found until the job ends
    assert world.services.retention_run.run().outcome == "finished"
    assert deletions_of(world, account) == [1]
    subject = Subject("dsr-1", keyed_hash(PEPPER, account.email), account.email, account.user)
    outcome = world.services.locations["sendgrid-contact"].erase(subject, None)
    assert deletions_of(world, account) == [1]  # retention's job, still under way, stands for the erasure's
    job = "job-" + world.contact_ids[account.email]
    assert outcome.counts == {"contactsDeleted": 1, "suppressed": 1}
    assert outcome.confirmations[0] == {"system": "sendgrid", "action": "contact.deleted", "reference": job}
    assert account.email in world.contacts.suppressed
    world.contacts.settle()
    world.clock.advance(days=2)  # long after: a contact made again since is deleted by the next erasure
    world.new_contact(account.email)
    world.services.locations["sendgrid-contact"].erase(subject, None)
    assert world.contacts.deletes.count(world.contact_ids[account.email]) == 1


@pytest.mark.parametrize("rule", ["sendgrid-contact", "sendgrid-contact.closed-accounts"])
def test_a_deletion_marked_by_a_run_that_died_before_its_call_is_asked_for_once_its_time_in_flight_is_over(
    world: RetentionWorld, rule: str
) -> None:
    account = world.account(withdrew_days_ago=40) if rule == "sendgrid-contact" else world.close_accounts(1)[0]
    profile = world.store.read("profiles", account.user, account.user)
    assert profile is not None
    mark = {"askedAt": utc_text(world.clock.now()), "emailHash": profile.body["emailHash"]}  # then the host died
    world.store.upsert("profiles", {**profile.body, "contactDeletion": mark})
    assert world.services.retention_run.run().outcome == "finished"
    assert deletions_of(world, account) == [0]  # in flight: SendGrid may be at it
    world.clock.advance(hours=IN_FLIGHT_FOR.total_seconds() / 3600 + 1)
    assert world.services.retention_run.run().outcome == "finished"
    assert deletions_of(world, account) == [1]
    assert not world.contact_exists(account.email)


@pytest.mark.parametrize("mark", ["never-confirmed", "found-no-contact"])
def test_an_erasure_does_not_rely_on_a_deletion_that_sendgrid_never_confirmed_with_a_job(
    world: RetentionWorld, mark: str
) -> None:
    account = world.account()
    profile = world.store.read("profiles", account.user, account.user)
    assert profile is not None
    asked = utc_text(world.clock.now() - timedelta(hours=1))
    # A retention run that died before SendGrid answered, or whose call found no contact then.
    deletion = {"askedAt": asked, "emailHash": profile.body["emailHash"]}
    if mark == "found-no-contact":
        deletion |= {"doneAt": asked, "jobId": None}
    world.store.upsert("profiles", {**profile.body, "contactDeletion": deletion})
    subject = Subject("dsr-2", keyed_hash(PEPPER, account.email), account.email, account.user)
    outcome = world.services.locations["sendgrid-contact"].erase(subject, None)
    assert deletions_of(world, account) == [1]
    assert not world.contact_exists(account.email)
    assert outcome.counts == {"contactsDeleted": 1, "suppressed": 1}


@pytest.mark.parametrize("rule", ["sendgrid-contact", "sendgrid-contact.closed-accounts"])
def test_a_run_that_dies_right_after_a_deletion_is_taken_over_without_a_second_one(
    world: RetentionWorld, rule: str
) -> None:
    if rule == "sendgrid-contact":
        accounts = [world.account(withdrew_days_ago=40) for _ in range(3)]
    else:
        accounts = world.close_accounts(3)
    deleting = world.contacts.delete_contact

    def dies_after_the_second(email: str) -> Confirmation | None:
        confirmation = deleting(email)
        if email == accounts[1].email:
            raise Crash()
        return confirmation

    world.contacts.delete_contact = dies_after_the_second  # type: ignore[method-assign]
    with pytest.raises(Crash):
        world.services.retention_run.run()
    world.contacts.delete_contact = deleting  # type: ignore[method-assign]
    world.clock.advance(seconds=world.services.retention_parts.config.lease.total_seconds() + 1)
    took_over = world.services.retention_run.run()  # walks again what the dead run was walking
    assert took_over.outcome == "finished", took_over.failures
    assert deletions_of(world, *accounts) == [1, 1, 1]
    # The dead run's deletion was never confirmed: it is looked at again once it had time to end.
    world.contacts.settle()
    world.clock.advance(days=1)
    assert world.services.retention_run.run().outcome == "finished"
    assert deletions_of(world, *accounts) == [1, 1, 1]  # all gone at SendGrid, none asked for again
    assert not any(world.contact_exists(a.email) for a in accounts)
    if rule != "sendgrid-contact":  # closed: the profiles waited for their contacts, then went
        assert not any(world.store.read("profiles", a.user, a.user) for a in accounts)


@pytest.mark.parametrize("withdrew_again_days_ago", [None, 5])
def test_someone_who_grants_marketing_again_while_held_keeps_their_contact_when_the_hold_ends(
    world: RetentionWorld, withdrew_again_days_ago: int | None
) -> None:
    person = world.account(withdrew_days_ago=40)
    hold, _ = world.services.retention_staff.place_hold(
        HoldTarget("subject", user_id=person.user), "Claim 2027-4", None, "dpo-1"
    )
    world.services.retention_run.run()
    assert world.contact_exists(person.email)  # held
    world.clock.advance(days=10)
    world.decide_marketing(person, granted=True)  # grants marketing email again while held
    if withdrew_again_days_ago is not None:  # and withdraws lately: its month has not passed
        world.clock.advance(days=25 - withdrew_again_days_ago)
        world.decide_marketing(person, granted=False)
        world.clock.advance(days=withdrew_again_days_ago)
    world.services.retention_staff.release_hold(hold.id, "dpo-1", "Settled")
    report = world.services.retention_run.run()
    assert report.outcome == "finished", report.failures
    assert world.contact_exists(person.email)
    assert world.contacts.deletes == []


def test_a_held_withdrawal_is_remembered_without_any_id_in_the_purges_own_records(world: RetentionWorld) -> None:
    person = world.account(withdrew_days_ago=40)
    hold, _ = world.services.retention_staff.place_hold(
        HoldTarget("subject", email=person.email), "Claim 2027-5", None, "dpo-1"
    )
    first = world.services.retention_run.run()
    assert {r.rule: r.held for r in first.rules}["sendgrid-contact"] == 1
    stored = str(world.store.all("retention"))
    assert person.user not in stored
    assert person.email not in stored
    world.clock.advance(days=3)
    world.services.retention_run.run()  # later windows have moved on
    world.services.retention_staff.release_hold(hold.id, "dpo-1", "Settled")
    world.services.retention_run.run()
    assert deletions_of(world, person) == [1]  # remembered, and purged once the hold ended


@pytest.mark.parametrize(
    ("failure", "retried_after_days"),
    [
        (ContactNotDeleted(), 0),  # SendGrid answered an error: nothing changed, the next run tries again
        (TimeoutError(), 1),  # no answer: SendGrid may be deleting it; asked again once that had time to end
    ],
)
def test_sendgrid_failing_mid_run_is_reported_and_retried_while_every_other_location_is_purged(
    world: RetentionWorld, failure: Exception, retried_after_days: int
) -> None:
    seeded = world.seed()
    failing, fine = world.account(withdrew_days_ago=40), world.account(withdrew_days_ago=40)
    deleting = world.contacts.delete_contact

    def fails_for_one(email: str) -> Confirmation | None:
        if email == failing.email:
            raise failure
        return deleting(email)

    world.contacts.delete_contact = fails_for_one  # type: ignore[method-assign]
    report = world.services.retention_run.run()
    assert report.outcome == "failed"
    assert report.failures == {"sendgrid-contact": [type(failure).__name__]}
    (failed,) = {r.rule: r for r in report.rules}["sendgrid-contact"].failed
    assert failed.error == type(failure).__name__
    assert world.contact_exists(failing.email)
    assert not world.contact_exists(fine.email)
    assert wrong(world, seeded, held=False) == []  # every other location, SendGrid's other contacts too
    world.contacts.delete_contact = deleting  # type: ignore[method-assign]
    world.clock.advance(hours=1)
    soon = world.services.retention_run.run()
    assert world.contact_exists(failing.email) == (retried_after_days > 0)
    world.clock.advance(days=retried_after_days)
    later = world.services.retention_run.run()
    assert (soon.outcome, later.outcome) == ("finished", "finished")
    assert not world.contact_exists(failing.email)
    assert deletions_of(world, failing) == [1]


@pytest.mark.parametrize("failing_runs", [1, MAX_TRIES + 1])
def test_a_withdrawal_that_failed_and_could_not_even_be_noted_is_walked_again_by_the_next_run(
    world: RetentionWorld, failing_runs: int
) -> None:
    failing, fine = world.account(withdrew_days_ago=40), world.account(withdrew_days_ago=40)
    ledger, loading, replacing = world.services.ledger, world.services.ledger.load, world.store.replace

    def load(subject_id: str, *args: Any, **kwargs: Any) -> Any:
        if subject_id == f"user:{failing.user}":
            raise StillChanging()  # the store answers nothing for this one: its consent cannot be read
        return loading(subject_id, *args, **kwargs)

    def replace_profile(container: str, body: dict[str, Any], etag: str) -> Versioned:
        if container == "profiles" and body.get("userId") == failing.user:
            raise StillChanging()  # nor can it be noted on the profile to be looked at again
        return replacing(container, body, etag)

    ledger.load = load  # type: ignore[method-assign]
    world.store.replace = replace_profile  # type: ignore[method-assign]
    reports = []
    for _ in range(failing_runs):  # past MAX_TRIES the item is parked: tried again only after PARKED_FOR
        reports.append(world.services.retention_run.run())
        world.clock.advance(days=1)
    assert reports[0].failures == {"sendgrid-contact": ["StillChanging"]}
    assert (world.contact_exists(failing.email), world.contact_exists(fine.email)) == (True, False)
    ledger.load = loading  # type: ignore[method-assign]
    world.store.replace = replacing  # type: ignore[method-assign]
    if failing_runs > MAX_TRIES:
        world.clock.advance(days=PARKED_FOR.days)
    assert world.services.retention_run.run().outcome == "finished"
    assert not world.contact_exists(failing.email)  # its window was walked once more
    assert deletions_of(world, failing, fine) == [1, 1]


def test_a_cursor_that_still_lists_held_people_by_user_id_hands_them_over_to_their_profiles(
    world: RetentionWorld,
) -> None:
    person = world.account(withdrew_days_ago=40)
    parts = world.services.retention_parts
    state = parts.runs.state()
    passed = stored_cutoff(world.clock.now() - timedelta(days=30))  # its window has passed: only the list has it
    state.cursors["sendgrid-contact"] = RuleCursor(bookmark={"since": passed, "deferred": [f"user:{person.user}"]})
    parts.runs.release(parts.runs.save(state, world.clock.now(), parts.config.lease))
    assert world.services.retention_run.run().outcome == "finished"
    assert deletions_of(world, person) == [1]
    assert "deferred" not in parts.runs.state().cursors["sendgrid-contact"].bookmark
    assert person.user not in str(world.store.all("retention"))
