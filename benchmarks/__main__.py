"""``python -m benchmarks``: prints the walking skeleton's figures, each as a ratio measured in this run.

(a) cold import of function_app plus indexing, beside importing azure.functions + azure.cosmos alone,
    which heavy modules that path loads, and what a function's first call then imports;
(b) cookie-preference read and save through the real handler, beside the bare SDK doing the same
    requests against the same Cosmos stand-in, with Cosmos requests counted per operation;
(c) 50 concurrent consent writes for one subject: events stored, chain verified.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import azure.functions as func
from azure.core import MatchConditions

from benchmarks.interleave import interleaved, ratio_of
from bootstrap import use_services
from core.containers import CONSENT_STATE, database_spec
from core.settings import Settings
from devstack.instrumented import counted_services
from devstack.services import PROJECT_ROOT, StackPorts
from devstack.stack import LocalStack
from functions.consent.decisions import Caller, event_context
from functions.consent.ledger import Decision, EventKind, Source

HEAVY_MODULES = (
    "stripe",
    "sendgrid",
    "azure.storage.blob",
    "azure.storage.queue",
    "azure.cosmos",
    "azure.identity",
    "jwt",
    "cryptography",
    "pydantic",
    "aiohttp",
)
MUST_NOT_LOAD = ("stripe", "sendgrid", "azure.storage.blob", "cryptography")
IMPORT_RUNS = 7
HOT_PATH_RUNS = 300

IMPORT_APP = """
import sys, time, json
t = time.perf_counter()
import function_app
functions = function_app.app.get_functions()
elapsed = time.perf_counter() - t
loaded = [m for m in {heavy} if m in sys.modules]
import function_index
t = time.perf_counter()
function_index.blueprint_functions("functions.cookies.blueprint")
cookies = time.perf_counter() - t
t = time.perf_counter()
function_index.load_all()
rest = time.perf_counter() - t
figures = {{"seconds": elapsed, "functions": len(functions), "loaded": loaded, "cookies": cookies, "rest": rest}}
print(json.dumps(figures))
"""
IMPORT_SDKS = """
import time, json
t = time.perf_counter()
import azure.functions, azure.cosmos
print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def _run_python(code: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def import_figures() -> None:
    pairs: list[tuple[float, float]] = []
    app: dict[str, object] = {}
    for _ in range(IMPORT_RUNS):  # interleaved, so machine noise hits both sides alike
        app = _run_python(IMPORT_APP.format(heavy=repr(HEAVY_MODULES)))
        sdk = _run_python(IMPORT_SDKS)
        pairs.append((float(app["seconds"]), float(sdk["seconds"])))  # type: ignore[arg-type]
    ratio = ratio_of(pairs)
    loaded = list(app["loaded"])  # type: ignore[call-overload]
    forbidden = [m for m in MUST_NOT_LOAD if m in loaded]
    print(f"(a) cold import + indexing ({IMPORT_RUNS} pairs of fresh interpreters, interleaved)")
    print(
        f"    function_app import + get_functions(): {ratio.a_seconds * 1000:7.1f} ms  ({app['functions']} functions)"
    )
    print(f"    azure.functions + azure.cosmos alone:  {ratio.b_seconds * 1000:7.1f} ms")
    print(f"    ratio: {ratio.text('<= 1.5')}")
    first_call, others = float(app["cookies"]) * 1000, float(app["rest"]) * 1000  # type: ignore[arg-type]
    print(f"    then a function's first call imports its capability: the cookie banner's {first_call:.1f} ms")
    print(f"    (all the others together: {others:.1f} ms, each paid only when one of its functions runs)")
    print(f"    heavy modules loaded on that path: {', '.join(loaded) or 'none'}")
    print(f"    must not load ({', '.join(MUST_NOT_LOAD)}): {forbidden or 'none loaded'}")


def _handler(name: str) -> Callable[[func.HttpRequest], func.HttpResponse]:
    import function_app

    for function in function_app.app.get_functions():
        if function.get_function_name() == name:
            user_function: Callable[[func.HttpRequest], func.HttpResponse] = function.get_user_function()
            return user_function
    raise LookupError(name)


def hot_path_figures(stack: LocalStack) -> None:
    svc, counter, client = counted_services(Settings(stack.app_settings()))
    use_services(svc)
    cookies = _handler("cookie_preferences")
    version = svc.catalog.current().require_current_version().version
    vid = secrets.token_urlsafe(18)
    url = f"http://localhost/api/cookies/{vid}"
    body = {"categories": {"functional": True, "analytics": False, "marketing": False}, "policyVersion": version}

    def read() -> None:
        response = cookies(func.HttpRequest("GET", url, headers={}, route_params={"visitorId": vid}, body=b""))
        assert response.status_code == 200, response.get_body()

    def save() -> None:
        request = func.HttpRequest(
            "PUT",
            url,
            headers={"content-type": "application/json"},
            route_params={"visitorId": vid},
            body=json.dumps(body).encode(),
        )
        response = cookies(request)
        assert response.status_code == 200, response.get_body()

    save()  # warm: catalog cached, connections open
    read()
    container = client.get_database_client(database_spec().database).get_container_client(CONSENT_STATE)
    bare_pk = f"visitor:{secrets.token_urlsafe(18)}"
    container.upsert_item({"id": "state", "subjectId": bare_pk, "seq": 0})
    events = client.get_database_client(database_spec().database).get_container_client("consent-events")

    def bare_read() -> None:
        container.read_item("state", partition_key=bare_pk)

    def bare_write() -> None:
        container.upsert_item({"id": "state", "subjectId": bare_pk, "seq": 1})

    def bare_same_requests() -> None:
        # What a chained save needs at the least: read head, append event, conditional state replace.
        head = container.read_item("state", partition_key=bare_pk)
        seq = int(head["seq"]) + 1
        events.create_item({"id": f"e{seq:012d}", "subjectId": bare_pk, "seq": seq})
        container.replace_item(
            "state", {**head, "seq": seq}, etag=head["_etag"], match_condition=MatchConditions.IfNotModified
        )

    requests = {}
    for name, operation in (
        ("read", read),
        ("save", save),
        ("bare_read", bare_read),
        ("bare_write", bare_write),
        ("bare_same", bare_same_requests),
    ):
        counter.reset()
        operation()
        requests[name] = counter.document_requests
    reads = interleaved(read, bare_read, HOT_PATH_RUNS)
    saves = interleaved(save, bare_same_requests, HOT_PATH_RUNS)
    upserts = interleaved(save, bare_write, HOT_PATH_RUNS)
    use_services(None)

    def ms(seconds: float, name: str) -> str:
        return f"{seconds * 1000:6.2f} ms, {requests[name]} Cosmos request(s)"

    print(f"(b) cookie preferences, {HOT_PATH_RUNS} interleaved pairs in-process against the Cosmos stand-in")
    print(f"    handler read:                    {ms(reads.a_seconds, 'read')}")
    print(f"    bare SDK point read:             {ms(reads.b_seconds, 'bare_read')}")
    print(f"    read ratio:                      {reads.text('<= 1.5')}")
    print(f"    handler save:                    {ms(saves.a_seconds, 'save')}")
    print(f"    bare SDK read+create+replace:    {ms(saves.b_seconds, 'bare_same')}")
    print(f"    bare SDK single upsert:          {ms(upserts.b_seconds, 'bare_write')}")
    print(f"    save ratio vs the same requests: {saves.text('<= 1.5')}")
    print(f"    save ratio vs one bare upsert:   {upserts.text()}")
    print("      (a chained, proven save needs 3 requests; one upsert cannot keep the chain)")


def concurrency_figures(stack: LocalStack) -> None:
    svc, counter, _ = counted_services(Settings(stack.app_settings()))
    subject = f"user:{uuid.uuid4().hex}"
    version = svc.catalog.current().require_current_version()

    def write(i: int) -> int:
        ctx = event_context(Source.API, version, Caller(None, None, None), svc.clock.now())
        decision = {"analytics": Decision(i % 2 == 0, Source.API)}
        return svc.ledger.record(subject, EventKind.DECISION, decision, ctx, f"bench-{i:04d}").event_seq

    counter.reset()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=50) as pool:
        seqs = sorted(pool.map(write, range(50)))
    elapsed = time.perf_counter() - start
    requests = counter.document_requests
    events, verification = svc.ledger.history(subject)
    print("(c) 50 concurrent consent writes for one subject")
    print(f"    events stored: {len(events)}  sequence 1..50 complete: {seqs == list(range(1, 51))}")
    print(f"    chain verified: {verification.valid}  problems: {len(verification.problems)}")
    print(f"    wall time: {elapsed * 1000:.0f} ms  Cosmos requests: {requests} ({requests / 50:.1f} per write)")


def main() -> None:
    warnings.simplefilter("ignore")
    import_figures()
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackPorts.free(), Path(state), persistent=False, settings_file=None)
        stack.start_backends()
        try:
            hot_path_figures(stack)
            concurrency_figures(stack)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
