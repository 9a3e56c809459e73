"""``python -m benchmarks.proof``: the cost of public proof, measured in one run on the local stack.

(a) sealing 10,000 and 100,000 changed chains: time, Cosmos requests, peak Python memory (flat: the
    heads stream from the query into the leaves blob and the Merkle accumulator);
(b) the banner's cookie save with its signed receipt beside today's save without one, through the real
    handler, interleaved A,B,A,B (goal: ratio at most 1.2);
(c) vault calls (the Key Vault stand-in's port, counted) per 10,000 receipts on one instance (goal: at
    most one certificate per instance per signing-key lifetime).
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import azure.functions as func

from benchmarks.__main__ import _handler
from benchmarks.interleave import interleaved
from bootstrap import Services, use_services
from core.containers import CONSENT_STATE, database_spec
from core.settings import Settings
from devstack.instrumented import counted_services
from devstack.services import StackPorts
from devstack.stack import LocalStack
from functions.consent.ledger import ConsentState
from functions.proof.issuing import ConsentReceipts
from functions.proof.sealing import LedgerSealer

SAVE_PAIRS = 300
RECEIPTS = 10_000


class CountedRootKey:
    """The proof key's port with every vault call counted."""

    def __init__(self, root: Any) -> None:
        self._root = root
        self.calls = 0

    def signing_version(self) -> Any:
        self.calls += 1
        return self._root.signing_version()

    def published_versions(self) -> list[Any]:
        self.calls += 1
        return list(self._root.published_versions())

    def sign_digest(self, version: Any, digest: bytes) -> bytes:
        self.calls += 1
        signature: bytes = self._root.sign_digest(version, digest)
        return signature


class NoReceipts:
    """Today's save: no receipt signed."""

    def ready(self) -> None:
        return None

    def issue(self, event: object) -> None:
        return None


FLAT_MEMORY = 1.25  # ten times the chains, at most this many times the memory


def seed_changed_chains(client: Any, count: int) -> None:
    container = client.get_database_client(database_spec().database).get_container_client(CONSENT_STATE)
    run = secrets.token_hex(4)

    def put(i: int) -> None:
        state = ConsentState(subject_id=f"visitor:bench{run}{i:012d}", seq=3, head_hash=f"{i:064x}")
        container.create_item(state.to_document())

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(count)))


def sealing_figures(stack: LocalStack) -> None:
    svc, counter, client = counted_services(Settings(stack.app_settings()))
    sealer = LedgerSealer(svc.documents, svc.seal_records, svc.seal_archive, svc.proof_signer, svc.clock, timedelta(0))
    time.sleep(1.1)
    sealer.seal()  # everything before this run is sealed; what follows is only the chains changed here
    peaks = {}
    for count in (10_000, 100_000):
        started = time.perf_counter()
        seed_changed_chains(client, count)
        seeded = time.perf_counter() - started
        time.sleep(1.1)
        counter.reset()
        tracemalloc.start()
        started = time.perf_counter()
        record = sealer.seal()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks[count] = peak
        assert record is not None
        assert record.tree_size == count, record.tree_size
        print(
            f"(a) sealing {count:>7,} changed chains: {elapsed:6.2f} s, {counter.document_requests} Cosmos requests "
            f"({counter.document_requests / count * 1000:.1f} per 1,000 chains), peak Python memory "
            f"{peak / 1e6:.1f} MB  [seeding them took {seeded:.0f} s]"
        )
    growth = peaks[100_000] / peaks[10_000]
    shape = "flat: bounded by the upload's blocks" if growth <= FLAT_MEMORY else f"NOT flat: above {FLAT_MEMORY}"
    print(f"    peak memory, 100,000 chains / 10,000: {growth:.2f} ({shape})")


def save_figures(stack: LocalStack) -> None:
    with_receipt, _, client = counted_services(Settings(stack.app_settings()))
    from adapters.cosmos import CosmosDocumentStore

    today = Services.with_edges(
        Settings(stack.app_settings()),
        documents=CosmosDocumentStore(client, database_spec()),
        consent_receipts=NoReceipts(),
    )
    cookies = _handler("cookie_preferences")
    use_services(with_receipt)
    version = with_receipt.catalog.current().require_current_version().version
    body = json.dumps(
        {"categories": {"functional": True, "analytics": False, "marketing": False}, "policyVersion": version}
    ).encode()

    def save(services: Services, expect_receipt: bool) -> None:
        use_services(services)
        vid = secrets.token_urlsafe(18)
        request = func.HttpRequest(
            "PUT",
            f"http://localhost/api/cookies/{vid}",
            headers={"content-type": "application/json"},
            route_params={"visitorId": vid},
            body=body,
        )
        response = cookies(request)
        assert response.status_code == 200, response.get_body()
        assert (json.loads(response.get_body())["receipt"] is not None) == expect_receipt

    for _ in range(20):  # warm both roots: catalog cached, connections open, signing key certified
        save(with_receipt, True)
        save(today, False)
    ratio = interleaved(lambda: save(with_receipt, True), lambda: save(today, False), SAVE_PAIRS)
    print(
        f"(b) cookie save with a signed receipt {ratio.a_seconds * 1000:.2f} ms vs today's save "
        f"{ratio.b_seconds * 1000:.2f} ms: ratio {ratio.text('<= 1.2')}"
    )
    use_services(None)


def vault_call_figures(stack: LocalStack) -> None:
    settings = Settings(stack.app_settings())
    svc = Services(settings)
    counted = CountedRootKey(svc.root_key)
    instance = Services.with_edges(settings, root_key=counted)
    receipts: ConsentReceipts = instance.consent_receipts
    state = ConsentState(subject_id="visitor:benchmarkvisitor0001")
    from functions.consent.ledger import Decision, EventContext, EventKind, Source

    context = EventContext(Source.BANNER, "2026-11", "ab" * 32, instance.clock.now())
    event = state.next_event(EventKind.DECISION, {"analytics": Decision(True, Source.BANNER)}, context, "bench-key")
    started = time.perf_counter()
    for _ in range(RECEIPTS):
        receipts.issue(event)
    elapsed = time.perf_counter() - started
    hours = settings.get_int("PROOF_SIGNING_KEY_HOURS")
    print(
        f"(c) {RECEIPTS:,} receipts on one instance: {counted.calls} vault calls (one key read, one certificate "
        f"signed, for a {hours} h signing key), {elapsed / RECEIPTS * 1e6:.0f} us of signing per receipt"
    )


def main() -> None:
    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackPorts.free(), Path(state), persistent=False, settings_file=None)
        stack.start_backends()
        try:
            vault_call_figures(stack)
            save_figures(stack)
            sealing_figures(stack)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
