"""Starts and stops the local stand-ins of the cloud services, each as a child process on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"
LOOPBACK = "127.0.0.1"

# Well-known development credentials of the stand-ins; they protect nothing.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
COSMOS_LOCAL_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
STRIPE_LOCAL_KEY = "sk_test_local_stack"
SENDGRID_LOCAL_KEY = "SG.local-stack"


class ServiceStartError(RuntimeError):
    pass


@dataclass(frozen=True)
class StackPorts:
    functions: int = 7071
    cosmos: int = 8081
    blob: int = 10000
    queue: int = 10001
    table: int = 10002
    stripe: int = 8420
    mail: int = 8025

    @classmethod
    def free(cls) -> StackPorts:
        """Ports nobody listens on now: lets a test session run beside a developer's stack."""
        sockets = [socket.socket() for _ in range(7)]
        try:
            for s in sockets:
                s.bind((LOOPBACK, 0))
            ports = [s.getsockname()[1] for s in sockets]
        finally:
            for s in sockets:
                s.close()
        return cls(*ports)


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self._log.close()

    def is_running(self) -> bool:
        return self.process.poll() is None


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the stack process dies, even by SIGKILL (no orphans)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def port_is_open(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def start_service(
    name: str,
    argv: list[str],
    url: str,
    port: int,
    log_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Service:
    if port_is_open(port):
        raise ServiceStartError(f"{name}: port {port} is already in use; is another local stack running?")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")
    process = subprocess.Popen(
        argv,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        # Own process group: Ctrl-C reaches the stack, which then stops each child in order.
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    service = Service(name, url, process, log_path, log)
    deadline = time.monotonic() + timeout
    while not port_is_open(port):
        if process.poll() is not None:
            service.stop()
            tail = log_path.read_text(errors="replace")[-2000:]
            raise ServiceStartError(f"{name} exited during start (code {process.returncode}):\n{tail}")
        if time.monotonic() > deadline:
            service.stop()
            raise ServiceStartError(f"{name} did not listen on port {port} within {timeout:.0f}s")
        time.sleep(0.1)
    return service


def _node_tool(name: str) -> str:
    tool = NODE_BIN / name
    if not tool.exists():
        raise ServiceStartError(f"{tool} is missing: run `make setup` (npm ci) first")
    return str(tool)


def azurite_connection_string(ports: StackPorts) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://{LOOPBACK}:{ports.blob}/{AZURITE_ACCOUNT};"
        f"QueueEndpoint=http://{LOOPBACK}:{ports.queue}/{AZURITE_ACCOUNT};"
        f"TableEndpoint=http://{LOOPBACK}:{ports.table}/{AZURITE_ACCOUNT};"
    )


def start_azurite(ports: StackPorts, log_dir: Path, data_dir: Path | None) -> Service:
    argv = [
        _node_tool("azurite"),
        "--blobHost",
        LOOPBACK,
        "--blobPort",
        str(ports.blob),
        "--queueHost",
        LOOPBACK,
        "--queuePort",
        str(ports.queue),
        "--tableHost",
        LOOPBACK,
        "--tablePort",
        str(ports.table),
        "--skipApiVersionCheck",
        "--loose",
        "--disableProductStyleUrl",
    ]
    if data_dir is None:
        argv.append("--inMemoryPersistence")
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        argv += ["--location", str(data_dir)]
    service = start_service("azurite", argv, f"http://{LOOPBACK}:{ports.blob}", ports.blob, log_dir)
    for port in (ports.queue, ports.table):
        deadline = time.monotonic() + 30
        while not port_is_open(port) and time.monotonic() < deadline:
            time.sleep(0.1)
    return service


def start_cosmos(ports: StackPorts, log_dir: Path) -> Service:
    argv = ["node", str(PROJECT_ROOT / "devstack" / "cosmos_server.js"), "--host", LOOPBACK]
    argv += ["--port", str(ports.cosmos)]
    return start_service("cosmos", argv, f"https://{LOOPBACK}:{ports.cosmos}/", ports.cosmos, log_dir)


def start_stripe(ports: StackPorts, log_dir: Path, data_dir: Path | None) -> Service:
    argv = [sys.executable, "-m", "devstack.stripe_server", "--host", LOOPBACK, "--port", str(ports.stripe)]
    argv += ["--call-log", str(log_dir / "stripe-calls.log")]
    if data_dir is not None:
        argv += ["--state-dir", str(data_dir)]
    return start_service("stripe", argv, f"http://{LOOPBACK}:{ports.stripe}", ports.stripe, log_dir)


def start_mailserver(
    ports: StackPorts, log_dir: Path, data_dir: Path | None, event_signing_key: Path | None = None
) -> Service:
    """The SendGrid stand-in; its Event Webhook signs with ``event_signing_key`` and posts nowhere until pointed."""
    argv = [sys.executable, "-m", "devstack.mailserver", "--host", LOOPBACK, "--port", str(ports.mail)]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if event_signing_key is not None:
        argv += ["--event-signing-key", str(event_signing_key)]
    return start_service("mail", argv, f"http://{LOOPBACK}:{ports.mail}", ports.mail, log_dir)
