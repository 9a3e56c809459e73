"""``python -m benchmarks.requests``: export and erasure of one subject, at 1,000 and 10,000 items.

Prints time, peak traced memory (it must not grow with the item count: both run as streams) and
Cosmos requests per item, for each size side by side in one run, against the local stack.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
import tracemalloc
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import stripe
from azure.cosmos import CosmosClient

from adapters.cosmos import RequestCounter
from benchmarks.interleave import Ratio, ratio_of
from bootstrap import Services
from core.containers import database_spec
from core.settings import Settings
from devstack.demo_data import DemoPerson, seed_person
from devstack.instrumented import counted_services
from devstack.services import STRIPE_LOCAL_KEY, StackPorts
from devstack.stack import LocalStack
from functions.requests.dispatch import StepMessage
from functions.requests.intake import Intake
from functions.requests.lifecycle import DASHBOARD, DELIVER_STEP, EXPORT_MESSAGE, RESOLVE_STEP, RequestType, Status
from functions.requests.worker import StepWorker

SIZES = (1_000, 10_000, 20_000)
ROUNDS = 3  # interleaved erasure / bare-SDK pairs per size
SHARE = {"navigation": 0.7, "language": 0.2, "devices": 0.05, "orders": 0.05}


def _measure(action: Callable[[], None], counter: RequestCounter, traced: bool) -> tuple[float, float, int]:
    """Seconds and Cosmos requests of an untraced run, or peak traced MiB of a traced one
    (tracing slows Python several times over, so time and memory come from separate runs)."""
    counter.reset()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    peak = 0.0
    if traced:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return elapsed, peak, counter.document_requests


def _bare_sdk_delete(client: CosmosClient, n: int) -> Callable[[], None]:
    """The plain SDK deleting n items one by one on the same collection: the floor an erasure stands on.
    Seeded now, deleted when called, so only the deletes are timed."""
    container = client.get_database_client(database_spec().database).get_container_client("navigation-events")
    user = f"bare-{uuid.uuid4().hex}"
    for i in range(n):
        container.create_item({"id": f"bare-{i}", "userId": user})

    def delete_all() -> None:
        for i in range(n):
            container.delete_item(f"bare-{i}", partition_key=user)

    return delete_all


def _run_all(worker: StepWorker, request_id: str, run: int, steps: list[str]) -> None:
    for step in steps:
        worker.run(StepMessage(request_id, step, run), f"bench-{request_id}-{step}", final_attempt=False)


def _subject(svc: Services, stripe_client: stripe.StripeClient, size: int) -> tuple[str, int]:
    person = DemoPerson(f"bench-{uuid.uuid4().hex[:8]}@example.com", "Bea Bench")
    counts = {k: int(size * v) for k, v in SHARE.items()}
    pepper = svc.settings.get("SUBJECT_HASH_PEPPER")
    seeded = seed_person(svc.documents, pepper, person, stripe_client=stripe_client, **counts)
    return seeded.user_id, sum(seeded.counts.values())


def _request(svc: Services, user_id: str, kind: RequestType) -> tuple[str, int, list[str]]:
    email = svc.profiles.email_of(user_id) or ""
    request = svc.request_intake.submit(Intake(kind, email, "GDPR", False, DASHBOARD, user_id=user_id))
    steps = (
        [RESOLVE_STEP, EXPORT_MESSAGE, DELIVER_STEP] if kind == RequestType.ACCESS else [s.name for s in request.steps]
    )
    return request.id, request.run, steps


@dataclass
class SizeFigures:
    items: int
    export: tuple[float, float, int]  # seconds, peak MiB, Cosmos requests
    erase: tuple[float, float, int]
    versus_bare: Ratio  # erasure time per item beside the bare SDK's delete per item


def _figures(
    svc: Services, counter: RequestCounter, client: CosmosClient, stripe_client: stripe.StripeClient, size: int
) -> SizeFigures:
    user_id, items = _subject(svc, stripe_client, size)
    request_id, run, steps = _request(svc, user_id, RequestType.ACCESS)
    export = _measure(partial(_run_all, svc.request_worker, request_id, run, steps), counter, traced=False)
    request_id, run, steps = _request(svc, user_id, RequestType.ERASURE)
    erase = _measure(partial(_run_all, svc.request_worker, request_id, run, steps), counter, traced=False)
    assert svc.request_staff.get(request_id).status == Status.COMPLETED
    # Peak memory from separate, traced runs (tracing slows Python several times over).
    user_id, _ = _subject(svc, stripe_client, size)
    request_id, run, steps = _request(svc, user_id, RequestType.ACCESS)
    export_peak = _measure(partial(_run_all, svc.request_worker, request_id, run, steps), counter, traced=True)[1]
    request_id, run, steps = _request(svc, user_id, RequestType.ERASURE)
    erase_peak = _measure(partial(_run_all, svc.request_worker, request_id, run, steps), counter, traced=True)[1]
    # Erasure beside the bare SDK, interleaved: erase a fresh subject, then the bare SDK deletes as many items.
    pairs = []
    for _ in range(ROUNDS):
        user_id, round_items = _subject(svc, stripe_client, size)
        request_id, run, steps = _request(svc, user_id, RequestType.ERASURE)
        bare = _bare_sdk_delete(client, round_items)
        erase_seconds = _measure(partial(_run_all, svc.request_worker, request_id, run, steps), counter, False)[0]
        bare_seconds = _measure(bare, counter, traced=False)[0]
        pairs.append((erase_seconds / round_items, bare_seconds / round_items))
    return SizeFigures(items, (export[0], export_peak, export[2]), (erase[0], erase_peak, erase[2]), ratio_of(pairs))


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackPorts.free(), Path(state), persistent=False, settings_file=None)
        stack.start_backends()
        try:
            settings = Settings({**stack.app_settings(), "DSR_ERASURE_NEEDS_APPROVAL": "false"})
            svc, counter, client = counted_services(settings)
            stripe_client = stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": stack.stripe_url})
            rows = [_figures(svc, counter, client, stripe_client, size) for size in SIZES]
        finally:
            stack.stop()

    print("(d) data-subject requests for one subject, in-process against the local stack")
    print("    items   export s  export MiB  Cosmos req/item   erase s  erase MiB  Cosmos req/item")
    for row in rows:
        (ex_s, ex_mb, ex_req), (er_s, er_mb, er_req) = row.export, row.erase
        print(
            f"    {row.items:6d}  {ex_s:8.2f}  {ex_mb:10.1f}  {ex_req / row.items:15.2f}  {er_s:8.2f}  {er_mb:9.1f}"
            f"  {er_req / row.items:15.2f}"
        )
    for small, large in itertools.pairwise(rows):
        print(
            f"    peak memory ratio {large.items}/{small.items} items: export {large.export[1] / small.export[1]:.2f}, "
            f"erasure {large.erase[1] / small.erase[1]:.2f}  (the data grew {large.items / small.items:.0f}x; memory "
            "is bounded by one query page and one 4 MiB upload block, so it stops growing once those are full)"
        )
    for row in rows:
        bare = row.versus_bare
        print(
            f"    {row.items} items: erasure {bare.a_seconds * 1000:.2f} ms/item beside a bare SDK delete of "
            f"{bare.b_seconds * 1000:.2f} ms/item, {ROUNDS} interleaved pairs: {bare.text()}"
        )
    print(
        f"    throughput: export {statistics.mean([r.items / r.export[0] for r in rows]):.0f} items/s, "
        f"erasure {statistics.mean([r.items / r.erase[0] for r in rows]):.0f} items/s"
    )


if __name__ == "__main__":
    main()
