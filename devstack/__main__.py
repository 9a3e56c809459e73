"""``python -m devstack up``: the whole local stack in one command; ``python -m devstack token``: a dev token."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from devstack.devkeys import dev_token
from devstack.services import ServiceStartError, StackPorts
from devstack.stack import DEFAULT_STATE_DIR, LOCAL_SETTINGS, LocalStack, StackAlreadyRunning, key_dir

STAFF_DEFAULT_ROLES = ["Privacy.Publisher", "Privacy.Auditor"]


def up(state_dir: Path, with_host: bool) -> int:
    stack = LocalStack(StackPorts(), state_dir)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        print("starting the local stack…", flush=True)
        stack.start_backends()
        seeded = stack.seed_demo_people()
        if seeded:
            print(f"seeded demo people: {', '.join(seeded)}", flush=True)
        if with_host:
            stack.start_functions_host()
        else:
            write_local_settings(stack)
    except (StackAlreadyRunning, ServiceStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(stack), flush=True)
    try:
        while not stopping:
            for service in stack.running:
                if not service.is_running():
                    print(f"error: {service.name} stopped; see {service.log_path}", file=sys.stderr)
                    return 1
            time.sleep(0.5)
    finally:
        print("stopping the local stack…", flush=True)
        stack.stop()
    return 0


def summary(stack: LocalStack) -> str:
    """What a developer needs from the running stack: where each part listens, and the keys."""
    p = stack.ports
    return f"""
local stack is up (state in {stack.state_dir}, logs in {stack.log_dir})
  Functions API   {stack.functions_url}         (OpenAPI: {stack.functions_url}/openapi.json)
  health          {stack.functions_url}/health
  mail outbox     {stack.mail_url}/               (SendGrid API stand-in)
  Stripe          {stack.stripe_url}              (localstripe)
  Cosmos DB       https://127.0.0.1:{p.cosmos}/   (self-signed TLS, any key)
  Storage         blob :{p.blob}  queue :{p.queue}  table :{p.table}   (Azurite)
  function key    {stack.function_key}   (x-functions-key header, server-to-server routes)
  master key      {stack.master_key}   (x-functions-key header, POST /admin/functions/<name>)
  tokens          python -m devstack token user --sub alice | staff   (--state-dir {stack.state_dir})
Ctrl-C stops everything."""


def write_local_settings(stack: LocalStack) -> None:
    """local.settings.json pointing at the running stand-ins, as `func start` reads it."""
    document = {
        "IsEncrypted": False,
        "Values": {"FUNCTIONS_WORKER_RUNTIME": "python", **stack.app_settings()},
        "Host": {"LocalHttpPort": stack.ports.functions, "CORS": "", "CORSCredentials": False},
    }
    LOCAL_SETTINGS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {LOCAL_SETTINGS.name}: run `func start` in another terminal", flush=True)


def token(state_dir: Path, kind: str, subject: str, roles: list[str], minutes: int) -> int:
    default_roles = STAFF_DEFAULT_ROLES if kind == "staff" else []
    try:
        print(dev_token(key_dir(state_dir), kind, subject, roles or default_roles, minutes))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    up_cmd = commands.add_parser("up", help="start the whole local stack and the Functions host")
    up_cmd.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="where data, keys and logs are kept")
    up_cmd.add_argument(
        "--no-host",
        action="store_true",
        help="start only the stand-ins and write local.settings.json, for `func start` with Core Tools",
    )
    token_cmd = commands.add_parser("token", help="print a bearer token signed with a stack's local keys")
    token_cmd.add_argument("kind", choices=["user", "staff"])
    token_cmd.add_argument("--sub", default="local-user-1", help="the token's subject")
    roles_help = f"app role, repeatable (staff default: {', '.join(STAFF_DEFAULT_ROLES)})"
    token_cmd.add_argument("--role", action="append", default=[], help=roles_help)
    token_cmd.add_argument("--minutes", type=int, default=60, help="lifetime (default 60)")
    token_cmd.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="the stack's state folder")
    args = parser.parse_args()
    if args.command == "token":
        sys.exit(token(args.state_dir, args.kind, args.sub, args.role, args.minutes))
    sys.exit(up(args.state_dir, with_host=not args.no_host))


if __name__ == "__main__":
    main()
