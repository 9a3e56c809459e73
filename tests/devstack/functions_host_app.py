"""A small v2-model FunctionApp that the local Functions host's tests run.

It records what its timer and queue functions saw, so the tests can check what the host passed in.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass

import azure.functions as func
from azure.functions.timer import TimerRequest

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@dataclass(frozen=True)
class TimerRun:
    function: str
    past_due: bool
    schedule_status: dict[str, str]
    started: float
    finished: float


timer_runs: list[TimerRun] = []
retry_attempts: list[tuple[int, int, str]] = []  # (retry count, max retry count, previous error) per try
slow_request_started = threading.Event()
queue_attempts: list[tuple[str, int]] = []  # (body, dequeue count) per invocation
queue_messages: list[func.QueueMessage] = []
worker_threads: list[str] = []


def _json(value: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), status_code=status, mimetype="application/json")


@app.route(route="items/{id:int}/{label?}", methods=["GET"])
def get_item(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    worker_threads.append(threading.current_thread().name)
    return _json(
        {
            "route_params": dict(req.route_params),
            "function_name": context.function_name,
            "invocation_id": context.invocation_id,
            "function_directory": context.function_directory,
        }
    )


@app.route(route="files/{*path}", methods=["GET"])
def get_file(req: func.HttpRequest) -> func.HttpResponse:
    return _json(dict(req.route_params))


@app.route(route="orders/{order_id:guid}", methods=["GET", "PUT"])
async def put_order(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(0)
    return func.HttpResponse(
        json.dumps({"order_id": req.route_params["order_id"], "method": req.method}),
        status_code=201,
        headers={"Location": f"/orders/{req.route_params['order_id']}", "Set-Cookie": "a=1"},
        mimetype="application/json",
    )


@app.route(route="cookies", methods=["GET"])
def cookies(req: func.HttpRequest) -> func.HttpResponse:
    response = func.HttpResponse("two cookies", charset="utf-8")
    response.headers.add("Set-Cookie", "first=1; Path=/")
    response.headers.add("Set-Cookie", "second=2; Path=/")
    return response


@app.route(route="secure/{name:alpha}", auth_level=func.AuthLevel.FUNCTION)
def secure(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"hello {req.route_params['name']}")


@app.route(route="staff-only", auth_level=func.AuthLevel.ADMIN)
def staff_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("staff")


@app.route(route="echo", methods=["POST"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return _json(
        {
            "method": req.method,
            "url": req.url,
            "params": dict(req.params),
            "x_custom": req.headers.get("X-Custom"),
            "body": req.get_body().decode("utf-8"),
        }
    )


@app.route(route="any")
def any_method(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.method)


@app.route(route="plain", methods=["GET"])
def plain(req: func.HttpRequest) -> str:
    return "just text"


@app.route(route="slow", methods=["GET"])
def slow(req: func.HttpRequest) -> func.HttpResponse:
    slow_request_started.set()
    time.sleep(1.0)
    return func.HttpResponse("finished")


@app.route(route="boom")
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom: the details stay in the host log")


@app.timer_trigger(schedule="%STARTUP_TIMER_SCHEDULE%", arg_name="timer", run_on_startup=True)
def startup_tick(timer: TimerRequest) -> None:
    now = time.monotonic()
    timer_runs.append(TimerRun("startup_tick", timer.past_due, timer.schedule_status, now, now))


@app.timer_trigger(schedule="*/1 * * * * *", arg_name="timer")
def slow_tick(timer: TimerRequest) -> None:
    """Every second, but the first run takes 2.5 s: the host must not overlap runs and reports the next as late."""
    started = time.monotonic()
    if not any(run.function == "slow_tick" for run in timer_runs):
        time.sleep(2.5)
    timer_runs.append(TimerRun("slow_tick", timer.past_due, timer.schedule_status, started, time.monotonic()))


@app.timer_trigger(schedule="0 0 3 1 1 *", arg_name="timer", run_on_startup=True)
@app.retry(strategy="fixed_delay", max_retry_count="2", delay_interval="00:00:00.2")
def flaky_tick(timer: TimerRequest, context: func.Context) -> None:
    """Fails its first two tries: the host's retry policy for timers runs it again."""
    retry = context.retry_context
    retry_attempts.append((retry.retry_count, retry.max_retry_count, retry.exception.message))
    if retry.retry_count < 2:
        raise RuntimeError(f"try {retry.retry_count} failed")


@app.queue_trigger(arg_name="msg", queue_name="%WORK_QUEUE%", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="done", queue_name="%DONE_QUEUE%", connection="AzureWebJobsStorage")
def work(msg: func.QueueMessage, done: func.Out[str]) -> None:
    body = msg.get_body().decode("utf-8")
    queue_attempts.append((body, msg.dequeue_count or 0))
    queue_messages.append(msg)
    if "fail" in body:
        raise ValueError("this message cannot be handled")
    done.set(f"done:{body}")
