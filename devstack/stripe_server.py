"""Runs localstripe (the Stripe stand-in) on loopback, with its state in the stack's own folder.

The package's CLI listens on every interface and pickles its state to a fixed /tmp path shared
by every run on the machine; both are wrong for a dev stack and for parallel test sessions.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler
from localstripe import resources, server


def _keep_state_in(state_file: Path) -> None:
    def load(store: resources.Store) -> None:
        if state_file.exists():
            with state_file.open("rb") as f:
                saved = pickle.load(f)  # noqa: S301 - our own file, written below
            store.clear()
            store.update(saved)

    def dump(store: resources.Store) -> None:
        tmp = state_file.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(state_file)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump


def _log_calls_to(path: Path) -> None:
    """One line per API call (method, path, status; never the query or body), for tests that count calls."""

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        with path.open("a") as log:
            log.write(f"{request.method} {request.path} {response.status}\n")
        return response

    server.app.middlewares.append(record)


def main() -> None:
    parser = argparse.ArgumentParser(description="localstripe on loopback with a private state file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-dir", type=Path, default=None, help="keep state here; none = in memory")
    parser.add_argument("--call-log", type=Path, default=None, help="append one line per API call to this file")
    args = parser.parse_args()

    if args.state_dir is not None:
        args.state_dir.mkdir(parents=True, exist_ok=True)
        _keep_state_in(args.state_dir / "localstripe.pickle")
        resources.store.try_load_from_disk()
    else:
        resources.Store.dump_to_disk = lambda store: None

    if args.call_log is not None:
        _log_calls_to(args.call_log)
    print(f"stripe listening on http://{args.host}:{args.port}", flush=True)
    web.run_app(server.app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
