"""The HTTP server under the host: aiohttp's low-level server, made to answer and log without request data.

aiohttp answers a request it cannot parse by itself: it logs the parser's exception, which quotes the
first bytes of the offending line, and sends that text back. Here every answer of the host's own is an
RFC 9457 problem that holds only the status, and log lines hold only the status or an error's type.
There is no access log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

logger = logging.getLogger("devstack.functions_host")

PROBLEM_JSON = "application/problem+json"
# Kestrel's request-line limit; header fields keep aiohttp's 8190. The two limits tell a long URL (414)
# from a long header (431) when the parser gives up on a line.
MAX_REQUEST_LINE_BYTES = 8192
MAX_HEADER_FIELD_BYTES = 8190

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class Refused(Exception):
    """A request the host answers itself, with a problem."""

    def __init__(self, status: int, detail: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def problem(status: int, detail: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    """type about:blank: the title is the status's own phrase; a detail is always fixed text of ours."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    return web.Response(status=status, body=json.dumps(body).encode(), content_type=PROBLEM_JSON, headers=headers)


def readable(text: str) -> str:
    """aiohttp keeps bytes that are not UTF-8 as surrogates; they reach the function as U+FFFD instead."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


async def read_body(request: web.BaseRequest, limit: int, timeout_seconds: float) -> bytes:
    """The whole body, refused when it is over the limit (413) or not complete within the timeout (408)."""
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, headers={"Connection": "close"})
    body = bytearray()
    try:
        async with asyncio.timeout(timeout_seconds):
            while chunk := await request.content.readany():
                body += chunk
                if len(body) > limit:
                    raise Refused(413, headers={"Connection": "close"})
    except TimeoutError:
        raise Refused(408, "The request body did not arrive in time.", {"Connection": "close"}) from None
    except (HttpProcessingError, web.RequestPayloadError, ConnectionError):  # broken chunks, or the client left
        raise Refused(400, "The request body is malformed.", {"Connection": "close"}) from None
    return bytes(body)


def answering_problems(handler: Handler) -> Handler:
    async def respond(request: web.BaseRequest) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refused as refusal:
            response = problem(refusal.status, refusal.detail, refusal.headers)
        except Exception as error:  # a bug of the host's own: the type only, the message may quote the request
            logger.error("The local host failed to handle a request: %s", type(error).__name__)
            response = problem(500)
        if response.headers.get("Connection") == "close":
            response.force_close()
        if response.status == HTTPStatus.REQUEST_TIMEOUT:
            # The client stopped sending: answer, then close now rather than linger for the rest of the body.
            await response.prepare(request)
            await response.write_eof()
            request.protocol.force_close()
        return response

    return respond


class _QuietRequestHandler(web.RequestHandler):
    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if isinstance(exc, LineTooLong):
            status = 414 if str(exc.args[1]) == str(MAX_REQUEST_LINE_BYTES) else 431
        logger.info("Refused a request the HTTP parser could not read (status %d)", status)
        response = problem(status)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        logger.error("HTTP connection failed: %s", type(error).__name__ if error is not None else "unknown error")

    def log_debug(self, *args: Any, **kwargs: Any) -> None:
        """aiohttp's debug lines can carry exceptions about the request; they are not needed here."""


class _QuietServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        return _QuietRequestHandler(self, loop=self._loop, **self._kwargs)


async def serve(handler: Handler, host: str, port: int, shutdown_grace_seconds: float) -> web.ServerRunner:
    """Listens until the runner is cleaned up; in-flight requests get the grace period to finish."""
    server = _QuietServer(
        answering_problems(handler),
        access_log=None,  # paths and query strings can carry personal data or keys
        max_line_size=MAX_REQUEST_LINE_BYTES,
        max_field_size=MAX_HEADER_FIELD_BYTES,
    )
    runner = web.ServerRunner(server, shutdown_timeout=shutdown_grace_seconds)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
