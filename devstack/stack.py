"""The whole local stack: stand-ins for every cloud part, provisioned from the declarations, plus the host.

Used by ``make dev`` (fixed ports, state kept in ``.stack/``) and by the test session (free ports,
in-memory state), so tests run against exactly what a developer runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import warnings
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from typing import TYPE_CHECKING

from devstack.devkeys import (
    AUDIENCE,
    ensure_event_webhook_key,
    event_webhook_public_key,
    load_event_webhook_key,
    providers,
)
from devstack.services import (
    COSMOS_LOCAL_KEY,
    LOOPBACK,
    PROJECT_ROOT,
    SENDGRID_LOCAL_KEY,
    STRIPE_LOCAL_KEY,
    Service,
    ServiceStartError,
    StackPorts,
    azurite_connection_string,
    start_azurite,
    start_cosmos,
    start_mailserver,
    start_service,
    start_stripe,
)

if TYPE_CHECKING:
    from functions.consent.catalog_repository import CatalogRepository

DEFAULT_STATE_DIR = PROJECT_ROOT / ".stack"
EXAMPLE_SETTINGS = PROJECT_ROOT / "local.settings.example.json"
LOCAL_SETTINGS = PROJECT_ROOT / "local.settings.json"
SEED_DIR = PROJECT_ROOT / "seed"
SEED_ACTOR = "local-stack-seed"
# Where the app receives SendGrid's Event Webhook, under the Functions route prefix.
EVENT_WEBHOOK_ROUTE = "/webhooks/sendgrid/events"
# The unsubscribe group of marketing email, made at start. The mail server keeps groups in memory and
# numbers them from 1, and this is the first one made, so its id is known before the server runs.
MARKETING_GROUP = {"name": "Marketing email", "description": "Promotions and offers"}
MARKETING_GROUP_ID = 1


class StackAlreadyRunning(RuntimeError):
    pass


def key_dir(state_dir: Path) -> Path:
    """Signing keys and host keys of the stack that keeps its state in ``state_dir``."""
    return state_dir / "keys"


def read_local_settings(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    values = json.loads(path.read_text()).get("Values", {})
    return {str(k): str(v) for k, v in values.items()}


@dataclass
class LocalStack:
    ports: StackPorts
    state_dir: Path
    persistent: bool = True
    settings_file: Path | None = LOCAL_SETTINGS
    running: list[Service] = field(default_factory=list)

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def functions_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.functions}/api"

    @property
    def mail_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.mail}"

    @property
    def stripe_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.stripe}"

    @property
    def event_webhook_url(self) -> str:
        return self.functions_url + EVENT_WEBHOOK_ROUTE

    @property
    def event_webhook_public_key(self) -> str:
        """What SendGrid's Mail Settings would show for the signed Event Webhook: this stack's key, made once."""
        return event_webhook_public_key(load_event_webhook_key(ensure_event_webhook_key(key_dir(self.state_dir))))

    @property
    def function_key(self) -> str:
        """The key server-to-server callers send (x-functions-key), made once per state folder."""
        return self._host_key("function-key")

    @property
    def master_key(self) -> str:
        """The host's master key: the admin API (running timer and queue functions on demand) takes only it."""
        return self._host_key("master-key")

    def _host_key(self, name: str) -> str:
        path = key_dir(self.state_dir) / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def app_settings(self) -> dict[str, str]:
        """Every app setting the code reads, pointing at this stack's stand-ins."""
        user, staff = providers(key_dir(self.state_dir))
        settings = read_local_settings(EXAMPLE_SETTINGS)
        if self.settings_file is not None:
            settings.update(read_local_settings(self.settings_file))
        settings.update(
            {
                "COSMOS_ENDPOINT": f"https://{LOOPBACK}:{self.ports.cosmos}/",
                "COSMOS_KEY": COSMOS_LOCAL_KEY,
                "COSMOS_TLS_VERIFY": "false",
                "AzureWebJobsStorage": azurite_connection_string(self.ports),
                "USER_JWT_ISSUER": user.issuer,
                "USER_JWT_AUDIENCE": AUDIENCE,
                "USER_JWKS_URI": user.jwks_path.as_uri(),
                "STAFF_JWT_ISSUER": staff.issuer,
                "STAFF_JWT_AUDIENCE": AUDIENCE,
                "STAFF_JWKS_URI": staff.jwks_path.as_uri(),
                "STRIPE_API_KEY": STRIPE_LOCAL_KEY,
                "STRIPE_API_BASE": self.stripe_url,
                "SENDGRID_API_KEY": SENDGRID_LOCAL_KEY,
                "SENDGRID_API_HOST": self.mail_url,
                "SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY": self.event_webhook_public_key,
                "SENDGRID_MARKETING_GROUP_ID": str(MARKETING_GROUP_ID),
                "PUBLIC_API_URL": self.functions_url,
                "PROOF_KEY_FILE": str(self.proof_key_file),
            }
        )
        return settings

    @property
    def proof_key_file(self) -> Path:
        """The local stand-in of the Key Vault proof key, made once per state folder."""
        from adapters.keyfile_signing import ensure_key_file

        return ensure_key_file(key_dir(self.state_dir) / "proof-key.json")

    def _claim(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        lock = self.state_dir / "stack.pid"
        if lock.exists():
            pid = int(lock.read_text().strip() or 0)
            if pid and _alive(pid):
                raise StackAlreadyRunning(
                    f"a local stack is already running (pid {pid}, state in {self.state_dir}); "
                    "stop it with Ctrl-C in its terminal, or use that one"
                )
        lock.write_text(str(os.getpid()))

    def start_backends(self) -> None:
        self._claim()
        for provider in providers(key_dir(self.state_dir)):
            provider.ensure_keys()
        data = self.state_dir / "data" if self.persistent else None
        event_key = ensure_event_webhook_key(key_dir(self.state_dir))
        try:
            self.running.append(start_azurite(self.ports, self.log_dir, data / "azurite" if data else None))
            self.running.append(start_cosmos(self.ports, self.log_dir))
            self.running.append(start_stripe(self.ports, self.log_dir, data / "stripe" if data else None))
            self.running.append(
                start_mailserver(self.ports, self.log_dir, data / "mail" if data else None, event_signing_key=event_key)
            )
            self.ensure_marketing_group()
            self.provision()
        except BaseException:
            self.stop()
            raise

    def provision(self) -> None:
        """Database and containers from the one declaration, then the seed catalog."""
        from adapters.cosmos import CosmosDocumentStore, connect, provision
        from core.containers import database_spec
        from functions.consent.catalog_repository import CatalogRepository

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the stand-in's self-signed certificate
            client = connect(f"https://{LOOPBACK}:{self.ports.cosmos}/", COSMOS_LOCAL_KEY, verify_tls=False)
            provision(client, database_spec())
            self.provision_storage()
            seed_catalog(CatalogRepository(CosmosDocumentStore(client, database_spec()), cache_seconds=0))

    def provision_storage(self) -> None:
        """Queues (with their poison twins) and blob containers from declarations/storage.json."""
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient
        from azure.storage.queue import QueueServiceClient

        declaration = json.loads((PROJECT_ROOT / "declarations" / "storage.json").read_text())
        connection = azurite_connection_string(self.ports)
        queues = QueueServiceClient.from_connection_string(connection)
        for queue in declaration["queues"]:
            for name in (queue["name"], f"{queue['name']}-poison"):
                with contextlib.suppress(ResourceExistsError):
                    queues.create_queue(name)
        blobs = BlobServiceClient.from_connection_string(connection)
        for container in declaration["blobContainers"]:
            with contextlib.suppress(ResourceExistsError):
                blobs.create_container(container["name"])

    def seed_demo_people(self) -> list[str]:
        """Demo people in the product containers, Stripe and SendGrid (once per state folder)."""
        import stripe
        from sendgrid import SendGridAPIClient

        from adapters.cosmos import CosmosDocumentStore, connect
        from core.containers import database_spec
        from devstack.demo_data import DEMO_PEOPLE, seed_person

        settings = self.app_settings()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = connect(settings["COSMOS_ENDPOINT"], COSMOS_LOCAL_KEY, verify_tls=False)
            store = CosmosDocumentStore(client, database_spec())
            if store.read("profiles", DEMO_PEOPLE[0].user_id, DEMO_PEOPLE[0].user_id) is not None:
                return []
            stripe_client = stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": self.stripe_url})
            sendgrid_client = SendGridAPIClient(api_key=SENDGRID_LOCAL_KEY, host=self.mail_url)
            for person in DEMO_PEOPLE:
                seed_person(
                    store,
                    settings["SUBJECT_HASH_PEPPER"],
                    person,
                    stripe_client=stripe_client,
                    sendgrid_client=sendgrid_client,
                )
        return [p.email for p in DEMO_PEOPLE]

    def start_functions_host(self, extra_env: dict[str, str] | None = None) -> Service:
        env = {
            **self.app_settings(),
            "LOCAL_HOST_FUNCTION_KEYS": self.function_key,
            "LOCAL_HOST_MASTER_KEY": self.master_key,
            "PYTHONPATH": str(PROJECT_ROOT),
            "PYTHONWARNINGS": "ignore:Unverified HTTPS",
            **(extra_env or {}),
        }
        argv = [sys.executable, "-m", "devstack.functions_host", "--app", "function_app:app"]
        argv += ["--script-root", str(PROJECT_ROOT), "--host", LOOPBACK, "--port", str(self.ports.functions)]
        host = start_service("functions", argv, self.functions_url, self.ports.functions, self.log_dir, env=env)
        self.running.append(host)
        self.point_event_webhook(self.event_webhook_url)
        return host

    def _mail_call(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        """One call to the mail server: its status and JSON answer (None when it has no body)."""
        headers = {"Authorization": f"Bearer {SENDGRID_LOCAL_KEY}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection = HTTPConnection(LOOPBACK, self.ports.mail, timeout=10)
        try:
            connection.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, json.loads(raw) if raw else None

    def point_event_webhook(self, url: str | None, *, enabled: bool = True) -> None:
        """Tell the mail server where to post its signed events (None: nowhere)."""
        status, _ = self._mail_call("PUT", "/_events/webhook", {"url": url, "enabled": enabled})
        if status != 200:
            raise ServiceStartError(f"mail: pointing the event webhook answered HTTP {status}")

    def ensure_marketing_group(self) -> None:
        """The unsubscribe group of marketing email, made unless it exists, with the id the app is given."""
        status, groups = self._mail_call("GET", "/v3/asm/groups")
        if status != 200 or not isinstance(groups, list):
            raise ServiceStartError(f"mail: listing unsubscribe groups answered HTTP {status}")
        group: object = next(
            (g for g in groups if isinstance(g, dict) and g.get("name") == MARKETING_GROUP["name"]), None
        )
        if group is None:
            status, group = self._mail_call("POST", "/v3/asm/groups", MARKETING_GROUP)
            if status != 201:
                raise ServiceStartError(f"mail: creating the marketing unsubscribe group answered HTTP {status}")
        if not isinstance(group, dict) or group.get("id") != MARKETING_GROUP_ID:
            raise ServiceStartError(
                f"mail: the marketing unsubscribe group is {group!r}, "
                f"but SENDGRID_MARKETING_GROUP_ID is {MARKETING_GROUP_ID}"
            )

    def stop(self) -> None:
        for service in reversed(self.running):
            service.stop()
        self.running.clear()
        lock = self.state_dir / "stack.pid"
        if lock.exists() and lock.read_text().strip() == str(os.getpid()):
            lock.unlink()


def seed_catalog(catalog: CatalogRepository) -> None:
    """Publish the seed purposes and policy version (idempotent: re-publishing changes nothing)."""
    from datetime import UTC, datetime

    from functions.consent.catalog import Purpose

    seed = json.loads((SEED_DIR / "catalog.json").read_text())
    existing = catalog.current()
    for p in seed["purposes"]:
        if p["id"] not in existing.purposes:
            catalog.publish_purpose(Purpose.from_content(p))
    version = seed["policyVersion"]
    text = (SEED_DIR / version["textFile"]).read_text()
    catalog.publish_version(version["version"], text, tuple(version["renewPurposes"]), datetime.now(UTC))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
