"""Command line: ``python -m devstack.mailserver [--host H] [--port P] [--data-dir D] [--api-key K]
[--event-webhook-url URL] [--event-signing-key PEM] [--event-retry-seconds S]``.

The ``--event-*`` options default to the environment variables ``MAILSERVER_EVENT_WEBHOOK_URL``,
``MAILSERVER_EVENT_SIGNING_KEY`` and ``MAILSERVER_EVENT_RETRY_SECONDS``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from devstack.devkeys import load_event_webhook_key
from devstack.mailserver.app import RouteAccessLogger, create_app
from devstack.mailserver.events import DEFAULT_RETRY_SECONDS, MAX_ATTEMPTS, EventSettings, is_http_url

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
    parser.add_argument(
        "--event-webhook-url",
        default=os.environ.get("MAILSERVER_EVENT_WEBHOOK_URL") or None,
        help="post signed Event Webhook batches here (default: nowhere until PUT /_events/webhook)",
    )
    parser.add_argument(
        "--event-signing-key",
        type=Path,
        default=os.environ.get("MAILSERVER_EVENT_SIGNING_KEY") or None,
        help="PEM file of the ECDSA P-256 key that signs events (default: a new key, see GET /_events/webhook)",
    )
    parser.add_argument(
        "--event-retry-seconds",
        type=float,
        default=os.environ.get("MAILSERVER_EVENT_RETRY_SECONDS") or str(DEFAULT_RETRY_SECONDS),
        help=f"delay before the first retry of a failed post, doubling after; {MAX_ATTEMPTS} attempts in all "
        f"(default: {DEFAULT_RETRY_SECONDS:g})",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if args.api_key is not None and not args.api_key.strip():
        parser.error("--api-key must not be empty")
    if args.event_webhook_url is not None and not is_http_url(args.event_webhook_url):
        parser.error("--event-webhook-url must be an absolute http or https URL")
    if not args.event_retry_seconds >= 0:
        parser.error("--event-retry-seconds must not be negative")
    return args


def event_settings(args: argparse.Namespace) -> EventSettings:
    key = None
    if args.event_signing_key is not None:
        try:
            key = load_event_webhook_key(args.event_signing_key)
        except (OSError, ValueError) as exc:
            raise SystemExit(f"error: --event-signing-key: {type(exc).__name__}: cannot use that key") from None
    return EventSettings(url=args.event_webhook_url, signing_key=key, retry_seconds=args.event_retry_seconds)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(host: str, port: int, data_dir: Path | None, api_key: str | None, events: EventSettings) -> None:
    app = create_app(data_dir, api_key, events)
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
    events = event_settings(args)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(serve(args.host, args.port, args.data_dir, args.api_key, events))
    except OSError as exc:
        # Typically the port is taken or the data dir is not writable; strerror carries no mail data.
        log.error("mailserver could not start: %s", exc.strerror or type(exc).__name__)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
