"""Drives the local mail server over real HTTP as a subprocess: start it, call it, read its answers."""

from __future__ import annotations

import json
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
READY_RE = re.compile(r"^mailserver listening on (http://127\.0\.0\.1:(\d+))$")


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return self.proc.returncode


def start_server(log_path: Path, *args: str) -> Server:
    log_file = log_path.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack.mailserver", "--host", "127.0.0.1", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log_file,
    )
    log_file.close()
    assert proc.stdout is not None
    line = b""
    deadline = time.monotonic() + 20
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None or not selector.select(remaining):
                proc.kill()
                proc.wait()
                raise AssertionError(f"server not ready; log:\n{log_path.read_text()}")
            chunk = proc.stdout.read1(4096)  # type: ignore[attr-defined]
            if not chunk:
                continue
            line += chunk
    match = READY_RE.match(line.decode().strip())
    assert match, f"unexpected ready line {line!r}"
    return Server(proc=proc, url=match.group(1), log_path=log_path)


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def get_json(url: str) -> Any:
    status, _, body = http("GET", url)
    assert status == 200, body
    return json.loads(body)


def post_json(
    url: str, payload: Any, *, key: str | None = "SG.test", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    all_headers = {"Content-Type": "application/json"}
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    all_headers.update(headers or {})
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return http("POST", url, body, all_headers)


def send(server: Server, payload: Any, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    return post_json(server.url + "/v3/mail/send", payload, **kwargs)


def valid_payload() -> dict[str, Any]:
    return {
        "personalizations": [{"to": [{"email": "alice@example.com", "name": "Alice"}]}],
        "from": {"email": "privacy@example.com", "name": "Privacy Team"},
        "subject": "Your data export is ready",
        "content": [{"type": "text/plain", "value": "Download it within 7 days."}],
    }


def errors_of(body: bytes) -> list[dict[str, Any]]:
    data = json.loads(body)
    assert set(data) == {"errors"}
    for error in data["errors"]:
        assert isinstance(error["message"], str)
        assert error["message"]
        assert "field" in error
        assert "help" in error
    return list(data["errors"])


def fields_of(body: bytes) -> set[str | None]:
    return {e["field"] for e in errors_of(body)}


def assert_no_leak(body: bytes, *secrets: str) -> None:
    text = body.decode("utf-8", errors="replace").lower()
    for secret in secrets:
        assert secret.lower() not in text, f"response echoes {secret!r}"


def stored(server: Server) -> list[dict[str, Any]]:
    return list(get_json(server.url + "/_mails"))


# -- a webhook endpoint ----------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() on arrival

    def events(self) -> list[dict[str, Any]]:
        events = json.loads(self.body)
        assert isinstance(events, list)
        return events


class WebhookReceiver:
    """An HTTP endpoint on loopback that records every POST and answers the scripted statuses, then 200.

    ``hold``: while it is not set, each request waits before being answered (up to 30 s).
    """

    def __init__(self, statuses: Iterable[int] = (), hold: threading.Event | None = None) -> None:
        self.posts: list[Post] = []
        self._statuses = list(statuses)
        self._hold = hold
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                post = Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                with receiver._arrived:
                    receiver.posts.append(post)
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                    receiver._arrived.notify_all()
                if receiver._hold is not None:
                    receiver._hold.wait(30)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks/sendgrid"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Post]:
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.posts) >= count, timeout)
            assert arrived, f"{len(self.posts)} of {count} webhook post(s) arrived"
            return list(self.posts)

    def close(self) -> None:
        if self._hold is not None:
            self._hold.set()
        self._server.shutdown()
        self._server.server_close()


def wait_until(condition: Any, timeout: float = 15.0) -> Any:
    """Poll ``condition()`` until it returns something truthy; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
