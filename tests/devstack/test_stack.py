"""The local stack's own promises: one stack per state folder, clear messages, keys and tokens, a quiet host."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from devstack.__main__ import summary
from devstack.devkeys import AUDIENCE, STAFF_ISSUER, event_webhook_key_path, providers
from devstack.services import LOOPBACK, PROJECT_ROOT, ServiceStartError, StackPorts, start_cosmos
from devstack.stack import MARKETING_GROUP_ID, LocalStack, StackAlreadyRunning, key_dir
from tests.devstack.mail_harness import Server, post_json, wait_until
from tests.devstack.raw_http import exchange, get


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
    assert settings["SENDGRID_MARKETING_GROUP_ID"] == "1"  # known before anything runs


def test_the_stack_makes_the_marketing_group_the_app_is_told_of(
    local_stack: LocalStack, app_settings: dict[str, str]
) -> None:
    auth = {"Authorization": "Bearer SG.local"}
    with httpx.Client(base_url=local_stack.mail_url, headers=auth, timeout=10) as mail:
        group = mail.get(f"/v3/asm/groups/{app_settings['SENDGRID_MARKETING_GROUP_ID']}").json()
        assert (group["name"], group["description"]) == ("Marketing email", "Promotions and offers")
        local_stack.ensure_marketing_group()  # found, not made again
        assert [g["name"] for g in mail.get("/v3/asm/groups").json()].count("Marketing email") == 1


def stack_on(server: Server, state_dir: Path) -> LocalStack:
    port = int(server.url.rsplit(":", 1)[1])
    return LocalStack(StackPorts(mail=port), state_dir, persistent=False, settings_file=None)


def test_the_marketing_group_has_the_same_id_after_a_restart_on_the_same_state(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    data = tmp_path / "data" / "mail"
    for run in ("first", "second"):
        server = server_factory("--data-dir", str(data), log_name=f"{run}.log")
        stack_on(server, tmp_path).ensure_marketing_group()
        [group] = httpx.get(server.url + "/v3/asm/groups", headers={"Authorization": "Bearer k"}).json()
        assert (group["id"], group["name"]) == (MARKETING_GROUP_ID, "Marketing email")
        assert server.stop() == 0


def test_a_marketing_group_with_another_id_stops_the_start(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    server = server_factory()
    for name in ("Something else", "Marketing email"):
        assert post_json(server.url + "/v3/asm/groups", {"name": name, "description": "x"})[0] == 201
    with pytest.raises(ServiceStartError, match="SENDGRID_MARKETING_GROUP_ID is 1"):
        stack_on(server, tmp_path).ensure_marketing_group()


def test_the_event_webhook_key_is_made_once_per_state_folder_and_set_for_the_app(tmp_path: Path) -> None:
    first = LocalStack(StackPorts.free(), tmp_path, persistent=False, settings_file=None)
    public_key = first.app_settings()["SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY"]
    again = LocalStack(StackPorts.free(), tmp_path, persistent=False, settings_file=None)
    assert again.app_settings()["SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY"] == public_key
    assert stat.S_IMODE(event_webhook_key_path(key_dir(tmp_path)).stat().st_mode) == 0o600

    # The form SendGrid's Mail Settings show: base64 of the DER SubjectPublicKeyInfo of a P-256 key.
    key = load_der_public_key(base64.b64decode(public_key, validate=True))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert isinstance(key.curve, ec.SECP256R1)

    other = LocalStack(StackPorts.free(), tmp_path / "other", persistent=False, settings_file=None)
    assert other.app_settings()["SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY"] != public_key


def test_the_stack_points_the_mail_servers_signed_events_at_the_host(
    functions_url: str, local_stack: LocalStack, app_settings: dict[str, str]
) -> None:
    with httpx.Client(base_url=local_stack.mail_url, timeout=10) as mail:
        assert mail.get("/_events/webhook").json() == {
            "url": f"{functions_url}/webhooks/sendgrid/events",
            "enabled": True,
            "public_key": app_settings["SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY"],
        }
        sent = mail.post(
            "/v3/mail/send",
            json={
                "personalizations": [{"to": [{"email": "events.check@example.com"}]}],
                "from": {"email": "privacy@example.com"},
                "subject": "Events",
                "content": [{"type": "text/plain", "value": "Where do the events go?"}],
            },
            headers={"Authorization": "Bearer SG.local"},
        )
        assert sent.status_code == 202
        mail_id = sent.headers["X-Message-Id"]

        def first_attempt() -> dict[str, object] | None:
            [batch] = mail.get("/_events", params={"mail_id": mail_id}).json()
            return batch["attempts"][0] if batch["attempts"] else None

        # The host answered the post (what the app makes of it is the app's tests' business).
        assert isinstance(wait_until(first_attempt)["status"], int)


def test_up_prints_the_function_key_and_the_master_key(tmp_path: Path) -> None:
    stack = LocalStack(StackPorts.free(), tmp_path, persistent=False, settings_file=None)
    printed = summary(stack)
    assert f"function key    {stack.function_key}   (x-functions-key header" in printed
    assert f"master key      {stack.master_key}   (x-functions-key header, POST /admin/functions/<name>)" in printed
    assert stack.master_key != stack.function_key


def run_token_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "devstack", "token", *arguments]
    return subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_token_command_signs_with_the_keys_of_the_given_state_folder(tmp_path: Path) -> None:
    user, staff = providers(key_dir(tmp_path))
    for provider in (user, staff):
        provider.ensure_keys()
    made = run_token_command("staff", "--sub", "dpo-9", "--state-dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    jwk = jwt.PyJWK(json.loads(staff.jwks_path.read_text())["keys"][0])
    claims = jwt.decode(made.stdout.strip(), jwk.key, algorithms=["RS256"], audience=AUDIENCE, issuer=STAFF_ISSUER)
    assert (claims["sub"], claims["roles"]) == ("dpo-9", ["Privacy.Publisher", "Privacy.Auditor"])


def test_token_command_refuses_a_folder_that_holds_no_stack(tmp_path: Path) -> None:
    missing = tmp_path / "elsewhere"
    refused = run_token_command("user", "--state-dir", str(missing))
    assert refused.returncode == 1
    assert "no signing keys in" in refused.stderr
    assert refused.stdout == ""
    assert not missing.exists()  # no keys were made that no stack would trust


def test_the_stack_host_answers_problems_and_logs_nothing_of_a_request(
    functions_url: str, local_stack: LocalStack
) -> None:
    port = local_stack.ports.functions
    address = b"grace.hopper@example.org"
    for request, status in (
        (get(b"/api/health", b"X-Note: " + address + b"a" * 9000), 431),
        (b"GET /api/" + address + b" HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n", 400),
        (get(b"/api/" + address + b"%0A"), 404),
        (get(b"/api/%zz"), 404),
        (get(b"/"), 404),
    ):
        response = exchange(port, request)
        assert response.status == status
        response.problem()
        assert address not in response.body
    # Bytes that are not UTF-8 in headers reach the app, and the app answers.
    denied = exchange(
        port, get(b"/api/me/consents", b"User-Agent: \xff" + address, b"Authorization: Bearer \xc3" + address)
    )
    assert denied.status == 401
    assert json.loads(denied.body)["status"] == 401
    assert exchange(port, get(b"/api/catalog", b"User-Agent: agent \xff\xfe")).status == 200
    for log in local_stack.log_dir.iterdir():
        assert address not in log.read_bytes(), log.name
