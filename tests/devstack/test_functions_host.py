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
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import azure.functions as func
import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from devstack.functions_host import HostConfigError, LocalFunctionsHost
from devstack.functions_host.catalog import HttpTriggerSpec, TimerTriggerSpec
from devstack.functions_host.options import QueueOptions
from devstack.functions_host.schedules import CronSchedule, resolve_app_settings
from devstack.services import StackPorts, azurite_connection_string, start_azurite
from tests.devstack import functions_host_app as fixture_app
from tests.devstack.raw_http import exchange, get

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_KEYS = "function-key-1,function-key-2"
MASTER_KEY = "master-key"
MADE_UP_ADDRESS = "ada.lovelace@example.org"
HOST_JSON: dict[str, Any] = {
    "version": "2.0",
    "extensions": {
        "http": {"routePrefix": "v1"},
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


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The host's own answer: an RFC 9457 problem that holds the status and nothing of the request."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    document: dict[str, Any] = response.json()
    assert document["type"] == "about:blank"
    assert document["status"] == status
    assert set(document) <= {"type", "title", "status", "detail"}
    return document


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ports = StackPorts.free()
    azurite = start_azurite(ports, tmp_path_factory.mktemp("azurite-logs"), data_dir=None)
    connection = azurite_connection_string(ports)
    for name in ("work-items", "cli-work-items"):  # the host polls trigger queues; it does not make them
        queue(connection, name).create_queue()
    yield connection
    azurite.stop()


@pytest.fixture(scope="module")
def host(storage: str) -> Iterator[LocalFunctionsHost]:
    settings = {
        "AzureWebJobsStorage": storage,
        "LOCAL_HOST_FUNCTION_KEYS": FUNCTION_KEYS,
        "LOCAL_HOST_MASTER_KEY": MASTER_KEY,
    }
    with RunningHost(LocalFunctionsHost(fixture_app.app, HOST_JSON, settings, port=0)) as running:
        yield running


@pytest.fixture
def client(host: LocalFunctionsHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{host.port}", timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def open_host() -> Iterator[LocalFunctionsHost]:
    """HTTP functions only, no keys, the default route prefix, a small body limit and a short body timeout."""
    settings = {"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "1024", "LOCAL_HOST_REQUEST_BODY_TIMEOUT_SECONDS": "0.5"}
    with RunningHost(LocalFunctionsHost(fixture_app.http_app, {"version": "2.0"}, settings, port=0)) as running:
        yield running


@pytest.fixture
def open_client(open_host: LocalFunctionsHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{open_host.port}", timeout=10) as http:
        yield http


# -- routes ----------------------------------------------------------------------------------


def test_route_prefix_comes_from_host_json(client: httpx.Client) -> None:
    assert client.get("/v1/items/7").json()["route_params"] == {"id": "7"}
    problem_of(client.get("/api/items/7"), 404)
    assert client.get("/V1/ITEMS/7").status_code == 200  # literal segments match case-insensitively
    assert client.get("/v1/items/7/").status_code == 200


def test_a_literal_segment_beats_a_parameter(client: httpx.Client) -> None:
    assert client.get("/v1/items/special").json()["function"] == "special_item"
    assert client.get("/v1/Items/SPECIAL").json()["function"] == "special_item"
    assert client.get("/v1/items/specials").json()["function"] == "get_item"


def test_route_values_are_decoded(client: httpx.Client) -> None:
    assert client.get("/v1/items/a%20b").json()["route_params"] == {"id": "a b"}
    assert client.get("/v1/items/%C3%A9t%C3%A9").json()["route_params"] == {"id": "été"}


def test_a_method_a_function_does_not_list_is_not_found_like_the_host(client: httpx.Client) -> None:
    # The host's routes have a method constraint: a method not listed matches no route, hence 404, not 405.
    problem_of(client.post("/v1/items/1"), 404)
    problem_of(client.request("TRACE", "/v1/items/1"), 404)
    put = client.put("/v1/items/1")
    assert (put.status_code, put.json()["function"]) == (201, "put_item")  # the same route, another function


def test_a_function_without_methods_takes_every_method(client: httpx.Client) -> None:
    for method in ("GET", "POST", "DELETE", "PATCH", "OPTIONS"):
        assert client.request(method, "/v1/any").text == method


def test_every_path_without_a_function_gets_a_problem_and_no_echo(
    client: httpx.Client, host: LocalFunctionsHost
) -> None:
    for path in ("/", "/v1", "/v1/nothing-here", "/v1/items/1/2", "/v1/x%0Ay", "/v1/%zz", "/v1/%C3%28", "/admin/x"):
        assert problem_of(client.get(path), 404) == {"type": "about:blank", "title": "Not Found", "status": 404}
    with_newline = exchange(host.port, get(b"/v1/" + MADE_UP_ADDRESS.encode() + b"%0A%0D"))
    assert with_newline.status == 404
    assert MADE_UP_ADDRESS.encode() not in with_newline.body
    with_newline.problem()


def test_a_route_left_unset_is_the_function_name_as_in_the_host() -> None:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route()
    def hello(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("hi")

    (spec,) = LocalFunctionsHost(app, {}, {}).functions
    assert isinstance(spec.trigger, HttpTriggerSpec)
    assert spec.trigger.route.template == "hello"


@pytest.mark.parametrize(
    ("route", "named"),
    [
        ("items/{id?}", "an optional parameter"),
        ("items/{id=1}", "a parameter with a default"),
        ("items/{id:int}", "a constrained parameter"),
        ("files/{*path}", "a catch-all parameter"),
        ("files/{name}.{ext}", "a complex segment"),
        ("items/{id}/{ID}", "uses a parameter name twice"),
    ],
)
def test_route_forms_the_host_does_not_implement_are_refused(route: str, named: str) -> None:
    def build(app: func.FunctionApp) -> None:
        @app.route(route=route)
        def f(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse("never")

    message = refusal(build)
    assert message.startswith("function 'f': ")
    assert named in message


# -- what the host refuses -------------------------------------------------------------------


def refusal(build: Callable[[func.FunctionApp], None], host_json: dict[str, Any] | None = None, **settings: str) -> str:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    build(app)
    with pytest.raises(HostConfigError) as refused:
        LocalFunctionsHost(app, host_json or {}, {"AzureWebJobsStorage": "UseDevelopmentStorage=true", **settings})
    return str(refused.value)


def _async_function(app: func.FunctionApp) -> None:
    @app.route(route="later")
    async def f(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("never")


def _retry_policy(app: func.FunctionApp) -> None:
    @app.timer_trigger(schedule="0 0 * * * *", arg_name="timer")
    @app.retry(strategy="fixed_delay", max_retry_count="2", delay_interval="00:00:01")
    def f(timer: func.TimerRequest) -> None:
        pass


def _queue_output(app: func.FunctionApp) -> None:
    @app.route(route="send")
    @app.queue_output(arg_name="out", queue_name="done", connection="AzureWebJobsStorage")
    def f(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
        return func.HttpResponse("never")


def _blob_input(app: func.FunctionApp) -> None:
    @app.route(route="report")
    @app.blob_input(arg_name="report", path="reports/latest.json", connection="AzureWebJobsStorage")
    def f(req: func.HttpRequest, report: str) -> func.HttpResponse:
        return func.HttpResponse("never")


def _context_parameter(app: func.FunctionApp) -> None:
    @app.route(route="ctx")
    def f(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return func.HttpResponse("never")


def _admin_level(app: func.FunctionApp) -> None:
    @app.route(route="staff-only", auth_level=func.AuthLevel.ADMIN)
    def f(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("never")


def _admin_route(app: func.FunctionApp) -> None:
    @app.route(route="admin/tools")
    def f(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("never")


def _timer(schedule: str, **options: Any) -> Callable[[func.FunctionApp], None]:
    def build(app: func.FunctionApp) -> None:
        @app.timer_trigger(schedule=schedule, arg_name="timer", **options)
        def f(timer: func.TimerRequest) -> None:
            pass

    return build


def _queue_trigger(queue_name: str, connection: str = "AzureWebJobsStorage") -> Callable[[func.FunctionApp], None]:
    def build(app: func.FunctionApp) -> None:
        @app.queue_trigger(arg_name="msg", queue_name=queue_name, connection=connection)
        def f(msg: func.QueueMessage) -> None:
            pass

    return build


def _blob_trigger(app: func.FunctionApp) -> None:
    @app.blob_trigger(arg_name="blob", path="uploads/{name}", connection="AzureWebJobsStorage")
    def f(blob: func.InputStream) -> None:
        pass


@pytest.mark.parametrize(
    ("build", "named"),
    [
        (_async_function, "async functions are not supported"),
        (_retry_policy, "retry policies are not supported"),
        (_queue_output, "binding 'out' of type 'queue' is not supported"),
        (_blob_input, "binding 'report' of type 'blob' is not supported"),
        (_context_parameter, "the invocation context and other parameters are not supported"),
        (_admin_level, "auth level 'admin' is not supported"),
        (_admin_route, "conflicts with the host's built-in admin routes"),
        (_timer("00:05:00"), "not a six-field NCRONTAB expression"),
        (_timer("*/5 * * * *"), "not a six-field NCRONTAB expression"),
        (_timer("0 0 0 30 2 *"), "never occurs"),
        (_timer("0 0 * * * *", use_monitor=False), "use_monitor is not supported"),
        (_timer("%NIGHTLY_SCHEDULE%"), "schedule '%NIGHTLY_SCHEDULE%' does not resolve to a value"),
        (_timer("0 %MINUTE * * * *"), "the '%' at position 2 of the schedule does not have a closing '%'"),
        (_queue_trigger("q" * 57), "cannot be a trigger queue"),
        (_queue_trigger("work-poison"), "cannot be a trigger queue"),
        (_queue_trigger("work", connection="OtherStorage"), "'OtherStorage' is not set"),
        (_blob_trigger, "trigger type 'blobTrigger' is not supported"),
    ],
    ids=lambda value: value if isinstance(value, str) else getattr(value, "__name__", "build"),
)
def test_features_the_host_does_not_implement_are_refused_naming_the_function(
    build: Callable[[func.FunctionApp], None], named: str
) -> None:
    message = refusal(build)
    assert message.startswith("function 'f': ")
    assert named in message


@pytest.mark.parametrize(
    ("host_json", "settings", "named"),
    [
        ({"extensions": {"http": {"customHeaders": {"X-A": "b"}}}}, {}, "extensions.http.customHeaders"),
        ({"extensions": {"queues": {"newBatchThreshold": 4}}}, {}, "extensions.queues.newBatchThreshold"),
        ({"extensions": {"queues": {"messageEncoding": "none"}}}, {}, "messageEncoding 'none' is not supported"),
        ({}, {"LOCAL_HOST_REQUEST_BODY_TIMEOUT_SECONDS": "soon"}, "must be a positive number"),
        ({}, {"LOCAL_HOST_QUEUE_LEASE_SECONDS": "0"}, "must be a positive number"),
        ({}, {"AzureWebJobs.f.Disabled": "true"}, "app setting AzureWebJobs.f.Disabled is not supported"),
        ({}, {"WEBSITE_TIME_ZONE": "Europe/Berlin"}, "app setting WEBSITE_TIME_ZONE is not supported"),
        ({}, {"Host__CORS": "https://app.example"}, "app setting Host__CORS is not supported"),
    ],
)
def test_host_options_the_host_does_not_implement_are_refused(
    host_json: dict[str, Any], settings: dict[str, str], named: str
) -> None:
    assert named in refusal(_timer("0 0 * * * *"), host_json, **settings)


def test_the_queue_lease_after_a_crash_is_a_setting() -> None:
    assert QueueOptions.from_config({}, {}).lease == timedelta(minutes=10)
    assert QueueOptions.from_config({}, {"LOCAL_HOST_QUEUE_LEASE_SECONDS": "3"}).lease == timedelta(seconds=3)


# -- keys ------------------------------------------------------------------------------------


def test_function_level_needs_a_key(client: httpx.Client) -> None:
    problem_of(client.get("/v1/secure/ada"), 401)
    problem_of(client.get("/v1/secure/ada", headers={"x-functions-key": "wrong"}), 401)
    problem_of(client.get("/v1/secure/ada?code=wrong"), 401)


def test_function_key_in_header_or_code_parameter(client: httpx.Client) -> None:
    by_header = client.get("/v1/secure/ada", headers={"x-functions-key": "function-key-2"})
    assert (by_header.status_code, by_header.text) == (200, "hello ada")
    assert client.get("/v1/secure/ada", params={"code": "function-key-1"}).status_code == 200
    assert client.get("/v1/secure/ada", headers={"x-functions-key": MASTER_KEY}).status_code == 200
    # The header wins over the query parameter, as in the host.
    problem_of(client.get("/v1/secure/ada?code=function-key-1", headers={"x-functions-key": "wrong"}), 401)


def test_without_configured_keys_function_level_is_open(open_client: httpx.Client) -> None:
    assert open_client.get("/api/secure/ada").text == "hello ada"


# -- requests and responses ------------------------------------------------------------------


def test_request_reaches_the_function_as_an_http_request(client: httpx.Client, host: LocalFunctionsHost) -> None:
    response = client.post(
        "/v1/echo?topic=a&topic=b&single=1", content=b"raw body \xe2\x9c\x93", headers={"X-Custom": "yes"}
    )
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["url"] == f"http://127.0.0.1:{host.port}/v1/echo?topic=a&topic=b&single=1"
    assert seen["params"] == {"topic": "a,b", "single": "1"}
    assert seen["headers"]["x-custom"] == "yes"
    assert seen["body"] == "raw body \u2713"
    assert response.headers["x-echoed"] == "yes"
    assert response.headers["content-type"] == "application/json"


def test_sync_functions_run_in_the_worker_pool(client: httpx.Client) -> None:
    client.get("/v1/items/5").raise_for_status()
    assert fixture_app.worker_threads[-1].startswith("functions-worker")


def test_unhandled_exception_is_a_500_problem(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="devstack.functions_host")
    problem_of(client.get("/v1/boom"), 500)
    assert "RuntimeError: boom: the details stay in the host log" in caplog.text
    assert re.search(r"Executed 'boom' \(Failed, Id=[0-9a-f-]{36}, Duration=\d+ms\)", caplog.text)


def test_a_return_value_that_is_not_a_response_is_a_500_problem(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="devstack.functions_host")
    problem_of(client.get("/v1/text"), 500)
    assert "returned str, not an HttpResponse" in caplog.text


def test_request_body_over_the_limit_is_a_413_problem(open_client: httpx.Client) -> None:
    assert open_client.post("/api/any", content=b"x" * 1024).text == "POST"
    problem_of(open_client.post("/api/any", content=b"x" * 1025), 413)


def test_a_body_that_never_finishes_times_out_and_reaches_no_function(open_host: LocalFunctionsHost) -> None:
    calls = len(fixture_app.echo_calls)
    started = time.monotonic()
    stalled = b"POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789"
    response = exchange(open_host.port, stalled, timeout=5, until_closed=True)  # a socket timeout fails the test
    assert response.status == 408
    assert response.headers["connection"] == "close"
    response.problem()
    assert time.monotonic() - started < 5  # LOCAL_HOST_REQUEST_BODY_TIMEOUT_SECONDS is 0.5 here
    assert len(fixture_app.echo_calls) == calls


def test_bytes_that_are_not_utf8_in_headers_reach_the_function_replaced(open_host: LocalFunctionsHost) -> None:
    response = exchange(
        open_host.port, get(b"/api/echo", b"User-Agent: agent \xff\xfe", b"Authorization: Bearer \xc3\x28")
    )
    assert response.status == 200
    headers = json.loads(response.body)["headers"]
    assert headers["user-agent"] == "agent \ufffd\ufffd"
    assert headers["authorization"] == "Bearer \ufffd("


def test_a_key_that_is_not_utf8_is_refused_not_a_crash(host: LocalFunctionsHost) -> None:
    refused = exchange(host.port, get(b"/v1/secure/ada", b"x-functions-key: \xff"))
    assert refused.status == 401
    refused.problem()


def test_requests_the_parser_refuses_are_problems_that_never_reach_a_log(
    host: LocalFunctionsHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    address = MADE_UP_ADDRESS.encode()
    oversized_header = get(b"/v1/items/1", b"X-Note: " + address + b"a" * 9000)
    oversized_path = get(b"/v1/items/" + address + b"a" * 9000)
    malformed_line = b"GET /v1/" + address + b" HTTP/1.1 trailing\r\nHost: 127.0.0.1\r\n\r\n"
    raw_newline = b"GET /v1/" + address + b"\n/more HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for request, status in ((oversized_header, 431), (oversized_path, 414), (malformed_line, 400), (raw_newline, 400)):
        response = exchange(host.port, request)
        assert response.status == status
        response.problem()
        assert address not in response.body
    # Everything logged at any level, except by the storage SDK polling Azurite in the background.
    logged = "\n".join(
        caplog.handler.format(record) for record in caplog.records if not record.name.startswith("azure")
    )
    assert "Refused a request the HTTP parser could not read (status 431)" in logged
    assert MADE_UP_ADDRESS not in logged
    assert "127.0.0.1" not in logged  # nor the client's address


def test_log_lines_hold_no_bodies_queries_or_keys(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client.post("/v1/echo?email=ada%40example.org", content=b"secret-body-text")
    client.get("/v1/secure/ada", headers={"x-functions-key": "function-key-1"})
    # Everything logged at any level, except by the test's own HTTP client.
    host_log = "\n".join(
        caplog.handler.format(record) for record in caplog.records if not record.name.startswith(("httpx", "httpcore"))
    )
    assert re.search(r"Executed 'echo' \(Succeeded, Id=[0-9a-f-]{36}, Duration=\d+ms\)", host_log)
    for private in ("ada%40example.org", "ada@example.org", "secret-body-text", "function-key-1", "/v1/"):
        assert private not in host_log


# -- running timer and queue functions on demand ---------------------------------------------


def admin_run(client: httpx.Client, name: str, body: Any = None, key: str | None = MASTER_KEY) -> httpx.Response:
    headers = {"x-functions-key": key} if key else {}
    return client.post(f"/admin/functions/{name}", json={} if body is None else body, headers=headers)


def test_a_queue_function_runs_on_demand_with_the_input_as_its_message(client: httpx.Client) -> None:
    response = admin_run(client, "work", {"input": "run by hand"})
    assert (response.status_code, response.content) == (202, b"")
    eventually(lambda: ("run by hand", 0) in fixture_app.queue_attempts)
    assert admin_run(client, "WORK", {"input": 42}).status_code == 202  # names are found case-insensitively
    eventually(lambda: ("42", 0) in fixture_app.queue_attempts)


def test_a_timer_function_runs_on_demand_and_is_not_past_due(client: httpx.Client) -> None:
    before = len([run for run in fixture_app.timer_runs if run.function == "startup_tick"])
    assert admin_run(client, "startup_tick", {"input": "ignored"}).status_code == 202
    eventually(lambda: len([run for run in fixture_app.timer_runs if run.function == "startup_tick"]) > before)
    assert fixture_app.timer_runs[-1].past_due is False


def test_running_on_demand_needs_the_master_key(client: httpx.Client) -> None:
    problem_of(admin_run(client, "work", {"input": "x"}, key=None), 401)
    problem_of(admin_run(client, "work", {"input": "x"}, key="function-key-1"), 401)  # a function key is not enough
    problem_of(admin_run(client, "no-such-function", key=None), 401)  # keys first, as in the host


def test_running_on_demand_refuses_what_it_cannot_run(client: httpx.Client) -> None:
    problem_of(admin_run(client, "no_such_function"), 404)
    assert "own route" in problem_of(admin_run(client, "echo"), 400)["detail"]
    problem_of(admin_run(client, "work", {"input": {"nested": True}}), 400)
    problem_of(admin_run(client, "work", ["input"]), 400)
    master = {"x-functions-key": MASTER_KEY}
    problem_of(client.post("/admin/functions/work", content=b"{not json", headers=master), 415)
    problem_of(
        client.post(
            "/admin/functions/work", content=b"{not json", headers={**master, "Content-Type": "application/json"}
        ),
        400,
    )
    wrong_method = client.get("/admin/functions/work", headers=master)
    problem_of(wrong_method, 405)
    assert wrong_method.headers["allow"] == "POST"


# -- timers ----------------------------------------------------------------------------------


def test_timer_with_run_on_startup_fired_at_start(host: LocalFunctionsHost) -> None:
    eventually(lambda: any(run.function == "startup_tick" for run in fixture_app.timer_runs))
    run = next(run for run in fixture_app.timer_runs if run.function == "startup_tick")
    assert run.past_due is False


def test_timer_runs_never_overlap_and_a_late_run_is_past_due() -> None:
    with RunningHost(LocalFunctionsHost(fixture_app.slow_timer_app, HOST_JSON, {}, port=0)):
        eventually(lambda: len([r for r in fixture_app.timer_runs if r.function == "slow_tick"]) >= 3)
    runs = [run for run in fixture_app.timer_runs if run.function == "slow_tick"]
    assert runs[0].finished - runs[0].started >= 2.5
    assert all(later.started >= earlier.finished for earlier, later in itertools.pairwise(runs))
    # The ticks missed during the slow first run collapse into one immediate run, reported late.
    assert [run.past_due for run in runs[:3]] == [False, True, False]


def timer_schedule(schedule: str, settings: dict[str, str]) -> str:
    app = func.FunctionApp()
    _timer(schedule)(app)
    (spec,) = LocalFunctionsHost(app, {}, settings).functions
    assert isinstance(spec.trigger, TimerTriggerSpec)
    return spec.trigger.schedule.expression


def test_a_schedule_in_percent_signs_is_read_from_the_app_setting_of_that_name() -> None:
    assert timer_schedule("%NIGHTLY_SCHEDULE%", {"NIGHTLY_SCHEDULE": "0 30 2 * * *"}) == "0 30 2 * * *"
    # As the host's name resolver: every %NAME% in the text, case-insensitive names, the rest kept.
    assert timer_schedule("0 %minute% %HOUR% * * *", {"MINUTE": "15", "hour": "4"}) == "0 15 4 * * *"
    assert resolve_app_settings("0 0 * * * *", {}) == "0 0 * * * *"


def test_a_schedule_setting_must_hold_an_ncrontab_expression() -> None:
    message = refusal(_timer("%NIGHTLY_SCHEDULE%"), NIGHTLY_SCHEDULE="every night")
    assert message.startswith("function 'f': ")
    assert "'every night' is not a six-field NCRONTAB expression" in message
    assert "not a six-field" in refusal(_timer("%NIGHTLY_SCHEDULE%"), NIGHTLY_SCHEDULE="")


def test_schedules_read_like_the_host() -> None:
    base = datetime(2024, 5, 6, 12, 3, 10).astimezone()
    assert CronSchedule("0 */5 * * * *").next_after(base).time().isoformat() == "12:05:00"
    assert CronSchedule("30 0 9 * * 1-5").next_after(base).isoformat()[:19] == "2024-05-07T09:00:30"
    # NCrontab requires day and weekday both: the 13th that is a Friday.
    assert CronSchedule("0 0 0 13 * 5").next_after(base).date().isoformat() == "2024-09-13"
    with pytest.raises(HostConfigError):
        CronSchedule("0 0 L * * *")


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


def test_failing_message_moves_to_poison_after_max_dequeue_count(host: LocalFunctionsHost, storage: str) -> None:
    queue(storage, "work-items").send_message("please fail")
    eventually(lambda: "please fail" in peeked_texts(queue(storage, "work-items-poison")))
    assert [count for body, count in fixture_app.queue_attempts if body == "please fail"] == [1, 2]
    eventually(lambda: message_count(storage, "work-items") == 0)


def test_message_that_is_not_base64_goes_straight_to_poison(host: LocalFunctionsHost, storage: str) -> None:
    QueueClient.from_connection_string(storage, "work-items").send_message("not base64 at all!")
    poison = QueueClient.from_connection_string(storage, "work-items-poison")
    eventually(lambda: "not base64 at all!" in peeked_texts(poison))
    assert all(body != "not base64 at all!" for body, _ in fixture_app.queue_attempts)


# -- stopping --------------------------------------------------------------------------------


def test_stop_lets_in_flight_requests_finish() -> None:
    running = RunningHost(LocalFunctionsHost(fixture_app.http_app, HOST_JSON, {}, port=0))
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


def host_command(app: str, script_root: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "devstack.functions_host",
        "--app",
        app,
        "--script-root",
        str(script_root),
        "--port",
        str(port),
    ]


def test_command_line_lists_functions_serves_and_stops_on_sigterm(storage: str, tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": ""}}}))
    port = StackPorts.free().functions
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AzureWebJobsStorage": storage}
    log_path = tmp_path / "host.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            host_command("tests.devstack.functions_host_app:cli_app", tmp_path, port),
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        lines = read_lines_until(process, lambda line: "admin/functions" in line)
        assert lines[0] == f"Functions host listening on http://127.0.0.1:{port}/"
        assert f"  get_item: [GET] http://127.0.0.1:{port}/items/{{id}}" in lines
        assert "  cli_tick: timer 0 0 3 1 1 *" in lines
        assert "  cli_work: queue cli-work-items" in lines
        assert (
            f"  run a timer or queue function now: POST http://127.0.0.1:{port}/admin/functions/<name> (master key)"
            in lines
        )
        assert httpx.get(f"http://127.0.0.1:{port}/items/3").json()["route_params"] == {"id": "3"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    host_log = log_path.read_text()
    assert "Executed 'cli_tick' (Succeeded" in host_log
    assert "Executed 'get_item' (Succeeded" in host_log
    assert "Traceback" not in host_log


def test_command_line_refuses_an_app_it_cannot_run(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0"}))
    port = StackPorts.free().functions
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = host_command("tests.devstack.functions_host_app:async_app", tmp_path, port)
    finished = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 1
    assert finished.stderr.strip() == (
        "error: function 'later': async functions are not supported by the local host; define it with def"
    )


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
