"""Requests as raw bytes, for what an HTTP client library refuses to send: bad lines, bytes that are not UTF-8."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 body, after checking it is one."""
        assert self.headers["content-type"] == "application/problem+json"
        document: dict[str, Any] = json.loads(self.body)
        assert document["type"] == "about:blank"
        assert document["status"] == self.status
        assert document["title"]
        return document


def exchange(port: int, data: bytes, timeout: float = 10.0, until_closed: bool = False) -> RawResponse:
    """Sends ``data`` as it is and reads one response; with ``until_closed``, also waits for the host to hang up."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as connection:
        connection.sendall(data)
        received = b""
        while (until_closed or b"\r\n\r\n" not in received) and (chunk := connection.recv(65536)):
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])
        }
        while len(body) < int(headers.get("content-length", "0")) and (chunk := connection.recv(65536)):
            body += chunk
    return RawResponse(int(lines[0].split()[1]), headers, body)


def get(path: bytes, *headers: bytes) -> bytes:
    """A GET request line and headers, byte for byte, closing the connection after the answer."""
    return b"\r\n".join([b"GET " + path + b" HTTP/1.1", b"Host: 127.0.0.1", *headers, b"Connection: close", b"", b""])
