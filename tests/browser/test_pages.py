"""The pages people see, in a real headless Chromium: the confirmation link from the mail, and the outbox."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from devstack.stack import LocalStack

pytestmark = pytest.mark.browser


def latest_link(local_stack: LocalStack, address: str) -> str:
    mails = httpx.get(f"{local_stack.mail_url}/_mails", params={"to": address}).json()
    text = next(c["value"] for c in mails[-1]["content"] if c["type"] == "text/plain")
    match = re.search(r"https?://\S+", text)
    assert match
    return match.group(0)


def test_a_person_confirms_their_request_from_the_mail(
    page: Page, functions_url: str, local_stack: LocalStack, tmp_path: Path
) -> None:
    address = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    httpx.post(f"{functions_url}/requests", json={"type": "access", "email": address}).raise_for_status()
    link = latest_link(local_stack, address)

    page.goto(link)
    expect(page.get_by_role("heading")).to_have_text("Confirm your privacy request")
    page.screenshot(path=tmp_path / "confirm.png")
    page.get_by_role("button", name="Confirm my request").click()
    expect(page.get_by_role("heading")).to_have_text("Thank you, your request is confirmed")
    expect(page.get_by_text("Reference:")).to_be_visible()
    page.screenshot(path=tmp_path / "confirmed.png")

    page.goto(link)  # the same link again, e.g. from a second click in the mail
    page.get_by_role("button", name="Confirm my request").click()
    expect(page.get_by_role("heading")).to_have_text("Link already used")
    assert address not in page.content()


def test_an_altered_link_shows_a_clear_page(page: Page, functions_url: str) -> None:
    page.goto(f"{functions_url}/requests/verify?token=not-a-real-token-at-all")
    page.get_by_role("button", name="Confirm my request").click()
    expect(page.get_by_role("heading")).to_have_text("Invalid link")


def test_the_outbox_lists_mails_and_opens_one(page: Page, functions_url: str, local_stack: LocalStack) -> None:
    address = f"outbox-{uuid.uuid4().hex[:8]}@example.com"
    httpx.post(f"{functions_url}/requests", json={"type": "erasure", "email": address}).raise_for_status()
    page.goto(f"{local_stack.mail_url}/")
    page.get_by_role("row", name=re.compile(re.escape(address))).get_by_role("link").click()
    expect(page.get_by_text("To confirm that it was you")).to_be_visible()


def test_html_mail_is_shown_without_running_its_scripts(page: Page, local_stack: LocalStack) -> None:
    address = f"html-{uuid.uuid4().hex[:8]}@example.com"
    mail = {
        "personalizations": [{"to": [{"email": address}]}],
        "from": {"email": "privacy@softwareengineeringconcepts.com"},
        "subject": "An HTML mail",
        "content": [
            {"type": "text/plain", "value": "plain part"},
            {"type": "text/html", "value": "<p id=greeting>hello</p><script>top.document.title='scripted'</script>"},
        ],
    }
    sent = httpx.post(f"{local_stack.mail_url}/v3/mail/send", json=mail, headers={"Authorization": "Bearer SG.x"})
    assert sent.status_code == 202
    page.goto(f"{local_stack.mail_url}/")
    page.get_by_role("row", name=re.compile(re.escape(address))).get_by_role("link").click()
    expect(page.frame_locator("iframe").locator("#greeting")).to_have_text("hello")
    assert page.locator("iframe").get_attribute("sandbox") == ""
    assert page.title() != "scripted"
