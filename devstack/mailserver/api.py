"""HTTP plumbing shared by the SendGrid-compatible endpoints: errors, auth, JSON bodies."""

from __future__ import annotations

import hmac
import json
import zlib
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devstack.mailserver.validation import FieldError

# SendGrid documents a 30 MB limit for the whole message including attachments; the request body
# is the closest thing a JSON API has to that, so it is what gets measured (after gzip decoding).
MAX_MESSAGE_BYTES = 30 * 1024 * 1024

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ServerConfig:
    # None: any non-empty bearer token is accepted, like a sandbox account that trusts everyone.
    api_key: str | None


CONFIG_KEY = web.AppKey("config", ServerConfig)


def error_body(errors: list[FieldError]) -> dict[str, Any]:
    return {"errors": [e.as_json() for e in errors]}


def sendgrid_error(status: int, message: str, field: str | None = None) -> web.Response:
    """An error in SendGrid's ``{"errors": [{"message", "field", "help"}]}`` shape."""
    return web.json_response(error_body([FieldError(message, field)]), status=status)


def field_errors(status: int, errors: list[FieldError]) -> web.Response:
    return web.json_response(error_body(errors), status=status)


def check_auth(request: web.Request) -> web.Response | None:
    """Return a 401 response unless the request carries an acceptable bearer token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return sendgrid_error(401, "authorization required")
    expected = request.app[CONFIG_KEY].api_key
    if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
        return sendgrid_error(401, "The provided authorization grant is invalid, expired, or revoked")
    return None


async def read_capped(request: web.Request, limit: int) -> bytes | None:
    """Read the body as sent, or return None once it exceeds ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    buffer = bytearray()
    async for chunk in request.content.iter_chunked(256 * 1024):
        buffer.extend(chunk)
        if len(buffer) > limit:
            return None
    return bytes(buffer)


def gunzip_capped(data: bytes, limit: int) -> bytes | None:
    """Decompress a gzip body, or return None once the output exceeds ``limit`` bytes.

    The output is bounded while decompressing, so a small "zip bomb" cannot exhaust memory.
    """
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    output = decompressor.decompress(data, limit + 1)
    if len(output) > limit:
        return None
    if not decompressor.eof or decompressor.unused_data:
        raise EOFError("truncated gzip stream or trailing data")
    return output


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: web.Request, limit: int = MAX_MESSAGE_BYTES) -> tuple[Any, web.Response | None]:
    """Parse a JSON request body the way SendGrid's v3 API does.

    Returns ``(value, None)`` or ``(None, error_response)``: 415 for a body that is not declared
    as JSON or uses an unsupported content coding, 413 when it is too large (compressed or not),
    400 when it does not parse. The CLI's server leaves gzip to this function; a server with
    aiohttp's automatic decompression hands over plain JSON, recognised by the missing gzip magic.
    """
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        return None, sendgrid_error(415, "Content-Encoding must be gzip when given.")
    if request.content_type != "application/json":
        return None, sendgrid_error(415, "Content-Type should be application/json.")
    if request.charset is not None and request.charset.lower() not in ("utf-8", "utf8"):
        return None, sendgrid_error(415, "Content-Type should be application/json with charset utf-8.")
    try:
        raw = await read_capped(request, limit)
    except web.RequestPayloadError:
        # Only reachable when the framework decodes gzip itself and the stream is corrupt.
        return None, sendgrid_error(400, "The request body could not be decoded.")
    if raw is not None and encoding == "gzip" and raw[:2] == GZIP_MAGIC:
        try:
            raw = gunzip_capped(raw, limit)
        except (zlib.error, EOFError):
            return None, sendgrid_error(400, "The request body could not be decoded.")
    if raw is None:
        return None, sendgrid_error(413, "content too large")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant), None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, sendgrid_error(400, "Bad Request: the request body is not valid JSON.")
