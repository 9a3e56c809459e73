"""python -m devstack.functions_host --app function_app:app --script-root . --host 127.0.0.1 --port 7071"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import azure.functions as func

from .host import LocalFunctionsHost
from .options import HostConfigError

logger = logging.getLogger("devstack.functions_host")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.functions_host", description=__doc__)
    parser.add_argument("--app", default="function_app", help="module[:attribute] of the FunctionApp")
    parser.add_argument("--script-root", default=".", help="folder with host.json and the app's modules")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    return parser.parse_args(argv)


def read_host_json(script_root: Path) -> dict[str, Any]:
    path = script_root / "host.json"
    if not path.exists():
        logger.warning("%s is missing; using the host's defaults", path)
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise HostConfigError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(loaded, dict):
        raise HostConfigError(f"{path} must hold a JSON object")
    return loaded


def load_app(reference: str) -> func.FunctionRegister:
    """module:attribute, or just the module: then, like the worker, its one FunctionApp is used."""
    module_name, _, attribute = reference.partition(":")
    module = importlib.import_module(module_name)
    if attribute:
        app = getattr(module, attribute)
        if not isinstance(app, func.FunctionRegister):
            raise HostConfigError(f"{reference} is a {type(app).__name__}, not a FunctionApp")
        return app
    apps = [value for value in vars(module).values() if isinstance(value, func.FunctionRegister)]
    if len(apps) != 1:
        raise HostConfigError(f"{module_name} must define exactly one FunctionApp, found {len(apps)}")
    return apps[0]


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The storage SDK logs every request's URL and headers at INFO; polling would drown the host's own lines.
    logging.getLogger("azure").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    configure_logging()
    script_root = Path(arguments.script_root).resolve()
    # The worker runs in the script root and imports the app's modules from it.
    os.chdir(script_root)
    sys.path.insert(0, str(script_root))
    try:
        host = LocalFunctionsHost(
            load_app(arguments.app),
            read_host_json(script_root),
            os.environ,
            host=arguments.host,
            port=arguments.port,
        )
        host.run()
    except HostConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # most often the port is taken; a traceback would only hide that
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
