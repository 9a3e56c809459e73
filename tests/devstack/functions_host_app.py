"""Small v2-model FunctionApps that the local Functions host's tests run.

The functions record what they saw, so the tests can check what the host passed in. Each app has its
own queues and timers, so two hosts never compete for the same work.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import azure.functions as func
from azure.functions.timer import TimerRequest


@dataclass(frozen=True)
class TimerRun:
    function: str
    past_due: bool
    started: float
    finished: float


timer_runs: list[TimerRun] = []
slow_request_started = threading.Event()
queue_attempts: list[tuple[str, int]] = []  # (body, dequeue count) per invocation
queue_messages: list[func.QueueMessage] = []
worker_threads: list[str] = []
echo_calls: list[bytes] = []


def _json(value: object, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), status_code=status, mimetype="application/json", headers=headers)


def get_item(req: func.HttpRequest) -> func.HttpResponse:
    worker_threads.append(threading.current_thread().name)
    return _json({"function": "get_item", "route_params": dict(req.route_params)})


def put_item(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"function": "put_item", "route_params": dict(req.route_params)}, status=201)


def special_item(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"function": "special_item"})


def secure(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"hello {req.route_params['name']}")


def echo(req: func.HttpRequest) -> func.HttpResponse:
    echo_calls.append(req.get_body())
    return _json(
        {
            "method": req.method,
            "url": req.url,
            "params": dict(req.params),
            "headers": dict(req.headers),
            "body": req.get_body().decode("utf-8", "replace"),
        },
        headers={"X-Echoed": "yes"},
    )


def any_method(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.method)


def text(req: func.HttpRequest) -> func.HttpResponse:
    return "a str is not an HttpResponse"  # type: ignore[return-value]


def slow(req: func.HttpRequest) -> func.HttpResponse:
    slow_request_started.set()
    time.sleep(1.0)
    return func.HttpResponse("finished")


def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom: the details stay in the host log")


def register_http(app: func.FunctionApp) -> func.FunctionApp:
    """The HTTP functions, on any app: every route form the host supports."""
    app.route(route="items/{id}", methods=["GET"])(get_item)
    app.route(route="items/{id}", methods=["PUT"])(put_item)
    app.route(route="items/special", methods=["GET"])(special_item)
    app.route(route="secure/{name}", auth_level=func.AuthLevel.FUNCTION)(secure)
    app.route(route="echo", methods=["POST", "GET"])(echo)
    app.route(route="any")(any_method)
    app.route(route="text", methods=["GET"])(text)
    app.route(route="slow", methods=["GET"])(slow)
    app.route(route="boom")(boom)
    return app


app = register_http(func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS))
http_app = register_http(func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS))


@app.timer_trigger(schedule="0 0 3 1 1 *", arg_name="timer", run_on_startup=True)
def startup_tick(timer: TimerRequest) -> None:
    now = time.monotonic()
    timer_runs.append(TimerRun("startup_tick", timer.past_due, now, now))


@app.queue_trigger(arg_name="msg", queue_name="work-items", connection="AzureWebJobsStorage")
def work(msg: func.QueueMessage) -> None:
    body = msg.get_body().decode("utf-8")
    queue_attempts.append((body, msg.dequeue_count or 0))
    queue_messages.append(msg)
    if "fail" in body:
        raise ValueError("this message cannot be handled")


slow_timer_app = func.FunctionApp()


@slow_timer_app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer")
def slow_tick(timer: TimerRequest) -> None:
    """Every second, but the first run takes 2.5 s: the host must not overlap runs and reports the next as late."""
    started = time.monotonic()
    if not any(run.function == "slow_tick" for run in timer_runs):
        time.sleep(2.5)
    timer_runs.append(TimerRun("slow_tick", timer.past_due, started, time.monotonic()))


cli_app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
cli_app.route(route="items/{id}", methods=["GET"])(get_item)


@cli_app.timer_trigger(schedule="0 0 3 1 1 *", arg_name="timer", run_on_startup=True)
def cli_tick(timer: TimerRequest) -> None:
    timer_runs.append(TimerRun("cli_tick", timer.past_due, time.monotonic(), time.monotonic()))


@cli_app.queue_trigger(arg_name="msg", queue_name="cli-work-items", connection="AzureWebJobsStorage")
def cli_work(msg: func.QueueMessage) -> None:
    queue_attempts.append((msg.get_body().decode("utf-8"), msg.dequeue_count or 0))


async_app = func.FunctionApp()


@async_app.route(route="later")
async def later(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("never served")
