"""The privacy page the function app serves, in headless Chromium: a request from the form reaches the
verification mail, its status by the reference from the mail; signed in (the dashboard hands over a
token), consents per purpose, the verified history, the requests and the archive's download."""

from __future__ import annotations

import re
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import stripe
from playwright.sync_api import Browser, Page, expect
from sendgrid import SendGridAPIClient

from adapters.cosmos import CosmosDocumentStore, connect
from core.containers import database_spec
from devstack.demo_data import DemoPerson, seed_person
from devstack.devkeys import DevIdentityProvider
from devstack.services import COSMOS_LOCAL_KEY, SENDGRID_LOCAL_KEY, STRIPE_LOCAL_KEY
from devstack.stack import LocalStack
from tests.browser.conftest import axe_violations, collect_page_errors

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], None]
REFERENCE = re.compile(r"reference ([0-9a-f-]{36})")


@pytest.fixture
def privacy(browser: Browser, functions_url: str) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{functions_url}/web/privacy")
    yield page
    context.close()


def mails_to(local_stack: LocalStack, address: str, wait: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + wait
    while True:
        found: list[dict[str, Any]] = httpx.get(f"{local_stack.mail_url}/_mails", params={"to": address}).json()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def text_of(mail: dict[str, Any]) -> str:
    return str(next(c["value"] for c in mail["content"] if c["type"] == "text/plain"))


def test_a_request_from_the_form_reaches_the_verification_mail_and_its_status_can_be_followed(
    privacy: Page, local_stack: LocalStack, screenshots: Shot
) -> None:
    errors = collect_page_errors(privacy)
    address = f"page-{uuid.uuid4().hex[:8]}@example.com"
    form = privacy.locator("#request-form")
    form.get_by_label("The erasure of my personal data").check()
    form.get_by_label("Email address").fill(address)
    form.get_by_label("Where do you live?").select_option("GDPR")
    form.get_by_role("button", name="Send request").click()
    expect(privacy.locator("#request-result")).to_contain_text("If we can reach you at that address")
    screenshots(privacy, "acknowledged")
    (mail,) = mails_to(local_stack, address)
    assert mail["subject"] == "Confirm your privacy request"
    match = REFERENCE.search(text_of(mail))
    assert match
    assert address not in privacy.content()

    status = privacy.locator("#status-form")
    status.get_by_label("Reference from our email").fill(match.group(1))
    status.get_by_role("button", name="Show status").click()
    result = privacy.locator("#status-result")
    expect(result).to_contain_text("Waiting for you to confirm it from our email")
    expect(result).to_contain_text("Erasure of your personal data")
    due = re.search(r"by (\d{4}-\d{2}-\d{2})", text_of(mail))
    assert due
    expect(result).to_contain_text(due.group(1))
    screenshots(privacy, "status")

    status.get_by_label("Reference from our email").fill(str(uuid.uuid4()))
    status.get_by_role("button", name="Show status").click()
    expect(result).to_contain_text("We found no request with that reference")
    assert errors() == []


def test_a_bad_address_is_said_and_nothing_is_sent(privacy: Page, local_stack: LocalStack) -> None:
    form = privacy.locator("#request-form")
    form.get_by_label("Email address").fill("not an address")
    form.get_by_role("button", name="Send request").click()
    expect(privacy.locator("#request-result")).to_contain_text("Please enter a valid email address")
    expect(form.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")


def test_signed_in_consents_history_requests_and_the_download(
    privacy: Page,
    local_stack: LocalStack,
    identity: tuple[DevIdentityProvider, DevIdentityProvider],
    screenshots: Shot,
) -> None:
    store = CosmosDocumentStore(
        connect(f"https://127.0.0.1:{local_stack.ports.cosmos}/", COSMOS_LOCAL_KEY, verify_tls=False), database_spec()
    )
    person = DemoPerson(f"page-user-{uuid.uuid4().hex[:8]}@example.com", "Paige Example")
    seeded = seed_person(
        store,
        local_stack.app_settings()["SUBJECT_HASH_PEPPER"],
        person,
        stripe_client=stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": local_stack.stripe_url}),
        sendgrid_client=SendGridAPIClient(api_key=SENDGRID_LOCAL_KEY, host=local_stack.mail_url),
        navigation=2,
    )
    token = identity[0].token(seeded.user_id)
    privacy.evaluate("token => privacyPage.signIn(() => token)", token)  # as the dashboard hands it over
    account = privacy.locator("#account")
    expect(account).to_be_visible()
    expect(privacy.get_by_label("Email address")).to_be_hidden()  # a signed-in request needs no address

    analytics = account.get_by_role("checkbox", name="Analytics (Google Analytics)")
    expect(analytics).not_to_be_checked()
    analytics.check()
    account.get_by_role("button", name="Save consents").click()
    expect(privacy.locator("#consent-result")).to_contain_text("Saved")
    expect(privacy.locator("#history-check")).to_contain_text("Verified: all 1 entries are intact")
    expect(privacy.locator("#history tbody tr")).to_have_count(1)
    expect(privacy.locator("#history tbody")).to_contain_text("Analytics (Google Analytics): allowed")

    privacy.locator("#request-form").get_by_role("button", name="Send request").click()  # access, by default
    expect(privacy.locator("#request-result")).to_contain_text("We received your request")
    rows = privacy.locator("#my-requests tbody tr")
    expect(rows).to_have_count(1)
    download = privacy.get_by_role("button", name=re.compile("Download the archive"))
    deadline = time.monotonic() + 90
    while not download.count() and time.monotonic() < deadline:  # the steps run on the queue meanwhile
        time.sleep(0.5)
        privacy.evaluate("token => privacyPage.signIn(() => token)", token)
    screenshots(privacy, "signed-in")
    with privacy.expect_download() as archive:
        download.click()
    path = archive.value.path()
    with zipfile.ZipFile(path) as zipped:
        assert "README.txt" in zipped.namelist()
    assert axe_violations(privacy) == []


def test_axe_finds_no_violations_on_the_privacy_page(privacy: Page, functions_url: str) -> None:
    expect(privacy.get_by_role("heading", name="Your privacy", exact=True)).to_be_visible()
    expect(privacy.locator("#purposes li").first).to_be_visible()
    assert axe_violations(privacy) == []
    headers = httpx.get(f"{functions_url}/web/privacy").headers
    assert "script-src http://127.0.0.1" in headers["content-security-policy"]
    assert "'unsafe-inline'" not in headers["content-security-policy"]


def test_the_page_shows_the_retention_table_and_the_sub_processors_the_privacy_facts_state(
    privacy: Page, functions_url: str
) -> None:
    facts = httpx.get(f"{functions_url}/privacy-facts").json()
    assert facts["retention"]
    assert facts["subprocessors"]
    retention = privacy.locator("#retention tbody tr")
    expect(retention).to_have_count(len(facts["retention"]))
    first = facts["retention"][0]
    expect(retention.first).to_contain_text(first["category"])
    expect(retention.first).to_contain_text(first["period"]["text"])
    expect(retention.first).to_contain_text(first["reason"])
    subprocessors = privacy.locator("#subprocessors tbody tr")
    expect(subprocessors).to_have_count(len(facts["subprocessors"]))
    for index, vendor in enumerate(facts["subprocessors"]):
        expect(subprocessors.nth(index)).to_contain_text(vendor["name"])
        expect(subprocessors.nth(index)).to_contain_text(vendor["transferMechanism"])
    assert axe_violations(privacy, "#retention-part") == []


def test_keyboard_reaches_every_control_of_the_form(privacy: Page) -> None:
    privacy.keyboard.press("Tab")
    expect(privacy.get_by_role("link", name="Skip to content")).to_be_focused()
    privacy.keyboard.press("Enter")
    reached = []
    for _ in range(8):
        privacy.keyboard.press("Tab")
        reached.append(privacy.evaluate("document.activeElement.name || document.activeElement.textContent"))
    assert {"type", "email", "jurisdiction", "child", "Send request"} <= set(reached)
