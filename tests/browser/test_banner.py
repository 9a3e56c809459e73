"""The cookie banner on a website, in headless Chromium: the site (http://localhost:3000) and the API
(the local Functions host on 127.0.0.1) are different origins, and the banner is included as a
website would include it, from the API's origin with its SRI hash."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, expect

from devstack.devkeys import DevIdentityProvider
from devstack.website import SITE, serve_site, site_page
from functions.proof.offline import check_receipt
from functions.proof.trust import PublishedKeys
from tests.browser.conftest import axe_violations, collect_page_errors

pytestmark = pytest.mark.browser

Shot = Callable[[Page, str], None]


@pytest.fixture
def site(browser: Browser, functions_url: str) -> Iterator[Callable[..., Page]]:
    """A fresh browser profile on the website; ``open(attributes=..., api=..., **context options)``."""
    contexts: list[BrowserContext] = []

    def open_site(attributes: str = "", api: str | None = None, **options: Any) -> Page:
        context = browser.new_context(**options)
        contexts.append(context)
        html = site_page(api or functions_url, attributes)
        serve_site(context, {"/": html, "/other": html})
        context.route(
            f"{SITE}/tag-2.js",
            lambda route: route.fulfill(
                body='window.ran = (window.ran || []).concat("analytics-2")', content_type="text/javascript"
            ),
        )
        return context.new_page()

    yield open_site
    for context in contexts:
        context.close()


def ran(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.ran || []")
    return found


def visitor(page: Page) -> str:
    vid: str = page.evaluate("privacyBanner.visitorId")
    return vid


def banner(page: Page) -> Any:
    return page.get_by_role("dialog")


def stored(api: httpx.Client, vid: str) -> dict[str, Any]:
    answer: dict[str, Any] = api.get(f"/cookies/{vid}").json()
    return answer


def chain(api: httpx.Client, vid: str) -> dict[str, Any]:
    proof: dict[str, Any] = api.get(f"/cookies/{vid}/proof").json()
    assert proof["verification"]["valid"] is True
    return proof


def publish_policy(api: httpx.Client, staff: DevIdentityProvider) -> dict[str, Any]:
    token = staff.token("dpo-1", ["Privacy.Publisher"])
    version = {"version": f"v-{uuid.uuid4().hex[:8]}", "text": f"Revised policy {uuid.uuid4()}.", "renewPurposes": []}
    published = api.post("/staff/policy-versions", json=version, headers={"Authorization": f"Bearer {token}"})
    assert published.status_code == 201, published.text
    current_version: dict[str, Any] = published.json()["currentVersion"]
    return current_version


@pytest.fixture
def staff(identity: tuple[DevIdentityProvider, DevIdentityProvider]) -> DevIdentityProvider:
    return identity[1]


def wait_for_decision(api: httpx.Client, vid: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        answer = stored(api, vid)
        if answer["reason"] == "current":
            return answer
        time.sleep(0.2)
    raise AssertionError("the decision never reached the server")


def test_first_visit_shows_the_banner_and_reject_all_is_kept_by_the_server(
    site: Callable[..., Page], api: httpx.Client, screenshots: Shot
) -> None:
    page = site()
    errors = collect_page_errors(page)
    page.goto(f"{SITE}/")
    dialog = banner(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Cookies on this site")).to_be_visible()
    buttons = dialog.get_by_role("button")
    expect(buttons).to_have_text(["Accept all", "Reject all", "Customize"])
    sizes = {(round(b["width"]), round(b["height"])) for b in (buttons.nth(i).bounding_box() for i in range(3)) if b}
    assert len(sizes) == 1  # equal prominence: the three choices are the same size
    screenshots(page, "banner")
    vid = visitor(page)
    assert stored(api, vid)["reason"] == "no-decision"

    with page.expect_response(lambda r: r.request.method == "PUT") as put:
        dialog.get_by_role("button", name="Reject all").click()
    assert put.value.status == 200
    expect(dialog).to_be_hidden()
    answer = stored(api, vid)
    assert answer["reason"] == "current"
    assert answer["categories"] == {"necessary": True, "functional": False, "analytics": False, "marketing": False}
    assert ran(page) == []

    page.reload()
    page.wait_for_function("privacyBanner.categories().necessary === true")
    expect(banner(page)).to_be_hidden()
    page.evaluate("localStorage.clear()")  # the local copy is a cache: the server still knows
    page.reload()
    page.wait_for_function("privacyBanner.categories().necessary === true")
    expect(banner(page)).to_be_hidden()
    assert ran(page) == []
    assert errors() == []


def test_accept_all_runs_tags_once_in_document_order_and_updates_consent_mode(
    site: Callable[..., Page], api: httpx.Client
) -> None:
    page = site()
    page.goto(f"{SITE}/")
    default = page.evaluate("Array.from(dataLayer[0])")
    assert default[0:2] == ["consent", "default"]
    assert default[2] == {
        "ad_storage": "denied",
        "ad_user_data": "denied",
        "ad_personalization": "denied",
        "analytics_storage": "denied",
        "functionality_storage": "denied",
        "personalization_storage": "denied",
        "security_storage": "granted",
        "wait_for_update": 500,
    }
    banner(page).get_by_role("button", name="Accept all").click()
    page.wait_for_function("(window.ran || []).length === 4")
    assert ran(page) == ["analytics-1", "marketing-1", "analytics-2", "analytics-3"]
    update = page.evaluate("Array.from(dataLayer[dataLayer.length - 1])")
    assert update[0:2] == ["consent", "update"]
    assert update[2]["analytics_storage"] == "granted"
    assert update[2]["ad_storage"] == "granted"
    page.evaluate("privacyBanner.show()")
    expect(banner(page).get_by_role("heading", name="Cookie preferences")).to_be_visible()
    assert ran(page) == ["analytics-1", "marketing-1", "analytics-2", "analytics-3"]  # once each
    assert chain(api, visitor(page))["verification"]["eventCount"] == 1


def test_the_page_load_makes_one_request_to_the_api_and_no_write(site: Callable[..., Page], api: httpx.Client) -> None:
    page = site()
    page.goto(f"{SITE}/")
    banner(page).get_by_role("button", name="Reject all").click()
    wait_for_decision(api, visitor(page))
    calls: list[str] = []
    origin = str(api.base_url).removesuffix("/api/").removesuffix("/api")

    def api_call(r: Request) -> None:
        if r.url.startswith(origin) and "/web/js/" not in r.url:  # the script itself is cached for a year
            calls.append(f"{r.method} {r.url}")

    page.on("request", api_call)
    page.goto(f"{SITE}/other")
    page.wait_for_function("privacyBanner.categories().necessary === true")
    page.wait_for_timeout(300)
    assert calls == [f"GET {api.base_url}/cookies/{visitor(page)}".replace("//cookies", "/cookies")]


def test_a_new_policy_revision_brings_the_banner_back_saying_why(
    site: Callable[..., Page], api: httpx.Client, staff: DevIdentityProvider, screenshots: Shot
) -> None:
    page = site()
    page.goto(f"{SITE}/")
    banner(page).get_by_role("button", name="Accept all").click()
    vid = visitor(page)
    before = wait_for_decision(api, vid)
    published = publish_policy(api, staff)
    assert published["revision"] == before["currentPolicyRevision"] + 1
    page.reload()
    dialog = banner(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Our privacy policy has changed since you last chose")).to_be_visible()
    assert ran(page) == []  # nothing optional runs until the visitor decides again
    screenshots(page, "policy-changed")
    dialog.get_by_role("button", name="Reject all").click()
    after = wait_for_decision(api, vid)
    assert after["policyRevision"] == published["revision"]


def test_a_stale_banner_recovers_from_409_without_loading_the_page_again(
    site: Callable[..., Page], api: httpx.Client, staff: DevIdentityProvider
) -> None:
    page = site()
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))
    page.goto(f"{SITE}/")
    dialog = banner(page)
    expect(dialog).to_be_visible()
    published = publish_policy(api, staff)  # while the banner is open
    with page.expect_response(lambda r: r.request.method == "PUT") as stale:
        dialog.get_by_role("button", name="Reject all").click()
    assert stale.value.status == 409
    expect(dialog.get_by_text("Our privacy policy has changed")).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "PUT") as fresh:
        dialog.get_by_role("button", name="Reject all").click()
    assert fresh.value.status == 200
    assert stored(api, visitor(page))["policyVersion"] == published["version"]
    assert len(loads) == 1


@pytest.mark.parametrize("signal", ["header", "javascript"])
def test_gpc_keeps_marketing_off_and_is_recorded_with_source_gpc(
    site: Callable[..., Page], api: httpx.Client, signal: str, screenshots: Shot
) -> None:
    if signal == "header":
        page = site(extra_http_headers={"Sec-GPC": "1"})
    else:  # a browser (or extension) that exposes the signal to scripts only: fetch cannot send Sec-GPC
        page = site()
        page.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})")
    page.goto(f"{SITE}/")
    dialog = banner(page)
    expect(dialog.get_by_text("Global Privacy Control signal")).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "PUT") as put:
        dialog.get_by_role("button", name="Accept all").click()
    assert put.value.json()["categories"]["marketing"] is False
    page.wait_for_function("(window.ran || []).length === 3")
    assert ran(page) == ["analytics-1", "analytics-2", "analytics-3"]
    event = chain(api, visitor(page))["events"][-1]
    assert event["decisions"]["cookie.marketing"] == {"granted": False, "source": "gpc"}
    assert event["decisions"]["cookie.analytics"] == {"granted": True, "source": "banner"}

    page.evaluate("privacyBanner.show()")
    dialog = banner(page)
    expect(dialog.get_by_role("checkbox", name="Marketing cookies", exact=True)).to_be_disabled()
    override = dialog.get_by_role("checkbox", name="Allow marketing cookies on this site anyway")
    expect(override).to_be_visible()
    screenshots(page, f"gpc-{signal}")


def test_marketing_tags_never_run_before_the_server_answers(
    site: Callable[..., Page], api: httpx.Client, functions_url: str
) -> None:
    page = site()
    page.goto(f"{SITE}/")
    banner(page).get_by_role("button", name="Accept all").click()
    page.wait_for_function("(window.ran || []).length === 4")
    held: list[Route] = []
    page.route(f"{functions_url}/cookies/**", lambda route: held.append(route))
    page.goto(f"{SITE}/other", wait_until="domcontentloaded")
    page.wait_for_timeout(500)  # the local copy says marketing is granted; the server has not answered
    assert held
    assert ran(page) == []
    assert page.evaluate("dataLayer.filter(e => e[1] === 'update').length") == 0
    held[0].continue_()
    page.wait_for_function("(window.ran || []).length === 4")


def test_with_the_api_down_the_banner_shows_nothing_loads_and_the_choice_is_sent_later(
    site: Callable[..., Page], api: httpx.Client, functions_url: str, screenshots: Shot
) -> None:
    page = site()
    errors = collect_page_errors(page)
    page.route(f"{functions_url}/cookies/**", lambda route: route.abort("connectionrefused"))
    page.goto(f"{SITE}/")
    dialog = banner(page)
    expect(dialog.get_by_text("We could not reach our server")).to_be_visible()
    screenshots(page, "api-down")
    dialog.get_by_role("button", name="Reject all").click()
    pending = page.evaluate("localStorage.getItem('privacy_visitor:pending')")
    assert json.loads(pending)["body"]["categories"] == []
    assert ran(page) == []
    vid = visitor(page)
    page.unroute(f"{functions_url}/cookies/**")  # the API answers again: the kept choice is sent
    answer = wait_for_decision(api, vid)
    assert answer["categories"]["analytics"] is False
    page.wait_for_function("localStorage.getItem('privacy_visitor:pending') === null")
    assert errors() == []


def test_tags_stay_inert_without_page_errors_when_the_banner_itself_cannot_load(site: Callable[..., Page]) -> None:
    page = site(api="http://127.0.0.1:9/api")  # nothing listens there (discard port)
    errors = collect_page_errors(page)
    page.route("http://127.0.0.1:9/**", lambda route: route.abort("connectionrefused"))
    page.goto(f"{SITE}/")
    assert page.evaluate("typeof window.privacyBanner") == "undefined"  # the script itself did not load
    assert ran(page) == []
    assert errors() == []


def test_keyboard_only(site: Callable[..., Page], api: httpx.Client, screenshots: Shot) -> None:
    page = site()
    page.goto(f"{SITE}/")
    dialog = banner(page)
    expect(dialog.get_by_role("button", name="Accept all")).to_be_focused()  # focus moved into the dialog
    for _ in range(6):  # Tab stays inside: policy link and three buttons, round and round
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
    expect(dialog.get_by_role("button", name="Customize")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("heading", name="Cookie preferences")).to_be_visible()
    expect(dialog.get_by_role("checkbox", name="Functional cookies")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("checkbox", name="Analytics cookies")).to_be_focused()
    page.keyboard.press("Space")
    screenshots(page, "preferences-keyboard")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Save choices")).to_be_focused()
    page.keyboard.press("Enter")
    answer = wait_for_decision(api, visitor(page))
    assert answer["categories"] == {"necessary": True, "functional": False, "analytics": True, "marketing": False}
    expect(dialog).to_be_hidden()

    settings = page.get_by_role("link", name="Cookie settings")  # reopening from the page returns focus there
    settings.focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("heading", name="Cookie preferences")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(settings).to_be_focused()


def test_axe_finds_no_violations_on_the_banner_and_the_preferences(site: Callable[..., Page]) -> None:
    page = site()
    page.goto(f"{SITE}/")
    expect(banner(page)).to_be_visible()
    assert axe_violations(page, "dialog") == []
    banner(page).get_by_role("button", name="Customize").click()
    expect(banner(page).get_by_role("heading", name="Cookie preferences")).to_be_visible()
    assert axe_violations(page, "dialog") == []


def test_texts_in_another_language(site: Callable[..., Page]) -> None:
    page = site('data-lang="de"')
    page.goto(f"{SITE}/")
    dialog = banner(page)
    expect(dialog.get_by_role("heading", name="Cookies auf dieser Website")).to_be_visible()
    expect(dialog.get_by_role("button")).to_have_text(["Alle akzeptieren", "Alle ablehnen", "Anpassen"])
    assert dialog.get_attribute("lang") == "de"


def test_the_signed_receipt_of_a_save_is_kept_for_the_visitor(site: Callable[..., Page], functions_url: str) -> None:
    page = site()
    page.goto(f"{SITE}/")
    assert page.evaluate("privacyBanner.receipt()") is None
    with page.expect_response(lambda r: r.request.method == "PUT" and "/cookies/" in r.url) as saved:
        banner(page).get_by_role("button", name="Reject all").click()
    answered = saved.value.json()["receipt"]
    page.wait_for_function("privacyBanner.receipt() !== null")
    kept = page.evaluate("privacyBanner.receipt()")
    assert kept == answered
    visitor = page.evaluate("privacyBanner.visitorId")
    keys = PublishedKeys.from_jwks(httpx.get(f"{functions_url}/proof/jwks.json").json())
    verified = check_receipt(kept, keys)  # raises unless the published keys sign it
    assert verified.claims == kept["claims"]
    assert kept["claims"]["piiPrincipalId"] == f"visitor:{visitor}"
    assert {p["consentStatus"] for p in kept["claims"]["purposes"]} == {"refused"}
    # The next page view's read records nothing, so it answers no receipt: the kept one stays.
    with page.expect_response(lambda r: r.request.method == "GET" and r.url.endswith(f"/cookies/{visitor}")) as read:
        page.reload()
    assert read.value.json()["receipt"] is None
    assert page.evaluate("privacyBanner.receipt()") == kept


def test_the_notice_staff_published_is_shown_once_until_dismissed_and_gone_once_retired(
    site: Callable[..., Page],
    api: httpx.Client,
    staff: DevIdentityProvider,
    screenshots: Shot,
) -> None:
    publisher = {"Authorization": f"Bearer {staff.token('publisher-banner', ['Privacy.Publisher'])}"}
    title = f"We are joining Example Group ({uuid.uuid4().hex[:6]})"
    body = {
        "kind": "business-transfer",
        "title": title,
        "text": "Your data stays under the same policy.",
        "link": "https://example.com/transfer",
        "byEmail": False,
    }
    published = api.post("/staff/notices", json=body, headers=publisher)
    assert published.status_code == 201, published.text
    notice_id = published.json()["id"]
    try:
        page = site()
        page.goto(f"{SITE}/")
        banner(page).get_by_role("button", name="Reject all").click()
        wait_for_decision(api, visitor(page))
        page.reload()
        shown = page.get_by_role("region", name=title)
        expect(shown).to_contain_text("Your data stays under the same policy.")
        expect(shown.get_by_role("link", name="Read more")).to_have_attribute("href", "https://example.com/transfer")
        screenshots(page, "notice")
        assert axe_violations(page, ".pb-notices") == []
        shown.get_by_role("button", name="Dismiss").click()
        page.reload()
        page.wait_for_function("privacyBanner.categories().necessary === true")
        page.wait_for_timeout(300)
        expect(page.get_by_role("region", name=title)).to_have_count(0)
    finally:
        assert api.post(f"/staff/notices/{notice_id}/retire", headers=publisher).status_code == 200
    retired = site()  # a new visitor: the board no longer has it
    with retired.expect_response(lambda answer: "/cookies/" in answer.url) as read:
        retired.goto(f"{SITE}/")
    assert read.value.ok
    assert notice_id not in [n["id"] for n in read.value.json()["notices"]]
    expect(banner(retired)).to_be_visible()
    expect(retired.get_by_role("region", name=title)).to_have_count(0)
