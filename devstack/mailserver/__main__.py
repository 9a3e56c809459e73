"""Command line: ``python -m devstack.mailserver [--host H] [--port P] [--data-dir D] [--api-key K]``."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web

from devstack.mailserver.app import RouteAccessLogger, create_app

log = logging.getLogger("devstack.mailserver")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.mailserver",
        description="Local SendGrid-compatible mail server: accepts v3 Mail Send calls and keeps the mails.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=8025, help="port to bind; 0 picks a free one (default: 8025)")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep mails in DIR/mails.jsonl across restarts")
    parser.add_argument("--api-key", default=None, help="accept only this bearer token (default: any non-empty one)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if args.api_key is not None and not args.api_key.strip():
        parser.error("--api-key must not be empty")
    return args


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(host: str, port: int, data_dir: Path | None, api_key: str | None) -> None:
    app = create_app(data_dir, api_key)
    # Signals are handled below so that SIGTERM and SIGINT both shut down the same clean way.
    # Gzip bodies are decoded by the handler, with a size cap and a SendGrid-shaped error.
    runner = web.AppRunner(
        app,
        access_log_class=RouteAccessLogger,
        handle_signals=False,
        shutdown_timeout=2.0,
        auto_decompress=False,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = int(runner.addresses[0][1])
        if not _is_loopback(host):
            log.warning("bound to a non-loopback address: stored mails are readable from the network")
        print(f"mailserver listening on {_url(host, bound_port)}", flush=True)

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(serve(args.host, args.port, args.data_dir, args.api_key))
    except OSError as exc:
        # Typically the port is taken or the data dir is not writable; strerror carries no mail data.
        log.error("mailserver could not start: %s", exc.strerror or type(exc).__name__)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
