"""The host's admin API, as far as the app needs it: ``POST /admin/functions/{name}`` runs a timer or
queue function on demand, as Core Tools and Azure do.

It takes the master key (a function key is not enough) and a JSON body ``{"input": "<text>"}``; a number
or boolean counts as its JSON text, and ``{}`` means no input. A queue function gets the input as the
message body, handed straight to it: the message never is in the queue, so a failure is logged, not
retried or moved to poison. A timer function gets a TimerRequest that is not past due, and the input
is ignored. The answer is 202 once the run has started; every other path under /admin/ is 404.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from aiohttp import web

from .catalog import FunctionSpec, HttpTriggerSpec, TimerTriggerSpec
from .invocation import Invoker, returns_nothing
from .keys import KeyAuthorizer
from .options import HttpOptions
from .queues import manual_message
from .server import Refused, read_body
from .timers import timer_request

BAD_BODY = 'The body must be a JSON object: {"input": "<text>"}, or {} for no input.'
BAD_INPUT = "input must be a string, a number or a boolean."

StartBackground = Callable[[Coroutine[Any, Any, Any]], None]


def input_of(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:  # UnicodeDecodeError is one
        raise Refused(400, BAD_BODY) from None
    if not isinstance(document, dict):
        raise Refused(400, BAD_BODY)
    value = document.get("input")
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise Refused(400, BAD_INPUT)


class AdminApi:
    def __init__(
        self,
        specs: Sequence[FunctionSpec],
        authorizer: KeyAuthorizer,
        options: HttpOptions,
        invoker: Invoker,
        start_background: StartBackground,
    ) -> None:
        self._functions = {spec.name.lower(): spec for spec in specs}  # the host finds names case-insensitively
        self._authorizer = authorizer
        self._options = options
        self._invoker = invoker
        self._start_background = start_background

    async def handle(
        self, request: web.BaseRequest, segments: Sequence[str], headers: Mapping[str, str], query: Mapping[str, str]
    ) -> web.StreamResponse:
        """``segments``: the decoded path after /admin."""
        if len(segments) != 2 or segments[0].lower() != "functions":
            raise Refused(404)
        if request.method != "POST":
            raise Refused(405, headers={"Allow": "POST"})
        if not self._authorizer.allows(headers, query, admin=True):
            raise Refused(401)
        spec = self._functions.get(segments[1].lower())
        if spec is None:
            raise Refused(404)
        if isinstance(spec.trigger, HttpTriggerSpec):
            raise Refused(400, "HTTP-triggered functions are called at their own route, not through the admin API.")
        if request.content_type != "application/json":
            raise Refused(415, "Send the body as application/json.")
        text = input_of(
            await read_body(request, self._options.max_request_body_size, self._options.body_timeout_seconds)
        )
        value = timer_request(past_due=False) if isinstance(spec.trigger, TimerTriggerSpec) else manual_message(text)
        self._start_background(self._invoker.run(spec, value, returns_nothing, Reason="Manual"))
        return web.Response(status=202)
