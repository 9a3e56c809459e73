"""The app's functions as the host indexes them, without importing the capabilities behind them.

On every cold start the host imports ``function_app`` and lists its functions. Importing every
capability for that (its models, records, use cases: a few hundred classes) would make each cold
start pay for all of them, whichever function it was started for. So the app declares each function
from ``function_index.json``, with the trigger its capability's blueprint gives it, and imports that
blueprint on the function's first call: a cold start for the banner loads the cookie capability,
not the breach notices.

The blueprints stay the one source: ``python -m function_index`` writes the JSON from them, and a
unit test fails, naming that command, when the two differ in any binding the host would see.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions.decorators.http import HttpTrigger
from azure.functions.decorators.queue import QueueTrigger
from azure.functions.decorators.timer import TimerTrigger

INDEX = Path(__file__).resolve().parent / "function_index.json"
# One Blueprint per capability, in the order they are registered.
BLUEPRINTS = (
    "functions.consent.blueprint",
    "functions.cookies.blueprint",
    "functions.requests.blueprint",
    "functions.retention.blueprint",
    "functions.incidents.blueprint",
    "functions.fanout.blueprint",
    "functions.notices.blueprint",
    "functions.proof.blueprint",
    "functions.web.blueprint",
    "functions.audit.blueprint",
    "functions.health.blueprint",
    "functions.apidocs.blueprint",
)

_loaded: dict[str, dict[str, Callable[..., Any]]] = {}
_lock = threading.RLock()  # a blueprint that, importing, asked for another would not wait on itself


def blueprint_functions(module: str) -> dict[str, Callable[..., Any]]:
    """The functions a capability's blueprint declares, by name, importing it the first time."""
    found = _loaded.get(module)
    if found is None:
        with _lock:
            found = _loaded.get(module)
            if found is None:
                functions = blueprint_app(module).get_functions()
                found = {str(f.get_function_name()): f.get_user_function() for f in functions}
                _loaded[module] = found
    return found


def blueprint_app(module: str) -> func.FunctionApp:
    """An app of that one blueprint, as the host would index it."""
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    app.register_functions(importlib.import_module(module).bp)
    return app


def load_all() -> None:
    """Imports every capability: the OpenAPI document describes them all."""
    for module in BLUEPRINTS:
        blueprint_functions(module)


def register(app: func.FunctionApp) -> None:
    """Declares every function of the index on ``app``, each calling its blueprint's function."""
    for entry in json.loads(INDEX.read_text(encoding="utf-8")):
        _declare(app, entry)


def _declare(app: func.FunctionApp, entry: dict[str, Any]) -> None:
    name, module = str(entry["name"]), str(entry["module"])

    def real() -> Callable[..., Any]:
        return blueprint_functions(module)[name]

    if "http" in entry:
        http = entry["http"]

        def req_function(req: func.HttpRequest) -> func.HttpResponse:
            response: func.HttpResponse = real()(req)
            return response

        function: Callable[..., Any] = req_function
        level = func.AuthLevel[http["authLevel"]]
        decorate = app.route(route=http["route"], methods=None, auth_level=level)
    elif "queue" in entry:

        def msg_function(msg: func.QueueMessage) -> None:
            real()(msg)

        function = msg_function
        decorate = app.queue_trigger(
            arg_name="msg", queue_name=entry["queue"]["queueName"], connection=entry["queue"]["connection"]
        )
    else:

        def timer_function(timer: func.TimerRequest) -> None:
            real()(timer)

        function = timer_function
        timer = entry["timer"]
        decorate = app.timer_trigger(arg_name="timer", schedule=timer["schedule"], run_on_startup=timer["runOnStartup"])
    function.__name__ = function.__qualname__ = name
    app.function_name(name)(decorate(function))


def entries() -> list[dict[str, Any]]:
    """The index, derived from the blueprints themselves."""
    found = []
    for module in BLUEPRINTS:
        for function in blueprint_app(module).get_functions():
            name, trigger = str(function.get_function_name()), function.get_trigger()
            entry: dict[str, Any] = {"name": name, "module": module}
            if isinstance(trigger, HttpTrigger):
                entry["http"] = {"route": trigger.route, "authLevel": func.AuthLevel(trigger.auth_level).name}
            elif isinstance(trigger, QueueTrigger):
                entry["queue"] = {"queueName": trigger.queue_name, "connection": trigger.connection}
            elif isinstance(trigger, TimerTrigger):
                entry["timer"] = {"schedule": trigger.schedule, "runOnStartup": bool(trigger.run_on_startup)}
            else:
                raise ValueError(f"{name}: the index declares HTTP, queue and timer functions only")
            found.append(entry)
    return found


def written() -> str:
    """One function per line, so that a change to the index reads as the functions it changes."""
    return "[\n" + ",\n".join(json.dumps(entry) for entry in entries()) + "\n]\n"


if __name__ == "__main__":
    INDEX.write_text(written(), encoding="utf-8")
    print(f"wrote {INDEX.name}: {len(entries())} functions", file=sys.stderr)
