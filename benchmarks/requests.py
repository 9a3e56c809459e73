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
from functools import partial
from pathlib import Path

import stripe
from azure.cosmos import CosmosClient

from adapters.cosmos import RequestCounter
from bootstrap import Services
from core.containers import database_spec
from core.settings import Settings
from devstack.demo_data import DemoPerson, seed_person
from devstack.instrumented import counted_services
from devstack.services import STRIPE_LOCAL_KEY, StackPorts
from devstack.stack import LocalStack
from functions.requests.dispatch import StepMessage
from functions.requests.intake import DASHBOARD, Intake
from functions.requests.request_record import DELIVER_STEP, EXPORT_MESSAGE, RESOLVE_STEP, RequestType, Status
from functions.requests.worker import StepWorker

SIZES = (1_000, 10_000, 20_000)
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


def _bare_sdk_delete_seconds(client: CosmosClient, n: int) -> float:
    """Per-item time of the plain SDK deleting n items one by one: the floor an erasure stands on."""
    container = client.get_database_client(database_spec().database).get_container_client("navigation-events")
    user = f"bare-{uuid.uuid4().hex}"
    for i in range(n):
        container.create_item({"id": f"bare-{i}", "userId": user})
    start = time.perf_counter()
    for i in range(n):
        container.delete_item(f"bare-{i}", partition_key=user)
    return (time.perf_counter() - start) / n


def _run_all(worker: StepWorker, request_id: str, run: int, steps: list[str]) -> None:
    for step in steps:
        worker.run(StepMessage(request_id, step, run), f"bench-{request_id}-{step}", final_attempt=False)


Figures = tuple[float, float, int]


def _one_subject(
    svc: Services, counter: RequestCounter, client: CosmosClient, stripe_client: stripe.StripeClient, size: int,
    traced: bool,
) -> tuple[int, Figures, Figures, float]:  # fmt: skip
    settings = svc.settings
    person = DemoPerson(f"bench-{uuid.uuid4().hex[:8]}@example.com", "Bea Bench")
    counts = {k: int(size * v) for k, v in SHARE.items()}
    seeded = seed_person(svc.documents, settings.get("SUBJECT_HASH_PEPPER"), person,
                         stripe_client=stripe_client, **counts)  # fmt: skip
    items = sum(seeded.counts.values())
    intake = svc.request_intake
    access = intake.submit(Intake(RequestType.ACCESS, person.email, "GDPR", False, DASHBOARD, user_id=seeded.user_id))
    access_steps = [RESOLVE_STEP, EXPORT_MESSAGE, DELIVER_STEP]
    export = _measure(partial(_run_all, svc.request_worker, access.id, access.run, access_steps), counter, traced)
    erasure = intake.submit(Intake(RequestType.ERASURE, person.email, "GDPR", False, DASHBOARD, user_id=seeded.user_id))
    # The bare SDK deleting items beside the subject's: same collection size, same server.
    bare_delete = _bare_sdk_delete_seconds(client, 500)
    erasure_steps = [s.name for s in erasure.steps]
    erase = _measure(partial(_run_all, svc.request_worker, erasure.id, erasure.run, erasure_steps), counter, traced)
    assert svc.request_staff.get(erasure.id).status == Status.COMPLETED
    return items, export, erase, bare_delete


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackPorts.free(), Path(state), persistent=False, settings_file=None)
        stack.start_backends()
        try:
            settings = Settings({**stack.app_settings(), "DSR_ERASURE_NEEDS_APPROVAL": "false"})
            svc, counter, client = counted_services(settings)
            stripe_client = stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": stack.stripe_url})
            rows = []
            for size in SIZES:
                timed = _one_subject(svc, counter, client, stripe_client, size, traced=False)
                traced = _one_subject(svc, counter, client, stripe_client, size, traced=True)
                items, export, erase, bare_delete = timed
                rows.append((items, (export[0], traced[1][1], export[2]), (erase[0], traced[2][1], erase[2]),
                             bare_delete))  # fmt: skip
        finally:
            stack.stop()

    print("(d) data-subject requests for one subject, in-process against the local stack")
    print("    items   export s  export MiB  Cosmos req/item   erase s  erase MiB  Cosmos req/item")
    for items, (ex_s, ex_mb, ex_req), (er_s, er_mb, er_req), _ in rows:
        print(f"    {items:6d}  {ex_s:8.2f}  {ex_mb:10.1f}  {ex_req / items:15.2f}  {er_s:8.2f}  {er_mb:9.1f}"
              f"  {er_req / items:15.2f}")  # fmt: skip
    for small, large in itertools.pairwise(rows):
        print(
            f"    peak memory ratio {large[0]}/{small[0]} items: export {large[1][1] / small[1][1]:.2f}, "
            f"erasure {large[2][1] / small[2][1]:.2f}  (the data grew {large[0] / small[0]:.0f}x; memory is "
            "bounded by one query page and one 4 MiB upload block, so it stops growing once those are full)"
        )
    for items, _, (er_s, _, _), bare in rows:
        print(
            f"    {items} items: erasure {er_s / items * 1000:.2f} ms/item beside a bare SDK delete of "
            f"{bare * 1000:.2f} ms/item on the same collection ({er_s / items / bare:.2f}x)"
        )
    print(
        f"    throughput: export {statistics.mean([r[0] / r[1][0] for r in rows]):.0f} items/s, "
        f"erasure {statistics.mean([r[0] / r[2][0] for r in rows]):.0f} items/s"
    )


if __name__ == "__main__":
    main()
