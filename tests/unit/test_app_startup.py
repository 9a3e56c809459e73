"""The app refuses to start on unresolved Key Vault references, and imports nothing heavy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _import_app(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SUBJECT_HASH_PEPPER"} | extra_env
    code = (
        "import function_app, function_index, sys; "
        "function_index.load_all(); "  # every capability, as the functions' first calls import them
        "print(sorted(m for m in ('stripe', 'sendgrid', 'azure.storage.blob', 'cryptography') if m in sys.modules))"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_unresolved_key_vault_reference_stops_the_app_with_a_clear_message() -> None:
    result = _import_app(
        {"SUBJECT_HASH_PEPPER": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/p/)"}
    )
    assert result.returncode != 0
    assert "SUBJECT_HASH_PEPPER" in result.stderr
    assert "unresolved Key Vault reference" in result.stderr
    assert "kv.vault.azure.net" not in result.stderr


def test_importing_the_app_connects_to_nothing_and_loads_no_third_party_client() -> None:
    result = _import_app({"COSMOS_ENDPOINT": "https://unreachable.invalid:1/"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_index_declares_every_function_of_every_blueprint_with_the_same_bindings() -> None:
    import function_index
    from tests.app_functions import indexed

    assert function_index.INDEX.read_text(encoding="utf-8") == function_index.written(), (
        "function_index.json differs from the blueprints: run `python -m function_index`"
    )
    declared = {str(f.get_function_name()): f for f in indexed()}
    real: dict[str, Any] = {}
    for module in function_index.BLUEPRINTS:
        real |= {str(f.get_function_name()): f for f in function_index.blueprint_app(module).get_functions()}
    assert set(declared) == set(real)
    for name, function in real.items():  # what the host reads of each function: its bindings and settings
        assert declared[name].get_function_json() == function.get_function_json(), name
        assert declared[name].get_settings_dict("retry_policy") == function.get_settings_dict("retry_policy"), name
        assert declared[name].get_user_function().__name__ == name


FIRST_CALLS = {
    # The banner script: the web capability alone.
    "web_script": (
        "answer = http_handler('web_script')(func.HttpRequest('GET', 'http://localhost/api/web/js/banner-1.1.0.js', "
        "headers={}, route_params={'file': 'banner-1.1.0.js'}, body=b'')); assert answer.status_code == 200",
        ["functions.web.blueprint", "functions.web.models"],
    ),
    # The banner's read: cookies, the ledger and receipts it answers with, the notice board it carries.
    "cookie_preferences": (
        "function_index.blueprint_functions('functions.cookies.blueprint'); import functions.notices.board_cache",
        [
            "functions.consent.models",
            "functions.cookies.blueprint",
            "functions.cookies.models",
            "functions.proof.models",
        ],
    ),
}


@pytest.mark.parametrize("function", sorted(FIRST_CALLS))
def test_a_cold_start_imports_only_the_capability_it_is_started_for(function: str) -> None:
    call, expected = FIRST_CALLS[function]
    code = (
        "import sys, function_app, function_index; import azure.functions as func; "
        f"from tests.app_functions import http_handler; {call}; "
        "print(sorted(m for m in sys.modules if m.startswith('functions.') and m.endswith(('.blueprint', '.models'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(expected)  # no other capability's blueprint or models


def test_openapi_describes_every_http_route_with_every_method_it_answers() -> None:
    import function_index
    from core.openapi import API
    from tests.app_functions import indexed

    function_index.load_all()
    documented: dict[str, set[str]] = {}
    for path, method in API.operations:
        documented.setdefault(path, set()).add(method.upper())
    http_routes = {}
    for function in indexed():
        trigger = function.get_trigger()
        if trigger is not None and trigger.get_binding_name() == "httpTrigger":
            http_routes[trigger.route] = function.get_function_name()
    assert http_routes
    assert set(http_routes) == set(documented), "every HTTP route is in the OpenAPI document, and only those"
    document = API.document("api", "test")
    for route, methods in documented.items():
        assert set(document["paths"][f"/api/{route}"]) == {m.lower() for m in methods}
