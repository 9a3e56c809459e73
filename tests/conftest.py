"""Test session fixtures: the real local stack on free ports, started here and stopped at the end."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from bootstrap import Services, use_services
from core.settings import Settings
from devstack.devkeys import DevIdentityProvider, providers
from devstack.services import StackPorts
from devstack.stack import LocalStack

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = LocalStack(StackPorts.free(), tmp_path_factory.mktemp("stack"), persistent=False, settings_file=None)
    stack.start_backends()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def app_settings(local_stack: LocalStack) -> dict[str, str]:
    return local_stack.app_settings()


@pytest.fixture
def stack_services(app_settings: dict[str, str]) -> Iterator[Services]:
    """The app's composition root wired to the local stack, for in-process integration tests."""
    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    svc = Services(Settings(app_settings))
    use_services(svc)
    yield svc
    use_services(None)


@pytest.fixture(scope="session")
def functions_url(local_stack: LocalStack) -> str:
    local_stack.start_functions_host()
    return local_stack.functions_url


@pytest.fixture(scope="session")
def identity(local_stack: LocalStack) -> tuple[DevIdentityProvider, DevIdentityProvider]:
    return providers(local_stack.state_dir / "keys")


@pytest.fixture
def api(functions_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=functions_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def host_log(local_stack: LocalStack) -> Path:
    return local_stack.log_dir / "functions.log"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's package, driven by Playwright), one for the whole session: the
    browser tests and the mail server's page share it, since a second Playwright cannot start in a
    process while one runs."""
    from playwright.sync_api import sync_playwright

    from devstack.website import CHROMIUM_FLAGS

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is needed for the browser tests: `make setup` installs it (Debian package chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYTHONWARNINGS", "ignore:Unverified HTTPS request")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The OpenAPI fuzzer runs last: as staff it publishes purposes and policy versions on the shared stack."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/fuzz/"))
