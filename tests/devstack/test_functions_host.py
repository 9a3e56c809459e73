"""The local Functions host, driven over real HTTP and a real Azurite queue service."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import queue as queue_module
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import azure.functions as func
import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from devstack.functions_host import LocalFunctionsHost
from devstack.functions_host.options import HostConfigError
from devstack.functions_host.routing import RouteTemplate
from devstack.functions_host.schedules import parse_schedule
from devstack.services import StackPorts, azurite_connection_string, start_azurite
from tests.devstack import functions_host_app as fixture_app

ROOT = Path(__file__).resolve().parents[2]
ALL_FUNCTIONS = [str(function.get_function_name()) for function in fixture_app.app.get_functions()]
FUNCTION_KEYS = "function-key-1,function-key-2"
MASTER_KEY = "master-key"
HOST_JSON: dict[str, Any] = {
    "version": "2.0",
    "extensions": {
        "http": {"routePrefix": "v1", "customHeaders": {"X-Content-Type-Options": "nosniff"}},
        "queues": {
            "maxDequeueCount": 2,
            "visibilityTimeout": "00:00:00",
            "maxPollingInterval": "00:00:00.500",
            "batchSize": 4,
        },
    },
}


# -- harness ---------------------------------------------------------------------------------


class RunningHost:
    """Runs a LocalFunctionsHost on its own event loop in a thread, as the CLI would in its process."""

    def __init__(self, host: LocalFunctionsHost) -> None:
        self.host = host
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="host-loop", daemon=True)

    def __enter__(self) -> LocalFunctionsHost:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.host.start(), self.loop).result(timeout=30)
        return self.host

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.host.stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def only_enabled(*names: str) -> dict[str, str]:
    """App settings that disable every fixture function but these, as AzureWebJobs.<name>.Disabled does."""
    return {f"AzureWebJobs.{name}.Disabled": "true" for name in ALL_FUNCTIONS if name not in names}


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def queue(connection: str, name: str) -> QueueClient:
    return QueueClient.from_connection_string(
        connection,
        name,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
    )


def message_count(connection: str, name: str) -> int:
    """Messages in the queue, visible or not; 0 while the queue does not exist yet."""
    try:
        return queue(connection, name).get_queue_properties().approximate_message_count or 0
    except ResourceNotFoundError:
        return 0


def peeked_texts(client: QueueClient) -> list[str]:
    try:
        return [message.content for message in client.peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ports = StackPorts.free()
    azurite = start_azurite(ports, tmp_path_factory.mktemp("azurite-logs"), data_dir=None)
    yield azurite_connection_string(ports)
    azurite.stop()


@pytest.fixture(scope="module")
def main_settings(storage: str) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": storage,
        "LOCAL_HOST_FUNCTION_KEYS": FUNCTION_KEYS,
        "LOCAL_HOST_MASTER_KEY": MASTER_KEY,
        "WORK_QUEUE": "work-items",
        "DONE_QUEUE": "done-items",
        "STARTUP_TIMER_SCHEDULE": "0 0 3 1 1 *",
        **only_enabled(*(name for name in ALL_FUNCTIONS if name not in {"slow_tick", "slow"})),
    }


@pytest.fixture(scope="module")
def host(main_settings: dict[str, str]) -> Iterator[LocalFunctionsHost]:
    with RunningHost(LocalFunctionsHost(fixture_app.app, HOST_JSON, main_settings, port=0)) as running:
        yield running


@pytest.fixture
def client(host: LocalFunctionsHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{host.port}", timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def cors_host(storage: str) -> Iterator[LocalFunctionsHost]:
    """No keys, platform CORS on, the default route prefix; only a few HTTP functions."""
    settings = {
        "AzureWebJobsStorage": storage,
        "Host__CORS": "https://app.example, https://admin.example",
        "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "1024",
        **only_enabled("any_method", "secure", "staff_only"),
    }
    with RunningHost(LocalFunctionsHost(fixture_app.app, {"version": "2.0"}, settings, port=0)) as running:
        yield running


@pytest.fixture
def cors_client(cors_host: LocalFunctionsHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{cors_host.port}", timeout=10) as http:
        yield http


# -- routes ----------------------------------------------------------------------------------


def test_route_prefix_comes_from_host_json(client: httpx.Client) -> None:
    assert client.get("/v1/items/7").status_code == 200
    assert client.get("/api/items/7").status_code == 404
    assert client.get("/V1/ITEMS/7").status_code == 200  # literal segments match case-insensitively


def test_route_parameters_reach_the_function(client: httpx.Client) -> None:
    both = client.get("/v1/items/42/blue").json()
    assert both["route_params"] == {"id": "42", "label": "blue"}
    without_optional = client.get("/v1/items/42").json()
    assert without_optional["route_params"] == {"id": "42"}


def test_int_constraint_mismatch_is_not_found(client: httpx.Client) -> None:
    assert client.get("/v1/items/abc").status_code == 404
    assert client.get("/v1/items/99999999999").status_code == 404  # beyond Int32, like the host
    assert client.get("/v1/items/1/2/3").status_code == 404


def test_guid_constraint_and_async_function(client: httpx.Client) -> None:
    order_id = str(uuid.uuid4())
    response = client.put(f"/v1/orders/{order_id}")
    assert response.status_code == 201
    assert response.json() == {"order_id": order_id, "method": "PUT"}
    assert response.headers["location"] == f"/orders/{order_id}"
    assert response.headers["content-type"] == "application/json"
    assert client.get("/v1/orders/not-a-guid").status_code == 404


def test_catch_all_takes_the_rest_of_the_path(client: httpx.Client) -> None:
    assert client.get("/v1/files/reports/2024/summary.pdf").json() == {"path": "reports/2024/summary.pdf"}
    assert client.get("/v1/files").json() == {}


def test_unknown_route_is_not_found_with_empty_body(client: httpx.Client) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.content == b""


def test_wrong_method_is_405_with_allow(client: httpx.Client) -> None:
    response = client.post("/v1/items/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert client.delete(f"/v1/orders/{uuid.uuid4()}").headers["allow"] == "GET, PUT"


def test_function_without_methods_takes_every_method(client: httpx.Client) -> None:
    for method in ("GET", "POST", "DELETE", "PATCH", "OPTIONS"):
        assert client.request(method, "/v1/any").text == method


def test_route_template_rules() -> None:
    assert RouteTemplate("a/{x}").precedence < RouteTemplate("{y}/{x}").precedence
    assert RouteTemplate("a/{x:int}").precedence < RouteTemplate("a/{x}").precedence
    assert RouteTemplate("a/{x}").precedence < RouteTemplate("a/{*x}").precedence
    assert RouteTemplate("files/{name}.{ext?}").match(["files", "report.final.pdf"]) == {
        "name": "report.final",
        "ext": "pdf",
    }
    assert RouteTemplate("files/{name}.{ext?}").match(["files", "README"]) == {"name": "README"}
    assert RouteTemplate("page/{n:range(1,10)=1}").match(["page"]) == {"n": "1"}
    assert RouteTemplate("page/{n:range(1,10)=1}").match(["page", "11"]) is None
    assert RouteTemplate("c/{code:regex(^[a-z]{{2}}$)}").match(["c", "de"]) == {"code": "de"}
    assert RouteTemplate("c/{code:regex(^[a-z]{{2}}$)}").match(["c", "deu"]) is None
    assert RouteTemplate("u/{name:alpha:minlength(3)}").match(["u", "ab"]) is None
    with pytest.raises(HostConfigError):
        RouteTemplate("a/{x:nosuchconstraint}")
    with pytest.raises(HostConfigError):
        RouteTemplate("{*rest}/tail")


def test_functions_the_host_cannot_load_are_in_error_and_the_rest_still_load() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="admin/tools")
    def reserved(req: func.HttpRequest) -> str:
        return "never"

    @app.route(route="things/{id:nosuch}")
    def unknown_constraint(req: func.HttpRequest) -> str:
        return "never"

    @app.route(route="reports")
    @app.blob_input(arg_name="report", path="reports/latest.json", connection="AzureWebJobsStorage")
    def with_blob(req: func.HttpRequest, report: str) -> str:
        return "never"

    @app.route(route="fine")
    def fine(req: func.HttpRequest, extra: str) -> str:
        return "never"

    @app.route(route="good")
    def good(req: func.HttpRequest) -> str:
        return "ok"

    loaded = LocalFunctionsHost(app, {}, {}, port=0)
    assert [spec.name for spec in loaded.functions] == ["good"]
    reasons = {failed.name: failed.reason for failed in loaded.functions_in_error}
    assert "built-in admin routes" in reasons["reserved"]
    assert "'nosuch' is not known" in reasons["unknown_constraint"]
    assert "type 'blob' is not supported" in reasons["with_blob"]
    assert "['extra'] are not bound" in reasons["fine"]


# -- keys ------------------------------------------------------------------------------------


def test_function_level_needs_a_key(client: httpx.Client) -> None:
    missing = client.get("/v1/secure/ada")
    assert missing.status_code == 401
    assert missing.content == b""
    assert client.get("/v1/secure/ada", headers={"x-functions-key": "wrong"}).status_code == 401
    assert client.get("/v1/secure/ada?code=wrong").status_code == 401


def test_function_key_in_header_or_code_parameter(client: httpx.Client) -> None:
    by_header = client.get("/v1/secure/ada", headers={"x-functions-key": "function-key-2"})
    assert (by_header.status_code, by_header.text) == (200, "hello ada")
    assert client.get("/v1/secure/ada", params={"code": "function-key-1"}).status_code == 200
    assert client.get("/v1/secure/ada", headers={"x-functions-key": MASTER_KEY}).status_code == 200


def test_admin_level_needs_the_master_key(client: httpx.Client) -> None:
    assert client.get("/v1/staff-only", params={"code": "function-key-1"}).status_code == 401
    assert client.get("/v1/staff-only", headers={"x-functions-key": MASTER_KEY}).text == "staff"


def test_without_configured_keys_function_and_admin_levels_are_open(cors_client: httpx.Client) -> None:
    assert cors_client.get("/api/secure/ada").text == "hello ada"
    assert cors_client.get("/api/staff-only").text == "staff"


# -- requests and responses ------------------------------------------------------------------


def test_request_reaches_the_function_as_an_http_request(client: httpx.Client, host: LocalFunctionsHost) -> None:
    response = client.post(
        "/v1/echo?topic=a&topic=b&single=1", content=b"raw body \xe2\x9c\x93", headers={"X-Custom": "yes"}
    )
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["url"] == f"http://127.0.0.1:{host.port}/v1/echo?topic=a&topic=b&single=1"
    assert seen["params"] == {"topic": "a,b", "single": "1"}
    assert seen["x_custom"] == "yes"
    assert seen["body"] == "raw body \u2713"


def test_response_headers_cookies_and_content_type(client: httpx.Client) -> None:
    response = client.get("/v1/cookies")
    assert response.headers.get_list("set-cookie") == ["first=1; Path=/", "second=2; Path=/"]
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"  # host.json customHeaders
    plain = client.get("/v1/plain")
    assert (plain.status_code, plain.text, plain.headers["content-type"]) == (
        200,
        "just text",
        "text/plain; charset=utf-8",
    )


def test_sync_function_runs_in_the_worker_pool_with_a_context(client: httpx.Client) -> None:
    seen = client.get("/v1/items/5").json()
    assert seen["function_name"] == "get_item"
    assert uuid.UUID(seen["invocation_id"])
    assert seen["function_directory"] == str(Path.cwd())
    assert fixture_app.worker_threads[-1].startswith("functions-worker")


def test_unhandled_exception_is_500_with_empty_body(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="devstack.functions_host")
    response = client.get("/v1/boom")
    assert response.status_code == 500
    assert response.content == b""
    assert "RuntimeError: boom: the details stay in the host log" in caplog.text
    assert re.search(r"Executed 'boom' \(Failed, Id=[0-9a-f-]{36}, Status=500, Duration=\d+ms\)", caplog.text)


def test_log_lines_hold_no_bodies_queries_or_keys(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.post("/v1/echo?email=ada%40example.org", content=b"secret-body-text")
    client.get("/v1/secure/ada", headers={"x-functions-key": "function-key-1"})
    # Everything logged at any level, except by the test's own HTTP client.
    host_log = "\n".join(
        caplog.handler.format(record) for record in caplog.records if not record.name.startswith(("httpx", "httpcore"))
    )
    assert re.search(r"Executed 'echo' \(Succeeded, Id=[0-9a-f-]{36}, Status=200, Duration=\d+ms\)", host_log)
    for private in ("ada%40example.org", "ada@example.org", "secret-body-text", "function-key-1", "/v1/"):
        assert private not in host_log


# -- CORS ------------------------------------------------------------------------------------


def test_cors_preflight_is_answered_by_the_host(cors_client: httpx.Client) -> None:
    response = cors_client.options(
        "/api/secure/ada",  # a FUNCTION-level route: the preflight needs no key and reaches no function
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,x-functions-key",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-methods"] == "PUT"
    assert response.headers["access-control-allow-headers"] == "content-type,x-functions-key"


def test_cors_refuses_unlisted_origins(cors_client: httpx.Client) -> None:
    preflight = cors_client.options(
        "/api/any", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    actual = cors_client.get("/api/any", headers={"Origin": "https://evil.example"})
    assert actual.text == "GET"
    assert "access-control-allow-origin" not in actual.headers


def test_cors_headers_on_actual_requests(cors_client: httpx.Client) -> None:
    response = cors_client.get("/api/any", headers={"Origin": "https://admin.example"})
    assert response.text == "GET"
    assert response.headers["access-control-allow-origin"] == "https://admin.example"
    assert "origin" in response.headers["vary"].lower()


def test_request_body_over_the_limit_is_refused(cors_client: httpx.Client) -> None:
    assert cors_client.post("/api/any", content=b"x" * 1024).text == "POST"
    assert cors_client.post("/api/any", content=b"x" * 1025).status_code == 413


def test_plain_options_still_reach_the_function_with_cors_on(cors_client: httpx.Client) -> None:
    assert cors_client.options("/api/any").text == "OPTIONS"


# -- timers ----------------------------------------------------------------------------------


def test_timer_with_run_on_startup_fired_at_start(host: LocalFunctionsHost) -> None:
    eventually(lambda: any(run.function == "startup_tick" for run in fixture_app.timer_runs))
    run = next(run for run in fixture_app.timer_runs if run.function == "startup_tick")
    assert run.past_due is False
    assert datetime.fromisoformat(run.schedule_status["Next"]).month == 1


def test_timer_runs_never_overlap_and_a_late_run_is_past_due(storage: str) -> None:
    settings = {"AzureWebJobsStorage": storage, **only_enabled("slow_tick")}
    with RunningHost(LocalFunctionsHost(fixture_app.app, HOST_JSON, settings, port=0)):
        eventually(lambda: len([r for r in fixture_app.timer_runs if r.function == "slow_tick"]) >= 3)
    runs = [run for run in fixture_app.timer_runs if run.function == "slow_tick"]
    assert runs[0].finished - runs[0].started >= 2.5
    assert all(later.started >= earlier.finished for earlier, later in itertools.pairwise(runs))
    # The ticks missed during the slow first run collapse into one immediate run, reported late.
    assert [run.past_due for run in runs[:3]] == [False, True, False]


def test_timer_retry_policy_runs_failed_tries_again(host: LocalFunctionsHost) -> None:
    eventually(lambda: len(fixture_app.retry_attempts) >= 3)
    assert fixture_app.retry_attempts == [(0, 2, ""), (1, 2, "try 0 failed"), (2, 2, "try 1 failed")]


def test_schedules_read_like_the_host() -> None:
    base = datetime(2024, 5, 6, 12, 3, 10).astimezone()
    assert parse_schedule("0 */5 * * * *").next_after(base).time().isoformat() == "12:05:00"
    assert parse_schedule("30 0 9 * * 1-5").next_after(base).isoformat()[:19] == "2024-05-07T09:00:30"
    # NCrontab requires day and weekday both: the 13th that is a Friday.
    assert parse_schedule("0 0 0 13 * 5").next_after(base).date().isoformat() == "2024-09-13"
    assert (parse_schedule("00:00:30").next_after(base) - base).total_seconds() == 30
    for invalid in ("*/5 * * * *", "0 0 L * * *", "0 0 0 30 2 *", "soon"):
        with pytest.raises(HostConfigError):
            parse_schedule(invalid)


# -- queues ----------------------------------------------------------------------------------


def test_queue_message_is_processed_and_deleted(host: LocalFunctionsHost, storage: str) -> None:
    queue(storage, "work-items").send_message("hello from the queue")
    eventually(lambda: ("hello from the queue", 1) in fixture_app.queue_attempts)
    eventually(lambda: message_count(storage, "work-items") == 0)
    message = next(m for m in fixture_app.queue_messages if m.get_body() == b"hello from the queue")
    assert message.id
    assert message.pop_receipt
    assert message.dequeue_count == 1
    assert message.insertion_time is not None
    assert message.expiration_time is not None
    assert message.time_next_visible is not None
    # The output binding wrote its message once the function had succeeded.
    eventually(lambda: "done:hello from the queue" in peeked_texts(queue(storage, "done-items")))


def test_failing_message_moves_to_poison_after_max_dequeue_count(host: LocalFunctionsHost, storage: str) -> None:
    queue(storage, "work-items").send_message("please fail")
    eventually(lambda: "please fail" in peeked_texts(queue(storage, "work-items-poison")))
    assert [count for body, count in fixture_app.queue_attempts if body == "please fail"] == [1, 2]
    eventually(lambda: message_count(storage, "work-items") == 0)
    assert all("please fail" not in text for text in peeked_texts(queue(storage, "done-items")))


def test_message_that_is_not_base64_goes_straight_to_poison(host: LocalFunctionsHost, storage: str) -> None:
    QueueClient.from_connection_string(storage, "work-items").send_message("not base64 at all!")
    poison = QueueClient.from_connection_string(storage, "work-items-poison")
    eventually(lambda: "not base64 at all!" in peeked_texts(poison))
    assert all(body != "not base64 at all!" for body, _ in fixture_app.queue_attempts)


# -- stopping --------------------------------------------------------------------------------


def test_stop_lets_in_flight_requests_finish(storage: str) -> None:
    settings = {"AzureWebJobsStorage": storage, **only_enabled("slow")}
    running = RunningHost(LocalFunctionsHost(fixture_app.app, HOST_JSON, settings, port=0))
    with running as stopping_host:
        url = f"http://127.0.0.1:{stopping_host.port}/v1/slow"
        responses: list[httpx.Response] = []
        request = threading.Thread(target=lambda: responses.append(httpx.get(url, timeout=10)))
        request.start()
        assert fixture_app.slow_request_started.wait(timeout=10)
    request.join(timeout=10)
    assert [(r.status_code, r.text) for r in responses] == [(200, "finished")]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


# -- command line ----------------------------------------------------------------------------


def test_command_line_lists_functions_serves_and_stops_on_sigterm(storage: str, tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": ""}}}))
    port = StackPorts.free().functions
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AzureWebJobsStorage": storage,
        "WORK_QUEUE": "cli-work-items",
        "DONE_QUEUE": "cli-done-items",
        "STARTUP_TIMER_SCHEDULE": "00:10:00",
        "AzureWebJobs.slow_tick.Disabled": "true",
        "AzureWebJobs.flaky_tick.Disabled": "true",
    }
    argv = [sys.executable, "-m", "devstack.functions_host", "--app", "tests.devstack.functions_host_app:app"]
    argv += ["--script-root", str(tmp_path), "--port", str(port)]
    log_path = tmp_path / "host.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        lines = read_lines_until(process, lambda line: line.startswith("  work:"))
        assert lines[0] == f"Functions host listening on http://127.0.0.1:{port}/"
        assert f"  get_item: [GET] http://127.0.0.1:{port}/items/{{id:int}}/{{label?}}" in lines
        assert f"  any_method: http://127.0.0.1:{port}/any" in lines
        assert "  startup_tick: timer 00:10:00" in lines
        assert "  work: queue cli-work-items" in lines
        assert httpx.get(f"http://127.0.0.1:{port}/items/3").json()["route_params"] == {"id": "3"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    host_log = log_path.read_text()
    assert "Executed 'startup_tick' (Succeeded" in host_log
    assert "Executed 'get_item' (Succeeded" in host_log
    assert "Traceback" not in host_log


def read_lines_until(process: subprocess.Popen[str], last: Callable[[str], bool], timeout: float = 30) -> list[str]:
    """stdout lines up to the one `last` accepts; a reader thread keeps the wait bounded."""
    assert process.stdout is not None
    received: queue_module.Queue[str] = queue_module.Queue()
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            received.put(line)

    threading.Thread(target=pump, daemon=True).start()
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            lines.append(received.get(timeout=0.5).rstrip("\n"))
        except queue_module.Empty:
            continue
        if last(lines[-1]):
            return lines
    raise AssertionError(f"the host did not list its functions: {lines}")
