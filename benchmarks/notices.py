"""``python -m benchmarks.notices``: marketing withdrawals synced to SendGrid, and the notice board.

(g) 100,000 marketing withdrawals synced to the unsubscribe group of the local mail server: the
    SendGrid requests made (one per 1,000 addresses), the whole time, the Cosmos DB requests per
    withdrawal, and each chunk through the app beside the bare SendGrid SDK adding the same 1,000
    addresses to the group (interleaved, chunk by chunk).
(h) ``GET /api/notices/active``: Cosmos DB requests per call with the instance cache, and a cold
    read of the board beside a bare point read of it (interleaved).
"""

from __future__ import annotations

import tempfile
import time
import uuid
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sendgrid import SendGridAPIClient

from benchmarks.interleave import interleaved, ratio_of
from bootstrap import Services
from core.containers import CONSENT_STATE, MARKETING_SYNC, NOTICES, PROFILES, database_spec
from core.pseudonyms import keyed_hash
from core.settings import Settings
from devstack.instrumented import counted_services
from devstack.services import SENDGRID_LOCAL_KEY, StackPorts
from devstack.stack import LocalStack
from functions.consent.ledger import ConsentState, PurposeState, Source
from functions.notices.board import Draft
from functions.notices.lifecycle import MARKETING_PURPOSE, Audience, NoticeKind
from functions.notices.marketing_sync import CHUNK

WITHDRAWALS = 100_000
BOARD_CALLS = 1_000
WRITERS = 8  # concurrent seeding writes: the stand-in serves them one by one, the client waits less


class NoQueue:
    """The sync's wake-up messages are not the subject here."""

    def send(self, queue: str, message: Mapping[str, Any], delay: timedelta | None = None) -> None:
        return None

    def peek_poison(self, queue: str, limit: int) -> list[dict[str, Any]]:
        return []

    def ping(self) -> None:
        return None


def _seed(svc: Services, count: int) -> None:
    """Users who withdrew marketing email, each with a profile and a pending mark, written directly."""
    pepper = svc.settings.get("SUBJECT_HASH_PEPPER")
    now = datetime.now(UTC)
    withdrawn = PurposeState(False, Source.DASHBOARD, "v1", now, 1)

    def one(n: int) -> None:
        user_id, email = f"bench-{n:06d}", f"bench-{n:06d}@example.com"
        svc.documents.upsert(
            PROFILES, {"id": user_id, "userId": user_id, "email": email, "emailHash": keyed_hash(pepper, email)}
        )
        state = ConsentState(subject_id=f"user:{user_id}", seq=1, purposes={MARKETING_PURPOSE: withdrawn})
        svc.documents.upsert(CONSENT_STATE, state.to_document())
        svc.documents.create(
            MARKETING_SYNC, {"id": str(uuid.uuid4()), "subjectId": f"user:{user_id}", "at": now.isoformat()}
        )

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(one, range(count)))


def _sync(svc: Services, groups: CountedGroups, counter: Any, bare: SendGridAPIClient, group_id: int) -> list[str]:
    sync = svc.marketing_sync
    lease = sync._take_lease()
    assert lease is not None
    pairs: list[tuple[float, float]] = []
    requests_before = groups.requests
    counter.reset()
    started = time.perf_counter()
    chunks = 0
    while True:
        chunk_start = time.perf_counter()
        done = sync._chunk(group_id)
        app = time.perf_counter() - chunk_start
        chunks += 1
        addresses = [f"bare-{chunks:04d}-{n:04d}@example.com" for n in range(CHUNK)]
        chunk_start = time.perf_counter()
        bare.client.asm.groups._(str(group_id)).suppressions.post(request_body={"recipient_emails": addresses})
        pairs.append((app, time.perf_counter() - chunk_start))
        if not done.remaining:
            break
    whole = time.perf_counter() - started - sum(b for _, b in pairs)
    sync._release(lease)
    sendgrid = groups.requests - requests_before
    ratio = ratio_of(pairs)
    return [
        f"    {WITHDRAWALS} withdrawals: {sendgrid} SendGrid requests, {whole:.1f} s in all, "
        f"{counter.document_requests / WITHDRAWALS:.3f} Cosmos DB requests per withdrawal",
        f"    per chunk of {CHUNK}: sync {ratio.a_seconds * 1000:.0f} ms beside the bare SDK's group add "
        f"{ratio.b_seconds * 1000:.0f} ms, {len(pairs)} interleaved pairs: {ratio.text()}",
    ]


def _board(svc: Services, counter: Any, bare_container: Any) -> list[str]:
    draft = Draft(NoticeKind.POLICY_CHANGE, "Our policy changed", "Summary.", Audience.EVERYONE, by_email=False)
    svc.notice_board.publish(draft, "bench")
    board = svc.active_notices
    board.forget()
    counter.reset()
    for _ in range(BOARD_CALLS):
        board.active()
    cached = counter.document_requests / BOARD_CALLS

    def cold() -> None:
        board.forget()
        board.active()

    ratio = interleaved(cold, lambda: bare_container.read_item("active", partition_key="active"), 200)
    return [
        f"    {BOARD_CALLS} calls on one instance: {cached:.3f} Cosmos DB requests per call (goal 0 or 1)",
        f"    a cold call (one point read) beside a bare point read: {ratio.a_seconds * 1000:.2f} ms vs "
        f"{ratio.b_seconds * 1000:.2f} ms, {ratio.text()}",
    ]


class CountedGroups:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.requests = 0

    def add(self, group_id: int, emails: list[str]) -> None:
        self.requests += 1
        self._inner.add(group_id, emails)

    def remove(self, group_id: int, email: str) -> None:
        self.requests += 1
        self._inner.remove(group_id, email)


def main() -> None:
    warnings.simplefilter("ignore")
    from adapters.sendgrid_email import SendGridSuppressionGroups

    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackPorts.free(), Path(state), persistent=False, settings_file=None)
        stack.start_backends()
        try:
            settings = Settings(stack.app_settings())
            counted, counter, client = counted_services(settings)
            groups = CountedGroups(SendGridSuppressionGroups.from_settings(settings))
            svc = Services.with_edges(
                settings, documents=counted.documents, work_queue=NoQueue(), suppression_groups=groups
            )
            group_id = svc.marketing_group_id
            assert group_id is not None, "the local stack makes the marketing group"
            bare = SendGridAPIClient(api_key=SENDGRID_LOCAL_KEY, host=stack.mail_url)
            seeding = time.perf_counter()
            _seed(svc, WITHDRAWALS)
            print(f"(seeded {WITHDRAWALS} withdrawals in {time.perf_counter() - seeding:.0f} s)")
            synced = _sync(svc, groups, counter, bare, group_id)
            database = client.get_database_client(database_spec().database)
            board = _board(svc, counter, database.get_container_client(NOTICES))
        finally:
            stack.stop()
    print("(g) marketing withdrawals synced to SendGrid's unsubscribe group, in-process against the local stack")
    print("\n".join(synced))
    print("(h) GET /api/notices/active")
    print("\n".join(board))


if __name__ == "__main__":
    main()
