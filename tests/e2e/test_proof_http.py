"""Public proof over HTTP through the local host: receipts on the banner's save, the published key set,
the hourly seal run on demand, and the README's verification run as a person would run it."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from jwcrypto import jwk, jws
from jwcrypto.common import base64url_decode, base64url_encode

from devstack.stack import LocalStack

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def save_cookies(api: httpx.Client, visitor: str, **categories: bool) -> dict[str, Any]:
    version = api.get("/catalog").json()["currentVersion"]["version"]
    body = {"categories": {"functional": False, "analytics": False, "marketing": False, **categories}}
    answer = api.put(f"/cookies/{visitor}", json={**body, "policyVersion": version})
    assert answer.status_code == 200, answer.text
    saved: dict[str, Any] = answer.json()
    return saved


def readme_verification() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- receipt-verification -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found, "the README lost its receipt verification"
    return found.group(1)


def test_the_banners_save_answers_a_receipt_a_person_verifies_with_the_readme(
    api: httpx.Client, tmp_path: Path
) -> None:
    visitor = secrets.token_urlsafe(18)
    saved = save_cookies(api, visitor, analytics=True)
    receipt = saved["receipt"]
    assert receipt["claims"]["piiPrincipalId"] == f"visitor:{visitor}"
    given = [p["purposeId"] for p in receipt["claims"]["purposes"] if p["consentStatus"] == "given"]
    assert len(given) == 1  # analytics; functional and marketing refused
    assert "analytics" in given[0]
    keys = api.get("/proof/jwks.json")
    assert keys.status_code == 200
    assert keys.headers["cache-control"].startswith("public")
    (tmp_path / "jwks.json").write_text(keys.text)
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    script = tmp_path / "verify_receipt.py"
    script.write_text(readme_verification())
    ran = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert f"valid receipt: visitor:{visitor}" in ran.stdout
    # The same file, altered by one field, fails the same script.
    forged = receipt["jws"].split(".")
    claims = json.loads(base64url_decode(forged[1]))
    claims["purposes"][0]["granted"] = not claims["purposes"][0]["granted"]
    forged[1] = base64url_encode(json.dumps(claims))
    (tmp_path / "receipt.json").write_text(json.dumps({"jws": ".".join(forged)}))
    ran = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ran.returncode != 0


def test_a_retried_save_answers_the_receipt_of_the_first(api: httpx.Client) -> None:
    visitor = secrets.token_urlsafe(18)
    version = api.get("/catalog").json()["currentVersion"]["version"]
    body = {"categories": {"functional": True, "analytics": False, "marketing": False}, "policyVersion": version}
    headers = {"Idempotency-Key": f"proof-retry-{secrets.token_hex(8)}"}
    first = api.put(f"/cookies/{visitor}", json=body, headers=headers).json()["receipt"]["claims"]["ledger"]
    again = api.put(f"/cookies/{visitor}", json=body, headers=headers).json()["receipt"]["claims"]["ledger"]
    assert first == again
    assert api.get(f"/cookies/{visitor}").json()["receipt"] is None


def run_timer(stack: LocalStack, name: str) -> None:
    base = stack.functions_url.removesuffix("/api")
    answer = httpx.post(
        f"{base}/admin/functions/{name}", json={}, headers={"x-functions-key": stack.master_key}, timeout=30
    )
    assert answer.status_code == 202


def test_the_hourly_seal_run_now_publishes_a_signed_chained_seal(
    api: httpx.Client, local_stack: LocalStack, functions_url: str
) -> None:
    before = api.get("/proof/seals").json()["latest"]
    save_cookies(api, secrets.token_urlsafe(18), marketing=True)
    time.sleep(1.1)
    run_timer(local_stack, "proof_seal_ledger")
    latest = before
    for _ in range(100):
        latest = api.get("/proof/seals").json()["latest"]
        if latest and (before is None or latest["number"] > before["number"]):
            break
        time.sleep(0.2)
    assert latest is not None
    assert before is None or latest["number"] == before["number"] + 1
    one = api.get(f"/proof/seals/{latest['number']}")
    assert one.status_code == 200
    assert "immutable" in one.headers["cache-control"]
    token = jws.JWS()
    token.deserialize(one.json()["jws"])
    certificate = jws.JWS()
    certificate.deserialize(token.jose_header["kcrt"])
    certificate.verify(jwk.JWKSet.from_json(api.get("/proof/jwks.json").text))
    token.verify(jwk.JWK(**json.loads(certificate.payload)["jwk"]), alg="ES256")
    claims = json.loads(token.payload)
    assert claims["documentType"] == "consent-ledger-seal"
    assert claims["number"] == latest["number"]
    assert api.get("/proof/seals/999999999").status_code == 404
    bad = api.get("/proof/seals/not-a-number")
    assert bad.status_code == 422
    assert "not-a-number" not in bad.text


def test_a_users_decision_answers_a_receipt_and_the_verifier_command_checks_it(
    api: httpx.Client, identity: Any, tmp_path: Path
) -> None:
    user = identity[0]
    token = user.token(f"proof-{secrets.token_hex(6)}")
    version = api.get("/catalog").json()["currentVersion"]["version"]
    answer = api.post(
        "/me/consents",
        json={"decisions": {"analytics": True}, "policyVersion": version},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    (tmp_path / "recorded.json").write_text(answer.text)
    (tmp_path / "jwks.json").write_text(api.get("/proof/jwks.json").text)
    proof = api.get("/me/consents/proof", headers={"Authorization": f"Bearer {token}"})
    assert proof.status_code == 200
    (tmp_path / "proof.json").write_text(proof.text)
    verify = [sys.executable, "-m", "functions.proof", "verify"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    receipt = subprocess.run(
        [*verify, "receipt", "recorded.json", "--jwks", "jwks.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert receipt.returncode == 0, receipt.stdout
    chain = subprocess.run(
        [*verify, "chain", "proof.json", "--jwks", "jwks.json", "--receipt", "recorded.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert chain.returncode == 0, chain.stdout
    assert "receipt of event 1 is signed and the ledger agrees with it" in chain.stdout
