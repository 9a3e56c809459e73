"""``python -m benchmarks.retention``: the retention purge of 100,000 expired items across containers.

Prints, against the local stack, in one run:
- items purged per second beside the bare SDK deleting the same number of items, one by one, on the
  same server (interleaved pairs: purge, then bare SDK; median ratio and spread of the pairs);
- Cosmos requests per purged item (every document request of the runs: queries, deletes, the cursor
  and lease saves, the reports; goal at most 1.05);
- peak traced memory of a purge of 10,000 and of 100,000 items (it must not grow with the count).

Each goal is printed with whether this run met it. What the figures do not cover is printed with
them: the items are all of Cosmos kinds (Stripe and SendGrid rules cost more per item), and the local
Cosmos DB stand-in has one partition range, where Azure fans a cross-partition query out to each
physical partition.

``--quick`` runs a tenth of it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azure.cosmos import ContainerProxy, CosmosClient

from adapters.cosmos import RequestCounter
from benchmarks.interleave import ratio_of
from bootstrap import Services
from core.containers import database_spec
from core.models import utc_text
from core.settings import Settings
from devstack.instrumented import counted_services
from devstack.services import StackPorts
from devstack.stack import LocalStack
from functions.inventory.locations import StoredLocation

# Where expired items are, as a share of each batch, and the field each one's clock is read from.
SHARE = {"navigation-events": ("at", 0.6), "language-data": ("at", 0.25), "devices": ("lastSeenAt", 0.1)}
ORDERS_SHARE = 0.05  # the rest: invoices issued more than eight calendar years ago
USERS_PER_BATCH = 200
SEED_THREADS = 8
REQUESTS_GOAL = 1.05  # Cosmos requests per purged item
FLAT_MEMORY = 1.25  # peak at ten times the items, at most this many times the peak: bounded by a chunk
PAIRS = 10  # interleaved purge / bare-SDK pairs; PAIRS x BATCH items are purged in all
BATCH = 10_000


@dataclass(frozen=True)
class Batch:
    items: list[tuple[str, str, str]]  # container, id, partition key


def seed(client: CosmosClient, n: int, now: datetime) -> Batch:
    """n expired items across the product containers, spread over a few hundred users."""
    database = client.get_database_client(database_spec().database)
    users = [f"bench-{uuid.uuid4().hex[:12]}" for _ in range(USERS_PER_BATCH)]
    old, invoice = utc_text(now - timedelta(days=1000)), utc_text(now - timedelta(days=366 * 10))
    plan = [(container, field, int(n * share)) for container, (field, share) in SHARE.items()]
    plan.append(("orders", "issuedAt", n - sum(count for _, _, count in plan)))
    items: list[tuple[str, str, str]] = []
    writes = []
    for container, field, count in plan:
        proxy: ContainerProxy = database.get_container_client(container)
        for i in range(count):
            user = users[i % len(users)]
            item_id = f"bench-{uuid.uuid4().hex}"
            writes.append((proxy, {"id": item_id, "userId": user, field: invoice if container == "orders" else old}))
            items.append((container, item_id, user))
    with ThreadPoolExecutor(SEED_THREADS) as pool:  # seeding is not measured: as fast as the server takes it
        list(pool.map(lambda write: write[0].create_item(write[1]), writes))
    return Batch(items)


def bare_delete(client: CosmosClient, batch: Batch) -> None:
    """The floor the purge stands on: the SDK deleting the same items by id, one by one."""
    database = client.get_database_client(database_spec().database)
    proxies = {name: database.get_container_client(name) for name in {c for c, _, _ in batch.items}}
    for container, item_id, user in batch.items:
        proxies[container].delete_item(item_id, partition_key=user)


def purge(svc: Services) -> int:
    report = svc.retention_run.run(trigger="benchmark")
    assert report.outcome == "finished", report.failures
    return sum(rule.purged for rule in report.rules)


def traced_peak(svc: Services, client: CosmosClient, n: int) -> float:
    seed(client, n, datetime.now(UTC))
    tracemalloc.start()
    purged = purge(svc)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert purged >= n, (purged, n)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the items")
    args = parser.parse_args()
    batch, pairs = (BATCH // 10, PAIRS) if args.quick else (BATCH, PAIRS)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackPorts.free(), Path(state), persistent=False, settings_file=None)
        stack.start_backends()
        try:
            settings = Settings({**stack.app_settings(), "RETENTION_TIME_BUDGET_SECONDS": "3600"})
            svc, counter, client = counted_services(settings)
            seeding = CosmosClient(settings.get("COSMOS_ENDPOINT"), settings.get("COSMOS_KEY"), connection_verify=False)
            figures = run(svc, counter, client, seeding, batch, pairs)
        finally:
            stack.stop()
    figures.print()


@dataclass(frozen=True)
class Figures:
    items: int
    purge_seconds: float
    bare_seconds: float
    ratio_text: str
    requests_per_item: float
    requests_per_run: int  # of a run with nothing to purge: the lease, the reports, every rule's query
    items_per_run: int
    peaks: dict[int, float]

    def print(self) -> None:
        print("(r) retention purge in-process against the local stack, items across navigation-events, language-data,")
        print("    devices and orders (interleaved pairs: the purge, then the bare SDK deleting as many items by id)")
        print(
            f"    {self.items} expired items: purge {self.items / self.purge_seconds:.0f} items/s, "
            f"bare SDK delete {self.items / self.bare_seconds:.0f} items/s"
        )
        print(f"    time per item, purge / bare SDK: {self.ratio_text}")
        met = "met" if self.requests_per_item <= REQUESTS_GOAL else "NOT met"
        print(
            f"    Cosmos document requests per purged item: {self.requests_per_item:.3f}  "
            f"(goal <= {REQUESTS_GOAL}: {met}); {self.requests_per_run} of them each run makes whatever it "
            f"purges, here spread over {self.items_per_run} items a run"
        )
        small, large = sorted(self.peaks)
        growth = self.peaks[large] / self.peaks[small]
        shape = "flat: bounded by a chunk" if growth <= FLAT_MEMORY else f"NOT flat: above {FLAT_MEMORY}"
        if int(small * max(share for _, share in SHARE.values())) < StoredLocation.purge_chunk:
            shape += f"; the {small} items fill no chunk of {StoredLocation.purge_chunk}, so this compares little"
        print(
            f"    peak traced memory: {small} items {self.peaks[small]:.1f} MiB, {large} items "
            f"{self.peaks[large]:.1f} MiB (ratio {growth:.2f}, {shape})"
        )
        print("    not covered: Stripe and SendGrid rules (per item a profile read, writes and third-party calls);")
        print("    Azure's physical partitions (the stand-in has one range; Azure asks each per cross-partition query)")


def run(
    svc: Services, counter: RequestCounter, client: CosmosClient, seeding: CosmosClient, batch: int, pairs: int
) -> Figures:
    purge(svc)  # whatever the stack started with
    counter.reset()
    purge(svc)  # nothing left: what a run costs by itself
    requests_per_run = counter.document_requests
    samples: list[tuple[float, float]] = []
    purged = requests = 0
    purge_total = bare_total = 0.0
    for _ in range(pairs):
        seed(seeding, batch, datetime.now(UTC))
        counter.reset()
        started = time.perf_counter()
        count = purge(svc)
        purge_seconds = time.perf_counter() - started
        requests += counter.document_requests
        purged += count
        bare = seed(seeding, batch, datetime.now(UTC))
        started = time.perf_counter()
        bare_delete(client, bare)
        bare_seconds = time.perf_counter() - started
        samples.append((purge_seconds / count, bare_seconds / len(bare.items)))
        purge_total += purge_seconds
        bare_total += bare_seconds
    ratio = ratio_of(samples)
    peaks = {size: traced_peak(svc, seeding, size) for size in (batch, batch * pairs)}
    bare_seconds = bare_total * purged / (batch * pairs)
    return Figures(
        purged, purge_total, bare_seconds, ratio.text(), requests / purged, requests_per_run, purged // pairs, peaks
    )


if __name__ == "__main__":
    main()
