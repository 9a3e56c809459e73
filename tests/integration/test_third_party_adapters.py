"""Stripe, SendGrid and Blob adapters against the local stack's stand-ins (localstripe, the mail
server, Azurite), built from the same settings the app reads. No fakes."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
import time
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import stripe
from azure.storage.blob import BlobServiceClient
from sendgrid import SendGridAPIClient

from adapters.blob_archives import BlobArchiveStore
from adapters.sendgrid_email import SendGridMailer, SendGridMarketingContacts
from adapters.stripe_payments import CARD_FIELDS, StripeLookupFailed, StripePayments
from core.ports import Confirmation
from core.settings import Settings
from devstack.stack import LocalStack
from functions.inventory.ports import ContactNotDeleted

pytestmark = pytest.mark.integration

FULL_CARD_NUMBER = "4242424242424242"
MiB = 1024 * 1024


def _address(tag: str) -> str:
    return f"dsr-{tag}-{uuid.uuid4().hex[:12]}@example.com"


# --- Stripe -----------------------------------------------------------------------------------------


@pytest.fixture
def stripe_sdk(app_settings: dict[str, str]) -> stripe.StripeClient:
    """The SDK itself, to put data into localstripe the way a product backend would."""
    return stripe.StripeClient(app_settings["STRIPE_API_KEY"], base_addresses={"api": app_settings["STRIPE_API_BASE"]})


@pytest.fixture
def payments(app_settings: dict[str, str]) -> StripePayments:
    return StripePayments.from_settings(Settings(app_settings))


def _customer_with_card_and_charge(sdk: stripe.StripeClient, email: str) -> str:
    customer = sdk.v1.customers.create(params={"email": email, "name": "Ada Example"})
    method = sdk.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": FULL_CARD_NUMBER, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            "billing_details": {"name": "Ada Example"},
        }
    )
    sdk.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    sdk.v1.charges.create(params={"amount": 1200, "currency": "eur", "customer": customer.id, "source": method.id})
    return customer.id


def test_a_stripe_customer_is_found_exported_without_card_secrets_and_deleted_once(
    stripe_sdk: stripe.StripeClient, payments: StripePayments
) -> None:
    email = _address("stripe")
    customer_id = _customer_with_card_and_charge(stripe_sdk, email)
    stripe_sdk.v1.customers.create(params={"email": _address("someone-else")})

    assert payments.find_customer_ids(email) == [customer_id]
    assert payments.find_customer_ids(email.upper()) == [customer_id]  # the lower-case form is asked too
    assert payments.find_customer_ids("  ") == []

    export = payments.export_customer(customer_id)
    text = json.dumps(export)  # JSON-ready: plain dicts and lists only
    assert FULL_CARD_NUMBER not in text
    assert '"cvc"' not in text
    assert export["customer"]["id"] == customer_id
    assert export["customer"]["email"] == email
    [method] = export["paymentMethods"]
    assert method["card"]["last4"] == "4242"
    assert method["card"]["exp_year"] == 2030
    assert set(method["card"]) <= set(CARD_FIELDS)
    assert "three_d_secure_usage" not in method["card"]  # anything else under card is dropped
    assert method["billing_details"] == {"name": "Ada Example"}
    [charge] = export["charges"]
    assert charge["amount"] == 1200
    assert charge["customer"] == customer_id

    key = f"dsr-{uuid.uuid4().hex}-stripe"
    confirmation = payments.delete_customer(customer_id, key)
    assert confirmation == Confirmation("stripe", "customer.deleted", customer_id)
    assert payments.find_customer_ids(email) == []
    with pytest.raises(stripe.InvalidRequestError):
        stripe_sdk.v1.customers.retrieve(customer_id)  # localstripe: 404 for a deleted customer

    # A retried step: same confirmation, no error, nothing deleted twice.
    assert payments.delete_customer(customer_id, key) == confirmation
    # A stale customer id exports as Stripe describes a deleted customer instead of failing.
    assert payments.export_customer(customer_id) == {
        "customer": {"id": customer_id, "object": "customer", "deleted": True},
        "paymentMethods": [],
        "charges": [],
    }


def test_stripe_lookup_pages_through_every_customer_with_the_address(
    stripe_sdk: stripe.StripeClient, payments: StripePayments
) -> None:
    email = _address("many")
    created = {stripe_sdk.v1.customers.create(params={"email": email}).id for _ in range(103)}  # > one page of 100
    found = payments.find_customer_ids(email)
    assert len(found) == 103
    assert set(found) == created


def test_a_failed_stripe_lookup_never_carries_the_address() -> None:
    with socket.socket() as s:  # a port nobody listens on: a real network error
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    email = _address("unreachable")
    with pytest.raises(StripeLookupFailed) as caught:
        StripePayments("sk_test_local_stack", f"http://127.0.0.1:{port}").find_customer_ids(email)
    error = caught.value
    local_part = email.split("@")[0]
    assert local_part not in str(error)
    assert local_part not in repr(error)
    assert error.__cause__ is None
    assert error.__context__ is None  # the SDK's error quotes the URL with the address
    assert error.retryable


# --- SendGrid ---------------------------------------------------------------------------------------


@pytest.fixture
def sendgrid_sdk(app_settings: dict[str, str]) -> SendGridAPIClient:
    return SendGridAPIClient(api_key=app_settings["SENDGRID_API_KEY"], host=app_settings["SENDGRID_API_HOST"])


@pytest.fixture
def contacts(app_settings: dict[str, str]) -> SendGridMarketingContacts:
    return SendGridMarketingContacts.from_settings(Settings(app_settings))


def _mails_to(local_stack: LocalStack, address: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{local_stack.mail_url}/_mails", params={"to": address}, timeout=10)
    response.raise_for_status()
    mails: list[dict[str, Any]] = response.json()
    return mails


def test_a_mail_sent_through_the_mailer_reaches_the_mail_server(
    local_stack: LocalStack, app_settings: dict[str, str]
) -> None:
    mailer = SendGridMailer.from_settings(Settings(app_settings))
    to = _address("mail")
    message_id = mailer.send(to, "Your data export is ready", "Download it within 7 days.", "dsr-export")

    [mail] = _mails_to(local_stack, to)
    assert mail["id"] == message_id
    assert mail["from"] == "privacy@softwareengineeringconcepts.com"
    assert mail["subject"] == "Your data export is ready"
    assert mail["content"] == [{"type": "text/plain", "value": "Download it within 7 days."}]
    assert mail["categories"] == ["dsr-export"]
    tracking = mail["request"]["tracking_settings"]
    assert tracking["click_tracking"]["enable"] is False
    assert tracking["open_tracking"]["enable"] is False
    assert mail["suppressed"] == []


def test_an_empty_address_has_no_marketing_data(contacts: SendGridMarketingContacts) -> None:
    assert contacts.export_contact("") == {"contact": None, "globalSuppression": None, "unsubscribes": []}
    assert contacts.delete_contact(" ") is None


def test_privacy_mails_reach_a_globally_suppressed_address(
    local_stack: LocalStack, app_settings: dict[str, str], contacts: SendGridMarketingContacts
) -> None:
    # An erasure suppresses the address, then mails its confirmation: that mail must still arrive.
    settings = Settings(app_settings)
    to = _address("erased")
    contacts.suppress(to)

    SendGridMailer.from_settings(settings).send(to, "Erased", "Done", "dsr-erasure-done")
    SendGridMailer.from_settings(settings, bypass_global_unsubscribes=False).send(to, "Other", "Hi", "other")

    mails = {m["subject"]: m for m in _mails_to(local_stack, to)}
    assert mails["Erased"]["suppressed"] == []
    assert mails["Erased"]["request"]["mail_settings"] == {"bypass_unsubscribe_management": {"enable": True}}
    assert mails["Other"]["suppressed"] == [to]  # what SendGrid would drop


def test_a_marketing_contact_is_exported_deleted_once_and_suppressed(
    sendgrid_sdk: SendGridAPIClient, contacts: SendGridMarketingContacts
) -> None:
    email = _address("contact").replace("dsr-", "dsr+tag-")  # "+" travels in a path segment too
    sendgrid_sdk.client.marketing.contacts.put(
        request_body={"contacts": [{"email": email, "first_name": "Ada", "city": "Utrecht"}]}
    )

    export = contacts.export_contact(email)
    assert export["contact"]["email"] == email
    assert export["contact"]["first_name"] == "Ada"
    assert export["contact"]["city"] == "Utrecht"
    assert export["globalSuppression"] is None
    assert export["unsubscribes"] == []

    deleted = contacts.delete_contact(email)
    assert deleted is not None
    assert (deleted.system, deleted.action) == ("sendgrid", "contact.deleted")
    assert deleted.reference  # the deletion job id
    assert contacts.export_contact(email)["contact"] is None
    assert contacts.delete_contact(email) is None  # a retry after the delete does nothing

    # An address that merely starts with this one must not show up in its export.
    longer = email.replace("@example.com", "@example.community")
    contacts.suppress(longer)
    assert contacts.suppress(email) == Confirmation("sendgrid", "suppression.added", "asm-global")
    assert contacts.suppress(email) == Confirmation("sendgrid", "suppression.added", "asm-global")  # twice is fine

    export = contacts.export_contact(email)
    assert export["contact"] is None
    assert export["globalSuppression"] == {"recipient_email": email}
    assert [row["email"] for row in export["unsubscribes"]] == [email]
    assert datetime.fromisoformat(export["unsubscribes"][0]["created"]).tzinfo is not None  # ISO, for people


class _FindsTheContact(BaseHTTPRequestHandler):
    """SendGrid finding the contact, and then refusing its deletion (500) or not answering it at all."""

    refuse = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        (email,) = json.loads(self.rfile.read(length))["emails"]
        self._answer(200, {"result": {email: {"contact": {"id": "c-1", "email": email}}}})

    def do_DELETE(self) -> None:
        if self.refuse:
            self._answer(500, {"errors": [{"message": "internal error"}]})
        else:
            time.sleep(2)  # longer than the client waits

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Silent(_FindsTheContact):
    refuse = False


@pytest.mark.parametrize(("handler", "raised"), [(_FindsTheContact, ContactNotDeleted), (_Silent, TimeoutError)])
def test_a_contact_deletion_says_whether_sendgrid_surely_deleted_nothing(
    handler: type[_FindsTheContact], raised: type[Exception]
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        contacts = SendGridMarketingContacts("SG.any", f"http://127.0.0.1:{server.server_port}", timeout=0.5)
        with pytest.raises(raised) as failed:  # refused: no job; unanswered: the job may be under way
            contacts.delete_contact(_address("deletion"))
        assert "@" not in str(failed.value)
    finally:
        server.shutdown()
        server.server_close()


def test_sendgrid_out_of_reach_deletes_nothing(app_settings: dict[str, str]) -> None:
    with socket.socket() as spare:  # a port nobody listens on
        spare.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{spare.getsockname()[1]}"
    with pytest.raises(ContactNotDeleted):
        SendGridMarketingContacts(app_settings["SENDGRID_API_KEY"], nobody, timeout=2).delete_contact(_address("x"))


# --- Blob archives ----------------------------------------------------------------------------------


@pytest.fixture
def archives(app_settings: dict[str, str]) -> BlobArchiveStore:
    return BlobArchiveStore.from_settings(Settings(app_settings))


def _subject_key() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()  # what a keyed hash looks like


def _consent_events(count: int) -> Iterator[dict[str, Any]]:
    """Small items, made one at a time: nothing here holds them all."""
    for i in range(count):
        yield {
            "id": f"{i + 1:08d}",
            "purpose": "analytics" if i % 3 else "marketing-email",
            "granted": i % 2 == 0,
            "recordedAt": f"2026-11-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
            "noticeTextHash": "sha256:" + hashlib.sha256(str(i).encode()).hexdigest(),
        }


def _peak_while_writing(store: BlobArchiveStore, count: int) -> tuple[int, int]:
    """Peak traced memory (bytes above the start) while ``count`` items are added, and blocks staged."""
    writer = store.open_archive(_subject_key(), uuid.uuid4().hex)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        assert writer.add_json_array("consent-events.json", _consent_events(count)) == count
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    writer.close()
    return peak, writer.blocks_staged


def test_an_archive_streams_into_blob_storage_and_is_shared_by_a_read_only_link(
    local_stack: LocalStack, app_settings: dict[str, str], archives: BlobArchiveStore
) -> None:
    subject_key, request_id = _subject_key(), uuid.uuid4().hex
    writer = archives.open_archive(subject_key, request_id)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        count = writer.add_json_array("consent-events.json", _consent_events(20_000))
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    print(f"\n20,000 items: {time.perf_counter() - started:.2f}s (traced), peak {peak / MiB:.2f} MiB")
    assert count == 20_000
    assert peak < 20 * MiB
    writer.add_json("manifest.json", {"requestId": request_id, "files": ["consent-events.json"]})
    writer.add_text("README.txt", "Your data, as we hold it.\n")
    blob_name = writer.close()
    assert blob_name == f"{subject_key}/{request_id}.zip"

    link = archives.share_link(blob_name, timedelta(minutes=15))
    response = httpx.get(link, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        events = json.loads(archive.read("consent-events.json"))
        assert json.loads(archive.read("manifest.json"))["requestId"] == request_id
        assert archive.read("README.txt") == b"Your data, as we hold it.\n"
    assert len(events) == 20_000
    assert events[0] == next(_consent_events(1))
    assert events[-1]["id"] == "00020000"

    # Read-only: the link cannot write.
    write = httpx.put(link, content=b"x", headers={"x-ms-blob-type": "BlockBlob"}, timeout=30)
    assert write.status_code == 403
    # A changed signature is refused.
    tampered = link.replace("sig=", "sig=AAAA")
    assert httpx.get(tampered, timeout=30).status_code == 403
    # An expired link is refused.
    short = archives.share_link(blob_name, timedelta(seconds=1))
    time.sleep(2.5)
    assert httpx.get(short, timeout=30).status_code == 403

    # Deleting removes the archive and its snapshots; a second delete finds nothing.
    service = BlobServiceClient.from_connection_string(app_settings["AzureWebJobsStorage"])
    container = service.get_container_client("exports")
    container.get_blob_client(blob_name).create_snapshot()
    assert archives.delete_archives(subject_key) == [Confirmation("blob", "archive.deleted", blob_name)]
    assert list(container.list_blobs(name_starts_with=f"{subject_key}/", include=["snapshots"])) == []
    assert httpx.get(link, timeout=30).status_code == 404
    assert archives.delete_archives(subject_key) == []


def test_every_archive_of_a_subject_is_deleted_and_no_other(archives: BlobArchiveStore) -> None:
    subject_key, other_key = _subject_key(), _subject_key()
    names = []
    for key in (subject_key, subject_key, other_key):
        with archives.open_archive(key, uuid.uuid4().hex) as writer:
            writer.add_json("profile.json", {"n": 1})
        names.append(writer.blob_name)
    deleted = archives.delete_archives(subject_key)
    assert sorted(c.reference for c in deleted) == sorted(names[:2])
    assert {(c.system, c.action) for c in deleted} == {("blob", "archive.deleted")}
    assert archives.delete_archives(other_key) == [Confirmation("blob", "archive.deleted", names[2])]


def test_deleting_archives_in_a_missing_container_is_not_an_error(app_settings: dict[str, str]) -> None:
    service = BlobServiceClient.from_connection_string(app_settings["AzureWebJobsStorage"])
    store = BlobArchiveStore(service, container=f"missing-{uuid.uuid4().hex[:12]}")
    assert store.delete_archives(_subject_key()) == []


def test_a_failed_item_source_publishes_nothing(archives: BlobArchiveStore) -> None:
    subject_key = _subject_key()

    def failing() -> Iterator[dict[str, Any]]:
        yield from _consent_events(10)
        raise ConnectionError("the database went away")

    writer = archives.open_archive(subject_key, uuid.uuid4().hex)
    with pytest.raises(ConnectionError):
        writer.add_json_array("consent-events.json", failing())
    with pytest.raises(RuntimeError):
        writer.close()
    assert archives.delete_archives(subject_key) == []  # nothing was committed


def test_memory_stays_flat_however_many_items_are_written(app_settings: dict[str, str]) -> None:
    # Blocks of 64 KiB so that both archives span many blocks: what stays in memory is one block
    # and the compressor, not the items. (With the default 4 MiB blocks an archive smaller than a
    # block is held until close, so the two sizes below would both fit in one block.)
    service = BlobServiceClient.from_connection_string(app_settings["AzureWebJobsStorage"])
    store = BlobArchiveStore(service, block_size=64 * 1024)
    _peak_while_writing(store, 200)  # first use: lazy imports and connection set-up are not per item
    small_peak, small_blocks = _peak_while_writing(store, 2_000)
    large_peak, large_blocks = _peak_while_writing(store, 20_000)
    print(f"\npeak: 2,000 items {small_peak / 1024:.0f} KiB, 20,000 items {large_peak / 1024:.0f} KiB")
    assert small_blocks >= 2
    assert large_blocks > small_blocks
    assert large_peak < 20 * MiB
    assert large_peak / small_peak < 2
