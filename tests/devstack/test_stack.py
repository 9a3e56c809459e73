"""The local stack's own promises: one stack per state folder, clear messages, clean stop."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from devstack.services import LOOPBACK, ServiceStartError, StackPorts, start_cosmos
from devstack.stack import LocalStack, StackAlreadyRunning


def test_a_second_stack_on_the_same_state_folder_says_one_is_running(tmp_path: Path) -> None:
    (tmp_path / "stack.pid").write_text(str(os.getppid()))  # a live process holds the folder
    second = LocalStack(StackPorts.free(), tmp_path, persistent=False, settings_file=None)
    with pytest.raises(StackAlreadyRunning, match="already running"):
        second.start_backends()


def test_a_stale_lock_from_a_dead_stack_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / "stack.pid").write_text("999999")
    stack = LocalStack(StackPorts.free(), tmp_path, persistent=False, settings_file=None)
    stack._claim()
    assert (tmp_path / "stack.pid").read_text() == str(os.getpid())


def test_a_busy_port_is_reported_by_name(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind((LOOPBACK, 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = StackPorts(cosmos=port)
        with pytest.raises(ServiceStartError, match=f"cosmos: port {port} is already in use"):
            start_cosmos(ports, tmp_path)


def test_app_settings_point_at_the_stack_and_cover_every_declared_setting(tmp_path: Path) -> None:
    from core.settings import SETTINGS

    stack = LocalStack(StackPorts.free(), tmp_path, persistent=False, settings_file=None)
    settings = stack.app_settings()
    assert {s.name for s in SETTINGS} <= set(settings)
    assert settings["COSMOS_ENDPOINT"] == f"https://127.0.0.1:{stack.ports.cosmos}/"
    assert f":{stack.ports.queue}/" in settings["AzureWebJobsStorage"]
    assert settings["SENDGRID_API_HOST"] == f"http://127.0.0.1:{stack.ports.mail}"
