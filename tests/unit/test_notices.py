"""Notices and opt-outs over in-memory fakes: marketing withdrawals from every channel and the
unsubscribe group that follows the ledger, one-click links, push opt-out, the notice board and its
mailings, legal disclosures with gags, and the transparency report."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.sendgrid_email import SendGridEventSignatures
from bootstrap import Services
from core.containers import DEVICES, NOTICES, PROFILES, database_spec
from core.ports import MailRejected, MailUnavailable
from core.pseudonyms import keyed_hash
from core.settings import Settings
from functions.consent.catalog import Purpose
from functions.consent.decisions import NOBODY, event_context
from functions.consent.errors import IdempotencyKeyReused
from functions.consent.ledger import Decision, EventKind, Source
from functions.consent.linking import link_visitor_to_user
from functions.fanout.dispatch import DispatchMessage
from functions.fanout.errors import InvalidEventSignature
from functions.fanout.events import opt_out_from_message
from functions.fanout.lifecycle import DISPATCH_QUEUE, EVENTS_QUEUE
from functions.fanout.ports import OptOutEvent
from functions.inventory.subject import Subject
from functions.notices.board import Draft
from functions.notices.disclosures import DisclosureFacts
from functions.notices.errors import AlreadyNotified, InvalidUnsubscribeLink
from functions.notices.lifecycle import (
    MARKETING_PURPOSE,
    MARKETING_SYNC_QUEUE,
    PUSH_PURPOSE,
    Audience,
    Instrument,
    NoticeKind,
    Outcome,
)
from functions.notices.notice_record import MailingStatus
from functions.notices.transparency import transparency_report
from tests.fakes import (
    FakeContacts,
    FakePayments,
    FakeSuppressionGroups,
    InMemoryArchives,
    InMemoryDocumentStore,
    InMemoryWorkQueue,
    MemoryRootKey,
    MovableClock,
    RecordingBulkMailer,
    RecordingMailer,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GROUP = 4242
SEED = Path(__file__).resolve().parents[2] / "seed" / "catalog.json"


class World:
    def __init__(self, group_id: int | None = GROUP) -> None:
        self.store = InMemoryDocumentStore({c.id: c.partition_key.lstrip("/") for c in database_spec().containers})
        self.queue = InMemoryWorkQueue()
        self.bulk = RecordingBulkMailer()
        self.mailer = RecordingMailer()
        self.groups = FakeSuppressionGroups()
        self.clock = MovableClock(NOW)
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        settings = Settings(
            {
                "SUBJECT_HASH_PEPPER": "pepper",
                "SIGNING_KEYS": "k1:" + "a" * 64,
                "PUBLIC_API_URL": "https://privacy.example.com/api",
                "SENDGRID_MARKETING_GROUP_ID": "" if group_id is None else str(group_id),
                "DISCLOSURE_STAFF_EMAIL": "legal@example.com",
                "CATALOG_CACHE_SECONDS": "0",
                "NOTICES_CACHE_SECONDS": "30",
            }
        )
        self.services = Services.with_edges(
            settings,
            self.clock,
            documents=self.store,
            work_queue=self.queue,
            mailer=self.mailer,
            bulk_mailer=self.bulk,
            suppression_groups=self.groups,
            event_signatures=SendGridEventSignatures(base64.b64encode(public).decode()),
            payments=FakePayments(),
            contacts=FakeContacts(),
            archives=InMemoryArchives(),
            root_key=MemoryRootKey(),
        )
        seed = json.loads(SEED.read_text())
        for purpose in seed["purposes"]:
            self.services.catalog.publish_purpose(Purpose.from_content(purpose))
        self.services.catalog.publish_version("v1", "The policy.", (), NOW - timedelta(days=30))

    def person(self, n: int) -> tuple[str, str]:
        user_id, email = f"u{n:05d}", f"person{n:05d}@example.com"
        self.store.upsert(
            PROFILES,
            {"id": user_id, "userId": user_id, "email": email, "emailHash": keyed_hash("pepper", email)},
        )
        return user_id, email

    def decide(self, user_id: str, decisions: dict[str, bool], source: Source = Source.DASHBOARD) -> None:
        svc = self.services
        version = svc.catalog.current().require_current_version()
        context = event_context(source, version, NOBODY, self.clock.now())
        chosen = {p: Decision(granted=g, source=source) for p, g in decisions.items()}
        svc.opt_outs.before(f"user:{user_id}", decisions)
        svc.ledger.record(f"user:{user_id}", EventKind.DECISION, chosen, context, f"k-{self.clock.now()}-{user_id}")
        svc.opt_outs.after(f"user:{user_id}", decisions)
        self.clock.advance(seconds=1)

    def signed(self, events: list[dict[str, Any]]) -> tuple[bytes, str, str]:
        body = json.dumps(events).encode()
        timestamp = str(int(self.clock.now().timestamp()))
        signature = self.key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return body, base64.b64encode(signature).decode(), timestamp

    def sync(self) -> None:
        while self.queue.take(MARKETING_SYNC_QUEUE) is not None:
            self.services.marketing_sync.run()

    def marketing(self, user_id: str) -> bool | None:
        decision = self.services.ledger.load(f"user:{user_id}").state.purposes.get(MARKETING_PURPOSE)
        return None if decision is None else decision.granted

    def events(self, user_id: str) -> list[Any]:
        return self.services.ledger.history(f"user:{user_id}")[0]

    def drain(self) -> None:
        for _ in range(10_000):
            message = self.queue.take(DISPATCH_QUEUE)
            if message is None:
                return
            parsed = DispatchMessage.parse(message.body)
            assert parsed is not None
            self.services.fan_out.run(parsed, message.id)
        raise AssertionError("the dispatch never ends")

    def mailed(self) -> list[str]:
        return [r.email for request in self.bulk.requests for r in request.recipients]


# ---- marketing email: one truth, SendGrid follows


def test_a_dashboard_withdrawal_suppresses_the_address_and_a_later_grant_lifts_only_that() -> None:
    world = World()
    user, email = world.person(1)
    world.decide(user, {MARKETING_PURPOSE: True})
    world.sync()
    assert email not in world.groups.groups.get(GROUP, set())
    world.decide(user, {MARKETING_PURPOSE: False})
    world.sync()
    assert email in world.groups.groups[GROUP]
    world.decide(user, {MARKETING_PURPOSE: True})
    world.sync()
    assert email not in world.groups.groups[GROUP]
    assert world.services.marketing_sync.backlog().pending == 0


def test_sendgrid_unsubscribe_events_are_withdrawals_and_a_replay_changes_nothing() -> None:
    world = World()
    user, email = world.person(2)
    world.decide(user, {MARKETING_PURPOSE: True})
    event = OptOutEvent("sg-1", keyed_hash("pepper", email), "unsubscribe", None)
    world.services.opt_outs.opted_out([event])
    before = len(world.events(user))
    world.services.opt_outs.opted_out([event])
    world.services.opt_outs.opted_out([OptOutEvent("sg-2", keyed_hash("pepper", email), "spamreport", None)])
    assert len(world.events(user)) == before
    assert world.marketing(user) is False
    assert world.events(user)[-1].context.source == Source.SENDGRID
    world.sync()
    assert email in world.groups.groups[GROUP]


def test_a_group_unsubscribe_from_another_group_and_an_unknown_address_are_ignored() -> None:
    world = World()
    user, email = world.person(3)
    world.decide(user, {MARKETING_PURPOSE: True})
    world.services.opt_outs.opted_out(
        [
            OptOutEvent("sg-3", keyed_hash("pepper", email), "group_unsubscribe", GROUP + 1),
            OptOutEvent("sg-4", keyed_hash("pepper", "stranger@example.com"), "unsubscribe", None),
        ]
    )
    assert world.marketing(user) is True


def test_signed_webhook_opt_outs_are_queued_by_keyed_hash_and_become_withdrawals() -> None:
    world = World()
    user, email = world.person(8)
    world.decide(user, {MARKETING_PURPOSE: True})
    events: list[dict[str, Any]] = [
        {"event": "group_unsubscribe", "sg_event_id": "e1", "email": email, "asm_group_id": GROUP},
        {"event": "open", "sg_event_id": "e2", "email": email},
    ]
    accepted = world.services.delivery_events.accept(*world.signed(events))
    assert (accepted.queued, accepted.ignored) == (1, 1)
    message = world.queue.take(EVENTS_QUEUE)
    assert message is not None
    assert email not in json.dumps(message.body)
    assert message.body["optOuts"] == [["e1", keyed_hash("pepper", email), "group_unsubscribe", GROUP]]
    world.services.delivery_events.apply_opt_outs([opt_out_from_message(i) for i in message.body["optOuts"]])
    assert world.marketing(user) is False
    with pytest.raises(InvalidEventSignature):
        world.services.delivery_events.accept(json.dumps(events).encode(), "bad", "999999999999")


def test_a_resubscribe_in_sendgrid_is_undone_while_the_ledger_says_withdrawn() -> None:
    world = World()
    user, email = world.person(9)
    world.decide(user, {MARKETING_PURPOSE: False})
    world.sync()
    world.groups.groups[GROUP].discard(email)  # the person used SendGrid's preference page
    world.services.opt_outs.opted_out([OptOutEvent("sg-9", keyed_hash("pepper", email), "group_resubscribe", GROUP)])
    world.sync()
    assert email in world.groups.groups[GROUP]
    assert world.marketing(user) is False


def test_an_address_sendgrid_refuses_never_holds_back_the_others() -> None:
    world = World()
    people = [world.person(n) for n in range(60, 63)]
    for user, _ in people:
        world.decide(user, {MARKETING_PURPOSE: False})
    world.groups.fail_next.append(MailRejected())  # the chunk's request, refused for one address
    world.groups.fail_next.append(MailRejected())  # that address alone, refused again
    world.sync()
    assert len(world.groups.groups[GROUP]) == 2
    assert world.services.marketing_sync.backlog().pending == 0


def test_sendgrid_down_leaves_the_withdrawals_pending_for_the_next_run() -> None:
    world = World()
    user, email = world.person(4)
    world.decide(user, {MARKETING_PURPOSE: False})
    world.groups.fail_next.append(MailUnavailable())
    with pytest.raises(MailUnavailable):
        world.services.marketing_sync.run()
    backlog = world.services.marketing_sync.backlog()
    assert backlog.pending == 1
    assert backlog.oldest is not None
    world.services.marketing_sync.run()  # the lease was released though the run failed
    assert email in world.groups.groups[GROUP]
    assert world.services.marketing_sync.backlog().pending == 0


def test_one_sync_run_at_a_time_and_a_thousand_addresses_per_request() -> None:
    world = World()
    people = [world.person(n) for n in range(2500)]
    for user, _ in people:
        world.services.marketing_sync.mark(f"user:{user}")
    taken = world.services.marketing_sync._take_lease()
    assert taken is not None
    assert world.services.marketing_sync.run().remaining  # another run holds the lease: nothing done
    assert world.groups.requests == 0
    world.services.marketing_sync._release(taken)
    result = world.services.marketing_sync.run()
    assert (result.suppressed, result.remaining, world.groups.requests) == (2500, False, 3)


def test_a_withdrawal_made_while_a_run_holds_the_lease_is_synced_by_the_next_run_it_wakes() -> None:
    world = World()
    first, _ = world.person(7)
    second, second_email = world.person(8)
    world.decide(first, {MARKETING_PURPOSE: False})
    add = world.groups.add

    def add_while_the_second_withdraws(group_id: int, emails: list[str]) -> None:
        world.groups.add = add  # type: ignore[method-assign]
        world.decide(second, {MARKETING_PURPOSE: False})  # its queue message wakes a run...
        assert world.queue.take(MARKETING_SYNC_QUEUE) is not None
        assert world.services.marketing_sync.run().remaining  # ...that finds the lease held and leaves
        add(group_id, emails)

    world.groups.add = add_while_the_second_withdraws  # type: ignore[method-assign]
    assert world.queue.take(MARKETING_SYNC_QUEUE) is not None
    world.services.marketing_sync.run()
    assert second_email not in world.groups.groups[GROUP]
    world.sync()  # the lease holder looked again after releasing it and woke this run
    assert second_email in world.groups.groups[GROUP]
    assert world.services.marketing_sync.backlog().pending == 0


def test_without_a_marketing_group_nothing_is_synced_and_the_marks_wait() -> None:
    world = World(group_id=None)
    user, _ = world.person(5)
    world.decide(user, {MARKETING_PURPOSE: False})
    assert world.services.marketing_sync.run().remaining
    assert world.services.marketing_sync.backlog().pending == 1


# ---- one-click unsubscribe


def test_an_unsubscribe_link_withdraws_once_and_a_second_click_changes_nothing() -> None:
    world = World()
    user, _ = world.person(6)
    world.decide(user, {MARKETING_PURPOSE: True})
    links = world.services.unsubscribe_links
    url = links.url(f"user:{user}", MARKETING_PURPOSE)
    assert url.startswith("https://privacy.example.com/api/unsubscribe?token=")
    assert "@" not in url
    assert user not in url
    token = url.split("token=", 1)[1]
    _, first = links.follow(token)
    _, second = links.follow(token)
    assert (first.withdrawn, second.withdrawn) == (True, False)
    assert [e.context.source for e in world.events(user)][-1] == Source.UNSUBSCRIBE_LINK
    world.decide(user, {MARKETING_PURPOSE: True})  # subscribed again: the old link works again
    assert links.follow(token)[1].withdrawn


def test_an_altered_or_foreign_token_unsubscribes_nobody() -> None:
    world = World()
    links = world.services.unsubscribe_links
    token = links.url("user:u1", MARKETING_PURPOSE).split("token=", 1)[1]
    with pytest.raises(InvalidUnsubscribeLink):
        links.follow(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    from core.signed_tokens import seal

    foreign = seal(world.services.signing_keys, {"s": "user:u1", "p": MARKETING_PURPOSE}, "dsr-verification-link")
    with pytest.raises(InvalidUnsubscribeLink):
        links.follow(foreign)


# ---- push notifications


def test_a_push_opt_out_disables_every_device_and_invalid_tokens_are_deleted() -> None:
    world = World()
    user, _ = world.person(7)
    for n in range(2):
        world.store.upsert(DEVICES, {"id": f"d{n}", "userId": user, "pushToken": f"tok-{n}"})
    world.decide(user, {PUSH_PURPOSE: True})
    result = world.services.opt_outs.withdraw(f"user:{user}", PUSH_PURPOSE, Source.STAFF, "ticket-9", actor="agent-7")
    assert result.withdrawn
    event = world.events(user)[-1]
    assert (event.context.source, event.context.actor) == (Source.STAFF, "agent-7")
    assert result.event == event  # what its receipt is signed from
    again = world.services.opt_outs.withdraw(f"user:{user}", PUSH_PURPOSE, Source.STAFF, "ticket-9", actor="agent-7")
    assert (again.withdrawn, again.event) == (False, None)  # withdrawn already: nothing recorded, no receipt
    devices = list(world.store.query(DEVICES, user, "SELECT * FROM c WHERE c.userId = @user", {"@user": user}))
    assert len(devices) == 2
    assert all(d["pushDisabled"] for d in devices)
    assert world.services.devices.delete_invalid(user, ["tok-1", "tok-unknown"]) == 1
    assert world.services.devices.delete_invalid(user, ["tok-1"]) == 0


# ---- subjects allowed for a purpose


def test_the_allowed_export_never_holds_a_withdrawn_renewal_due_or_erased_person() -> None:
    world = World()
    kept, withdrawn, erased, renew = (world.person(n)[0] for n in range(10, 14))
    for user in (kept, withdrawn, erased, renew):
        world.decide(user, {MARKETING_PURPOSE: True})
    world.decide(withdrawn, {MARKETING_PURPOSE: False})
    world.store.delete(PROFILES, erased, erased)
    world.services.catalog.publish_version("v2", "New policy.", (MARKETING_PURPOSE,), NOW)
    world.decide(kept, {MARKETING_PURPOSE: True})  # renewed under v2
    page = world.services.allowed_subjects.page(MARKETING_PURPOSE, 100, None)
    assert [s.subject_id for s in page.subjects] == [f"user:{kept}"]
    assert page.subjects[0].email == "person00010@example.com"
    assert page.subjects[0].unsubscribe_url is not None


# ---- the notice board


def test_a_business_transfer_to_2500_people_is_three_requests_and_one_mail_each() -> None:
    world = World()
    for n in range(2500):
        world.person(n)
    draft = Draft(NoticeKind.BUSINESS_TRANSFER, "We are joining Example Corp", "Details.", Audience.EVERYONE)
    published = world.services.notice_board.publish(draft, "publisher-1")
    again = world.services.notice_board.publish(draft, "publisher-1")  # a repeated click
    assert (published.created, again.created) == (True, False)
    assert again.notice.id == published.notice.id
    world.drain()
    assert len(world.bulk.requests) == 3
    assert len(world.mailed()) == len(set(world.mailed())) == 2500
    assert all(r.transactional for r in world.bulk.requests)
    notice = world.services.notice_board.get(published.notice.id)
    assert (notice.mailing, notice.recipients) == (MailingStatus.SENT, 2500)


def test_the_active_board_is_one_point_read_then_cached() -> None:
    world = World()
    draft = Draft(NoticeKind.POLICY_CHANGE, "Our policy changed", "Summary.", Audience.EVERYONE, by_email=False)
    notice = world.services.notice_board.publish(draft, "publisher-1").notice
    board = world.services.notice_board
    world.services.active_notices.forget()  # a fresh instance
    before = world.store.requests
    assert [n.id for n in board.active()] == [notice.id]
    for _ in range(10):
        board.active()
    assert world.store.requests - before == 1


def test_a_signed_in_person_sees_a_notice_until_they_have_seen_it() -> None:
    world = World()
    user, _ = world.person(20)
    draft = Draft(NoticeKind.POLICY_CHANGE, "Our policy changed", "Summary.", Audience.EVERYONE, by_email=False)
    notice = world.services.notice_board.publish(draft, "publisher-1").notice
    assert [n.id for n in world.services.notice_board.mine(user)] == [notice.id]
    world.services.notice_board.seen(user, notice.id)
    world.services.notice_board.seen(user, notice.id)
    assert world.services.notice_board.mine(user) == []
    world.services.notice_board.retire(notice.id, "publisher-1")
    assert world.services.notice_board.active() == []


def test_a_policy_change_for_renewal_mails_only_those_whose_consent_must_be_renewed() -> None:
    world = World()
    granted, other, _never_decided = (world.person(n)[0] for n in range(30, 33))
    world.decide(granted, {MARKETING_PURPOSE: True})
    world.decide(other, {"analytics": True})
    world.services.catalog.publish_version("v2", "New policy.", (MARKETING_PURPOSE,), NOW)
    draft = Draft(
        NoticeKind.POLICY_CHANGE, "We ask again", "Summary.", Audience.RENEWAL, renew_purposes=(MARKETING_PURPOSE,)
    )
    world.services.notice_board.publish(draft, "publisher-1")
    world.drain()
    assert world.mailed() == ["person00030@example.com"]


# ---- legal disclosures


def facts(subjects: tuple[str, ...], gag_until: datetime | None = None) -> DisclosureFacts:
    return DisclosureFacts(
        authority="District Court",
        instrument=Instrument.COURT_ORDER,
        legal_basis="Case 12-345",
        categories=("personal-information",),
        subjects=subjects,
        disclosed="Account email and sign-in times.",
        disclosed_at=NOW - timedelta(days=1),
        outcome=Outcome.DISCLOSED,
        approved_by="General Counsel",
        gag_until=gag_until,
        gag_reason="Court order 12-345 forbids notice for 30 days" if gag_until else None,
    )


def test_a_gagged_disclosure_sends_nothing_until_its_end_then_exactly_one_notice_per_person() -> None:
    world = World()
    people = [world.person(n)[0] for n in range(40, 43)]
    register = world.services.disclosures
    entry, created = register.record(facts(tuple(people), gag_until=NOW + timedelta(days=30)), "legal-1")
    assert created
    assert entry.notice_id is None
    world.drain()
    assert world.bulk.requests == []
    assert world.services.notice_board.mine(people[0]) == []
    world.clock.advance(days=24)
    assert register.watch().warned == [entry.id]
    assert [m.to for m in world.mailer.sent] == ["legal@example.com"]
    assert register.watch().warned == []  # warned once
    world.clock.advance(days=7)
    assert register.watch().notified == [entry.id]
    assert register.watch().notified == []
    world.drain()
    assert sorted(world.mailed()) == [f"person000{n}@example.com" for n in (40, 41, 42)]
    assert [n.kind for n in world.services.notice_board.mine(people[0])] == [NoticeKind.DISCLOSURE]
    assert world.services.notice_board.active() == []  # never on the public board
    with pytest.raises(AlreadyNotified):
        register.change_gag(entry.id, NOW + timedelta(days=90), "extended", "legal-1")


def test_a_disclosure_without_a_gag_is_told_at_once_and_a_repeated_click_is_one_entry() -> None:
    world = World()
    user, _ = world.person(50)
    first, created = world.services.disclosures.record(facts((user,)), "legal-1", key="e-1")
    again, created_again = world.services.disclosures.record(facts((user,)), "legal-1", key="e-1")
    assert (created, created_again) == (True, False)
    assert first.id == again.id
    world.drain()
    assert world.mailed() == ["person00050@example.com"]
    assert (
        len(list(world.store.query_across_partitions(NOTICES, "SELECT * FROM c WHERE c.id != @b", {"@b": "active"})))
        == 1
    )


def test_the_transparency_report_bands_small_counts_and_leaves_out_the_running_half_year() -> None:
    world = World()
    register = world.services.disclosures
    for n in range(7):
        register.record(facts((f"u{n}",)), "legal-1")
    entries = register.all()
    older = [e.model_copy(update={"disclosed_at": datetime(2026, 3, 1, tzinfo=UTC)}) for e in entries[:6]]
    later = [entries[6].model_copy(update={"disclosed_at": datetime(2026, 4, 1, tzinfo=UTC)})]
    cells = transparency_report([*older, *later], NOW)
    assert [(c.half_year, c.count, c.band) for c in cells] == [("2026-H1", 7, None)]
    cells = transparency_report(older[:3], NOW)
    assert [(c.count, c.band) for c in cells] == [(None, "1-4")]
    assert transparency_report(entries, NOW) == []  # all in the running half-year


def test_retiring_a_notice_takes_it_off_the_board_but_its_mailing_goes_on() -> None:
    world = World()
    for n in range(1500):
        world.person(n)
    draft = Draft(NoticeKind.BUSINESS_TRANSFER, "We are joining Example Corp", "Details.", Audience.EVERYONE)
    notice = world.services.notice_board.publish(draft, "publisher-1").notice
    first = world.queue.take(DISPATCH_QUEUE)
    assert first is not None
    parsed = DispatchMessage.parse(first.body)
    assert parsed is not None
    world.services.fan_out.run(parsed, first.id)
    world.services.notice_board.retire(notice.id, "publisher-1")
    world.drain()
    assert len(set(world.mailed())) == 1500
    assert world.services.notice_board.get(notice.id).mailing == MailingStatus.SENT
    assert world.services.notice_board.active() == []


def test_the_same_notice_again_is_one_notice_unless_it_is_another_occasion() -> None:
    world = World()
    draft = Draft(NoticeKind.POLICY_CHANGE, "Our policy changed", "Summary.", Audience.EVERYONE, by_email=False)
    board = world.services.notice_board
    first = board.publish(replace(draft, occasion="policy-version:v2"), "publisher-1")
    board.retire(first.notice.id, "publisher-1")
    assert not board.publish(replace(draft, occasion="policy-version:v2"), "publisher-1").created
    later = board.publish(replace(draft, occasion="policy-version:v3"), "publisher-1")
    assert later.created
    assert [n.id for n in board.active()] == [later.notice.id]


def test_a_refused_request_is_told_as_refused_and_a_key_reused_for_other_facts_is_refused() -> None:
    world = World()
    user, _ = world.person(70)
    refused = replace(facts((user,)), outcome=Outcome.REFUSED)
    entry, _ = world.services.disclosures.record(refused, "legal-1", key="case-1")
    notice = world.services.notice_board.get(entry.notice_id or "")
    assert notice.title == "A request for your information, which we refused"
    assert "nothing was disclosed" in notice.text
    with pytest.raises(IdempotencyKeyReused):
        world.services.disclosures.record(facts((user,)), "legal-1", key="case-1")


def test_erasure_withdraws_every_purpose_on_the_user_chain_and_the_linked_visitor_chains() -> None:
    world = World()
    user, email = world.person(80)
    world.decide(user, {MARKETING_PURPOSE: True, "analytics": True})
    svc = world.services
    version = svc.catalog.current().require_current_version()
    context = event_context(Source.BANNER, version, NOBODY, world.clock.now())
    visitor = "visitor:v-80-abcdefghijklmnop"
    svc.ledger.record(visitor, EventKind.DECISION, {"cookie.analytics": Decision(True, Source.BANNER)}, context, "v1")
    link_visitor_to_user(svc.ledger, svc.catalog.current(), visitor, f"user:{user}", NOBODY, world.clock.now())
    subject = Subject("r-1", keyed_hash("pepper", email), email, user)
    location = svc.locations["consent-ledger"]
    outcome = location.erase(subject, None)
    assert outcome.counts["withdrawn"] >= 3
    for subject_id in (f"user:{user}", visitor):
        state = svc.ledger.load(subject_id).state
        assert not any(p.granted for p in state.purposes.values()), subject_id
    assert location.erase(subject, None).counts["withdrawn"] == 0  # a rerun writes nothing
