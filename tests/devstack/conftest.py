"""Fixtures of the devstack tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.devstack.mail_harness import Server, WebhookReceiver, start_server


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Starts mail servers with the given command-line arguments; stops them after the test."""
    started: list[Server] = []

    def start(*args: str, log_name: str = "server.log") -> Server:
        server = start_server(tmp_path / log_name, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook endpoint that records what it is sent and answers 200."""
    endpoint = WebhookReceiver()
    yield endpoint
    endpoint.close()
